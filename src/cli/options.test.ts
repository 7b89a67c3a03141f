import assert from "node:assert/strict";
import { test } from "node:test";
import { FacepriorError } from "../errors.js";
import { GLOBAL_OPTIONS } from "./command.js";
import { flagName, inFlagTerms, parseLeading, parseOptions, type OptionTable } from "./options.js";
import { commandHelp, programHelp } from "./help.js";
import { COMMANDS } from "./registry.js";

const TABLE = {
  out: { type: "string", required: true, placeholder: "file", description: "Output." },
  tokens: { type: "choice", choices: ["cls", "mean", "all"], default: "cls", description: "Tokens." },
  batch: { type: "int", min: 1, max: 64, default: 8, description: "Batch." },
  mean: { type: "numbers", count: 3, description: "Mean." },
  skipBad: { type: "flag", description: "Skip." },
} as const satisfies OptionTable;

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof FacepriorError);
    assert.equal(error.code, "BAD_ARGUMENT");
    assert.match(error.message, pattern);
    return true;
  });
}

test("values are converted to their types, with defaults, in any order", () => {
  const { values, positionals } = parseOptions(
    ["a.png", "--out=o.st", "--batch", "4", "--skip-bad", "--mean", "0.1, 0.2,0.3", "b.png"],
    TABLE,
    "faceprior t",
  );
  assert.deepEqual(values, { out: "o.st", tokens: "cls", batch: 4, mean: [0.1, 0.2, 0.3], skipBad: true });
  assert.deepEqual(positionals, ["a.png", "b.png"]);
  assert.equal(parseOptions(["--out", "x", "--batch", "2", "--batch", "3"], TABLE, "t").values.batch, 3, "the last one wins");
  assert.equal(flagName("numHeads"), "--num-heads");
});

test("bad values, unknown flags and missing values are usage errors naming the flag", () => {
  usage(
    () => parseOptions(["--out", "x", "--tokens", "avg"], TABLE, "faceprior t"),
    /^--tokens: "avg" is not one of the choices\. Use one of: cls, mean, all\.$/,
  );
  usage(
    () => parseOptions(["--out", "x", "--batch", "0"], TABLE, "t"),
    /^--batch: "0" is not a whole number from 1 to 64\. Pass one, e.g\. --batch 8\.$/,
  );
  usage(() => parseOptions(["--out", "x", "--batch", "2.5"], TABLE, "t"), /--batch: "2\.5" is not a whole number/);
  usage(() => parseOptions(["--out", "x", "--mean", "1,2"], TABLE, "t"), /^--mean: "1,2" is not 3 comma-separated numbers\./);
  usage(() => parseOptions(["--out", "x", "--skip-bad=yes"], TABLE, "t"), /^--skip-bad: takes no value, got "yes"\./);
  usage(() => parseOptions(["--out"], TABLE, "t"), /^--out: needs a value <file>\.$/);
  usage(() => parseOptions([], TABLE, "t"), /^--out: is required\. Pass --out <file>\.$/);
  usage(
    () => parseOptions(["--out", "x", "--tokns", "all"], TABLE, "faceprior t"),
    /^--tokns: not an option of faceprior t\. Did you mean --tokens\? Run "faceprior t --help"/,
  );
  usage(() => parseOptions(["--tokens", "bad"], TABLE, "t"), /--tokens: "bad"/); // a bad value is reported before a missing one
});

test("a library error about an option shows the flag that set it; others pass unchanged", () => {
  const table = { ...TABLE, imgSize: { type: "int", min: 16, description: "Size." } } as const satisfies OptionTable;
  const shown = (error: FacepriorError) => (inFlagTerms(error, table) as FacepriorError).message;
  const cause = new Error("inner");
  const imgSize = new FacepriorError("BAD_ARGUMENT", "imgSize: expected a multiple of 16, got 40 (number).", { option: "imgSize", cause });
  assert.equal(shown(imgSize), "--img-size: expected a multiple of 16, got 40 (number).");
  assert.equal((inFlagTerms(imgSize, table) as FacepriorError).code, "BAD_ARGUMENT");
  assert.equal((inFlagTerms(imgSize, table) as FacepriorError).cause, cause);
  const path = new FacepriorError("BAD_ARGUMENT", "data.tokens: no caches given.", { option: "data.tokens" });
  assert.equal(shown(path), "--tokens: no caches given.", "an option path names the flag of its last part");
  const out = new FacepriorError("BAD_ARGUMENT", "out x.st: exists.", { option: "out" });
  assert.equal(shown(out), "--out x.st: exists.");
  for (const [message, option] of [
    ["arch: unknown architecture.", "arch"],
    ["outline: not an option name.", "out"],
    ["a.st: out of range.", "out"],
  ] as const) {
    const error = new FacepriorError("BAD_ARGUMENT", message, { option });
    assert.equal(inFlagTerms(error, table), error, `${option} in "${message}"`);
  }
  const plain = new Error("bug");
  assert.equal(inFlagTerms(plain, table), plain);
});

