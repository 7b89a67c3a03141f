/** Optional peer dependencies: a missing one is told apart from an installed one, and the install command a message gives pins faceprior's versions. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../test/support/shared-data.js";
import { importOptional, installCommand } from "./optional-package.js";

test("importOptional gives null for a package that is not installed and the module for one that is", async () => {
  assert.equal(await importOptional("faceprior-no-such-package"), null);
  const zod = await importOptional<{ z: unknown }>("zod");
  assert.equal(typeof zod?.z, "object");
});

test("installCommand pins the peerDependencies' versions, and skips onnxruntime-node's CUDA download", async () => {
  const { peerDependencies } = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
    peerDependencies: Record<string, string>;
  };
  assert.equal(
    installCommand(["vega", "vega-lite"]),
    `npm install vega@${peerDependencies.vega} vega-lite@${peerDependencies["vega-lite"]}`,
  );
  assert.equal(
    installCommand(["onnxruntime-node"]),
    `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${peerDependencies["onnxruntime-node"]}`,
  );
});
