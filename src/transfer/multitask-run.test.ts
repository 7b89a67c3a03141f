import assert from "node:assert/strict";
import { test } from "node:test";
import { adjustmentRules, MultitaskConfigSchema, taskCacheDirs } from "./multitask-run.js";

const configWith = (logitAdjustment: unknown) =>
  MultitaskConfigSchema.parse({ tasks: { expression: { batch: 2 }, age: { batch: 2 }, attributes: { batch: 2 } }, logitAdjustment });

test("logitAdjustment balances every softmax head by one rule, or the heads it names by theirs", () => {
  assert.deepEqual(adjustmentRules(configWith(false)), {});
  assert.deepEqual(adjustmentRules(configWith(true)), { expression: "best", age: "best" }, "true is the best τ; attributes is sigmoid");
  assert.deepEqual(adjustmentRules(configWith("one-standard-error")), { expression: "one-standard-error", age: "one-standard-error" });
  assert.deepEqual(
    adjustmentRules(configWith({ age: "one-standard-error" })),
    { age: "one-standard-error" },
    "expression stays as trained",
  );
  assert.deepEqual(adjustmentRules(configWith({ expression: false, age: true })), { age: "best" });
});

test("balancing a head that is not a trained softmax head is refused, naming the heads that can be", () => {
  assert.throws(
    () => adjustmentRules(configWith({ attributes: "best" })),
    /logitAdjustment\.attributes: the attributes head is not a softmax head; only trained softmax heads \(expression, age\) can be balanced\./,
  );
  assert.throws(() => adjustmentRules(configWith({ au: true })), /logitAdjustment\.au: the au head is not trained by this config/);
  assert.throws(() => configWith({ expression: "median" }), /logitAdjustment/, "an unknown rule fails the schema");
});

test("a task's caches are the ones given for it, else those its config entry names, inside the cache folder", () => {
  const config = MultitaskConfigSchema.parse({
    tasks: { expression: { batch: 2, caches: ["fer2013", "fer2013_extra"] }, age: { batch: 2, caches: ["utkface"] }, au: { batch: 2 } },
  });
  assert.deepEqual(taskCacheDirs(config, { age: ["/data/my-ages"] }, "/cache"), {
    expression: ["/cache/fer2013", "/cache/fer2013_extra"],
    age: ["/data/my-ages"],
  });
  assert.deepEqual(taskCacheDirs(config, { au: ["/data/au"] }), { au: ["/data/au"] }, "without a cache folder the names find nothing");
  assert.throws(() => MultitaskConfigSchema.parse({ tasks: { age: { batch: 2, caches: [] } } }), /caches/, "an empty list is refused");
});