test("the first pass finds global options anywhere and the command's position", () => {
  const early = parseLeading(["--debug", "embed", "--tokens", "all", "--threads", "3", "x.png"], GLOBAL_OPTIONS);
  assert.equal(early.first, 1);
  assert.equal(early.values.threads, 3);
  assert.equal(early.values.debug, true);
  assert.equal(early.values.device, "wasm");
  usage(() => parseLeading(["--out", "x", "embed"], GLOBAL_OPTIONS), /^--out: not a global option\. Command options go after the command/);
  usage(() => parseLeading(["--threads", "0", "info"], GLOBAL_OPTIONS), /^--threads: "0"/);
  assert.equal(parseLeading(["-h"], GLOBAL_OPTIONS).values.help, true);
});

test("help is generated from the tables: every command and every option appears", () => {
  const top = programHelp(COMMANDS);
  for (const command of COMMANDS) {
    assert.ok(top.replace(/\s+/g, " ").includes(command.summary), `${command.name} summary`);
    const own = commandHelp(command);
    for (const key of Object.keys(command.options)) assert.match(own, new RegExp(`^  ${flagName(key)}\\b`, "m"), `${command.name} ${key}`);
    assert.ok(
      own.split("\n").every((line) => line.length <= 100),
      `${command.name} help fits 100 columns`,
    );
  }
  for (const key of Object.keys(GLOBAL_OPTIONS)) assert.match(top, new RegExp(`${flagName(key)}\\b`));
});

test("--json takes a following argument only when it is - or a JSON file name: alone it means standard output", () => {
  const table = { json: { type: "output", suffixes: [".json", ".ndjson"], description: "Results." } } as const satisfies OptionTable;
  const parse = (argv: string[]) => parseOptions(argv, table, "faceprior t");
  assert.deepEqual(parse(["--json", "out.json", "a.png"]), { values: { json: "out.json" }, positionals: ["a.png"] });
  assert.deepEqual(parse(["--json", "-", "a.png"]), { values: { json: "-" }, positionals: ["a.png"] });
  assert.deepEqual(
    parse(["--json", "model.safetensors"]),
    { values: { json: "-" }, positionals: ["model.safetensors"] },
    "the old flag: an input stays an input",
  );
  assert.deepEqual(parse(["a.png", "--json"]), { values: { json: "-" }, positionals: ["a.png"] });
  assert.deepEqual(parse(["a.png"]).values, { json: undefined });
  assert.equal(parse(["--json=LINES.NDJSON"]).values.json, "LINES.NDJSON");
  usage(
    () => parse(["--json=photo.jpg"]),
    /^--json: "photo\.jpg" is neither a file name ending in \.json, \.ndjson nor - \(standard output\)\. Pass e\.g\. --json results\.json\.$/,
  );
});

test("a flag name means one thing in every command: --json results as JSON, --model the model run, --checkpoint only a deprecated spelling", () => {
  const specs = (key: string) => COMMANDS.filter((c) => key in c.options).map((c) => [c.name, c.options[key]!] as const);
  for (const [name, spec] of specs("json")) assert.equal(spec.type, "output", `${name} --json`);
  for (const [name, spec] of specs("model")) {
    assert.equal(spec.placeholder, "file", `${name} --model`);
    assert.equal(spec.defaultText, "the bundled model", `${name} --model defaults to the bundled model`);
    assert.match(spec.description, /^Face model/, `${name} --model is the model it runs`);
  }
  const checkpoint = specs("checkpoint");
  assert.deepEqual(
    checkpoint.map(([name]) => name),
    ["embed"],
  );
  assert.match(checkpoint[0]![1].description, /^Deprecated: /);
});
