/**
 * The layer order of docs/ARCHITECTURE.md, kept: every relative import of a non-test source under
 * src/ and web/ goes to a file of its own folder or to a folder (or root file) of a lower layer.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "./support/shared-data.js";

const ARCHITECTURE = "docs/ARCHITECTURE.md";
const LAYERED = ["src", "web"];
const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g;

/** Each unit of the layer block (`transfer/`, `index.ts`, `web/`) -> its layer. */
function readLayers(): Map<string, number> {
  const layers = new Map<string, number>();
  for (const [, layer, units] of readFileSync(join(REPO_ROOT, ARCHITECTURE), "utf8").matchAll(/^layer\s+(\d+)\s+(.+)$/gm)) {
    for (const unit of units!.trim().split(/\s+/)) {
      assert.ok(!layers.has(unit), `${ARCHITECTURE}: ${unit} is in two layers`);
      layers.set(unit, Number(layer));
    }
  }
  return layers;
}

/** The unit of a repository path: `transfer/` for src/transfer/..., `index.ts` for src/index.ts, `web/`; null elsewhere. */
function unitOf(path: string): string | null {
  const [root, first, ...rest] = path.split("/");
  if (root === "web") return "web/";
  if (root !== "src") return null;
  return rest.length > 0 ? `${first}/` : first!;
}

/** Non-test TypeScript sources under `dir`, as repository paths. */
function sources(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

type Import = { file: string; spec: string; from: string; to: string | null };

/** Every relative import that leaves its file's unit. */
function crossImports(files: readonly string[]): Import[] {
  return files.flatMap((file) =>
    [...readFileSync(join(REPO_ROOT, file), "utf8").matchAll(RELATIVE_IMPORT)]
      .map(([, spec]) => ({
        file,
        spec: spec!,
        from: unitOf(file)!,
        to: unitOf(posix.join(posix.dirname(file), spec!.replace(/\.js$/, ".ts"))),
      }))
      .filter((i) => i.to !== i.from),
  );
}

function describe({ file, spec, from, to }: Import, layers: Map<string, number>): string {
  if (to === null) return `${file} imports "${spec}", outside src/ and web/`;
  return `${file} imports "${spec}": ${from} (layer ${layers.get(from)}) may not import ${to} (layer ${layers.get(to)})`;
}

test(`every import in src/ and web/ goes to its own folder or a lower layer of ${ARCHITECTURE}`, () => {
  const layers = readLayers();
  const files = LAYERED.flatMap(sources);
  const units = new Set(files.map((file) => unitOf(file)!));
  assert.deepEqual(
    [...units].filter((unit) => !layers.has(unit)),
    [],
    `folders or root files without a layer: give each a line in ${ARCHITECTURE}`,
  );
  assert.deepEqual(
    [...layers.keys()].filter((unit) => !units.has(unit)),
    [],
    `${ARCHITECTURE} names units that do not exist`,
  );
  const wrong = crossImports(files).filter(({ from, to }) => to === null || !(layers.get(from)! > layers.get(to)!));
  if (wrong.length > 0) {
    const list = wrong.map((i) => `  ${describe(i, layers)}`).join("\n");
    assert.fail(`${wrong.length} imports break the layer order of ${ARCHITECTURE}:\n${list}`);
  }
});
