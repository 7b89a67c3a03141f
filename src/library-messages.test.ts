/**
 * Library code names options by their API names; only src/cli knows flags. A library user calling
 * `runTransfer` or `loadEncoder` has no `--img-size`: a flag in a message of theirs is a riddle.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../test/support/shared-data.js";

const SRC = join(REPO_ROOT, "src");
/** `--name`, or `--${...}` in a template. */
const FLAG = /(?:^|[^\w-])--(?:[a-z]|\$\{)/;
/** Flags of other programs that a fix may quote. */
const FOREIGN_FLAGS = /\bsbatch --array=/g;

async function librarySources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return path === join(SRC, "cli") ? [] : librarySources(path);
      return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
    }),
  );
  return nested.flat();
}

/** Every string literal's text, a template's with `${}` for its expressions, and its line. */
function stringLiterals(file: ts.SourceFile): { text: string; line: number }[] {
  const found: { text: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.push({ text: node.text, line });
    if (ts.isTemplateExpression(node)) {
      found.push({ text: node.head.text + node.templateSpans.map((span) => "${}" + span.literal.text).join(""), line });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

test("no string in library code (src/ outside src/cli) names a CLI flag", async () => {
  const offenders: string[] = [];
  for (const path of await librarySources(SRC)) {
    const file = ts.createSourceFile(path, await readFile(path, "utf8"), ts.ScriptTarget.Latest, true);
    for (const { text, line } of stringLiterals(file)) {
      if (FLAG.test(text.replace(FOREIGN_FLAGS, ""))) offenders.push(`${relative(REPO_ROOT, path)}:${line}: ${text}`);
    }
  }
  assert.deepEqual(offenders, [], "name the option by its API name, and give the error its `option` (errors.ts)");
});

test("the check sees a flag in a string and a template, and not in a comment or a decrement", () => {
  const source = ['const a = "use --img-size";', "const b = `pass --${name}`;", "// --arch in a comment", "n = --count;"].join("\n");
  const file = ts.createSourceFile("x.ts", source, ts.ScriptTarget.Latest, true);
  assert.deepEqual(
    stringLiterals(file)
      .filter(({ text }) => FLAG.test(text))
      .map(({ line }) => line),
    [1, 2],
  );
});
