/**
 * One transfer run: a task on a prepared cache, from a pretrained encoder (or scratch), under a
 * protocol (full, ratio:<f>, kshot:<k>), over several seeds and, for subject-fold datasets, every
 * fold. Mode `probe` trains a linear head on frozen features (probe.ts); mode `finetune` trains
 * the encoder with the head (finetune.ts). Its settings are `TransferConfigSchema`, which the CLI's
 * flags and every study cell parse into. The run folder gets:
 *
 *   config.json        the effective config: the settings, the recipe, the training config
 *                      before each run's seed, the encoder and the caches
 *   metrics.json       per seed and fold: the task's metrics; mean ± std of the headline over
 *                      seeds; the trivial baseline; the subset files; the config; timings
 *   predictions.csv    every test face's prediction, per seed and fold
 *   subsets/           the training subsets (few-shot index files), one per seed and fold
 *   finetunes/<fold>-seed<seed>/finished.json
 *                      mode finetune: each finished run's outcome, which a resumed run reads
 *                      instead of training or predicting again (finished-run.ts)
 *   <plot>.png         the task's plot (tasks/<task>.ts): confusion matrix, per-AU F1, age
 *                      error by age or per-attribute accuracy
 */
import { basename, join } from "node:path";
import { z } from "zod";
import { parseArguments, saveRunConfig, type OnConfig } from "../config-schema.js";
import { FacepriorError } from "../errors.js";
import type { Dataset } from "../data/dataset.js";
import { makeFewShotSubset, parseProtocol, saveFewShotSubset } from "../data/few-shot.js";
import { describeSplit, foldCount, splitDataset, type Split } from "../data/splits.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic-write.js";
import { writeChartPng } from "../plot/render-chart.js";
import { facesOfRows, greyShare, loadCacheDataset, type CacheDataset } from "../priors/cache-dataset.js";
import { TrainOverridesSchema, type TrainConfigInput } from "../train/train-config.js";
import type { TrainProgress } from "../train/train-loop.js";
import { headlineOverSeeds, taskMetrics, type TaskMetrics } from "./evaluate.js";
import type { ShardSpec } from "../shard/shard-spec.js";
import {
  cachedPrefixTokens,
  checkEncoderFitsCache,
  extractFeatureShard,
  loadEncoder,
  type EncoderSource,
  type ExtractOptions,
  type FrozenOutput,
} from "./features.js";
import { FINETUNE_DEFAULTS, trainFinetune, type FinetuneOptions } from "./finetune.js";
import { keepFinishedRun, readFinishedRun } from "./finished-run.js";
import { checkTask, loadTaskCaches, withVal } from "./task-data.js";
import { DEFAULT_FINETUNE_RECIPE, FinetuneRecipeSchema, type FinetuneRecipe } from "./finetune-recipe.js";
import type { SelectionRecord } from "./model-selection.js";
import { PROBE_DEFAULTS, trainProbe, type ProbeResult } from "./probe.js";
import { probeFeatures } from "./probe-features.js";
import { tree } from "../engine/jax.js";
import { recipeLossOverrides, TRANSFER_TASK_NAMES, TRANSFER_TASKS, type TransferTaskName } from "./tasks/index.js";

export const TransferTaskSchema = z.enum(TRANSFER_TASK_NAMES as [TransferTaskName, ...TransferTaskName[]]);

const isProtocol = (text: string) => {
  try {
    parseProtocol(text);
    return true;
  } catch {
    return false;
  }
};
export const ProtocolSchema = z.string().refine(isProtocol, "a protocol: full, ratio:<f> or kshot:<k>");

export const TRANSFER_MODES = ["probe", "finetune"] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];

/** The training defaults of each mode, which a run's `train` overrides field by field. */
export const TRAIN_DEFAULTS_BY_MODE: Record<TransferMode, TrainConfigInput> = { probe: PROBE_DEFAULTS, finetune: FINETUNE_DEFAULTS };

/** What a transfer run does, as data: the CLI's flags and each cell of a study parse into it. */
export const TransferConfigSchema = z.strictObject({
  task: TransferTaskSchema,
  /** probe: a linear head on frozen features; finetune: the encoder with the head. */
  mode: z.enum(TRANSFER_MODES).default("probe"),
  /** Which training labels: full, ratio:<f> (a seeded fraction) or kshot:<k> (k per class). */
  protocol: ProtocolSchema.default("full"),
  /** Runs with seeds 0..seeds-1, each with its own subset and head initialisation. */
  seeds: z.number().int().min(1).max(100).default(3),
  /** Features: the mean of the patch tokens or the class token. */
  pooling: z.enum(["avg", "token"]).default("avg"),
  /** Mode finetune: train only the last this many blocks, over cached tokens of the frozen ones. */
  tuneBlocks: z.number().int().positive().optional(),
  /** Fields of the mode's training defaults (TRAIN_DEFAULTS_BY_MODE) to change. */
  train: TrainOverridesSchema.optional(),
  /** Mode finetune: augmentation, DropPath, loss options and model selection (finetune-recipe.ts). */
  recipe: FinetuneRecipeSchema.optional(),
});
export type TransferConfig = z.output<typeof TransferConfigSchema>;

/** What a transfer run reads and where it writes: everything but its config. */
type TransferInputs = {
  cacheDir: string;
  init: EncoderSource;
  out: string;
  /** Where probe features are cached, shared between runs. */
  featureDir: string;
  /** The engine that extracts frozen features and tokens and trains (with its threads); jax-js by default. */
  extract?: ExtractOptions;
  /**
   * Protocol full (a probe, or a fine-tune of every block): caches of more datasets with the same
   * labels, whose training and validation faces join every run's training faces; their test faces
   * stay unused (a probe never extracts their features), and the splits, validation and test faces
   * are the first dataset's.
   */
  extraCacheDirs?: string[];
  /** Mode finetune: keep each run's float16 milestones in <milestone>/<fold>-seed<seed> while it trains (selection-milestones.ts), and its outcome once finished (finished-run.ts). */
  milestone?: string;
  onStage?: (stage: string) => void;
  /** Each training step of the current run (the stage names the run). */
  onProgress?: (progress: TrainProgress) => void;
  onConfig?: OnConfig;
};
export type TransferOptions = z.input<typeof TransferConfigSchema> & TransferInputs;
type ParsedTransferOptions = TransferConfig & TransferInputs;

const configFieldsOf = (options: TransferOptions) =>
  Object.fromEntries(Object.keys(TransferConfigSchema.shape).map((key) => [key, options[key as keyof TransferConfig]]));

/** `options` with its config fields parsed: checked, defaults filled (a field left out is undefined in both). */
function parseTransferOptions(options: TransferOptions): ParsedTransferOptions {
  return { ...options, ...parseArguments(TransferConfigSchema, configFieldsOf(options)) } as ParsedTransferOptions;
}

/** Saves, and tells `onConfig`, what the run does: its config with the recipe and training config it uses, and its inputs. */
function saveTransferConfig(options: ParsedTransferOptions, recipe: FinetuneRecipe | null, train: TrainConfigInput): Promise<void> {
  const { cacheDir, extraCacheDirs = [], init, out } = options;
  const effective = { ...configFieldsOf(options), recipe, train, init, data: [cacheDir, ...extraCacheDirs] };
  return saveRunConfig(join(out, "config.json"), effective, options.onConfig);
}

type RunResult = {
  seed: number;
  fold: string;
  subset: string;
  trainFaces: number;
  valFaces: number;
  testFaces: number;
  seconds: number;
  metrics: TaskMetrics;
  selection: SelectionRecord | null;
  /** Whether training faces were augmented (not when only the last blocks train, over cached tokens). */
  augmented: boolean;
};

/** What `work` returns, with the seconds it took. */
async function timed<T extends object>(work: () => Promise<T>): Promise<T & { seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

/** The number of last blocks to fine-tune: 1..depth, all of them when not given. */
function checkTuneBlocks(tuneBlocks: number | undefined, depth: number): number {
  if (tuneBlocks === undefined) return depth;
  if (tuneBlocks <= depth) return tuneBlocks;
  const message = `tuneBlocks ${tuneBlocks}: the encoder has ${depth} blocks. Use 1 to ${depth}.`;
  throw new FacepriorError("BAD_ARGUMENT", message, { option: "tuneBlocks" });
}

/** The train/test splits to run: one, or one per subject fold. */
function splitsOf(dataset: Dataset): [string, Split][] {
  if (dataset.split.kind !== "folds") return [["all", splitDataset(dataset)]];
  return Array.from({ length: foldCount(dataset) }, (_, fold) => [`fold${fold}`, splitDataset(dataset, { fold })] as [string, Split]);
}

function csvRows(
  seed: number,
  fold: string,
  cache: CacheDataset,
  faces: number[],
  predictions: Float32Array,
  labels: Float32Array,
): string[] {
  const k = predictions.length / faces.length;
  const width = labels.length / faces.length;
  return faces.map((face, i) => {
    const predicted = Array.from(predictions.subarray(i * k, (i + 1) * k), (v) => v.toFixed(4));
    const truth = Array.from(labels.subarray(i * width, (i + 1) * width));
    return [seed, fold, JSON.stringify(cache.paths[face]), truth.join(" "), predicted.join(" ")].join(",");
  });
}

type PlannedRun = { fold: string; seed: number; subsetFile: string; trainFaces: number[]; valFaces: number[]; testFaces: number[] };

/**
 * Every (fold, seed) run with its training subset, drawn and saved before any work, so that an
 * empty split or a k-shot class with too few faces stops the run at once. With `valFraction`
 * (model selection), each run also gets validation faces, never from its test faces.
 */
async function planRuns(
  dataset: Dataset,
  cache: CacheDataset,
  protocol: string,
  seeds: number,
  out: string,
  valFraction: number | null,
): Promise<PlannedRun[]> {
  const withFace = new Set(Array.from(cache.rows));
  const plan: PlannedRun[] = [];
  for (const [fold, base] of splitsOf(dataset)) {
    for (let seed = 0; seed < seeds; seed++) {
      const split = valFraction === null ? base : withVal(dataset, base, valFraction, seed);
      const trainRows = split.train.filter((r) => withFace.has(r));
      const testFaces = facesOfRows(cache, split.test);
      if (trainRows.length === 0 || testFaces.length === 0) {
        throw new FacepriorError(
          "BAD_DATASET",
          `${dataset.name} ${fold}: the ${trainRows.length === 0 ? "training" : "test"} split has no faces. Check the split rule (${describeSplit(dataset, { fold: 0 })}) and the cache's report.json.`,
        );
      }
      const subset = makeFewShotSubset(dataset, trainRows, protocol, seed, fold);
      const subsetFile = join(out, "subsets", `${fold}-seed${seed}.json`);
      await saveFewShotSubset(subsetFile, subset);
      const valFaces = valFraction === null ? [] : facesOfRows(cache, split.val);
      plan.push({ fold, seed, subsetFile, trainFaces: facesOfRows(cache, subset.indices), valFaces, testFaces });
    }
  }
  return plan;
}

/** More caches add training faces under protocol full, to a probe or a fine-tune of every block. */
function checkExtras({ extraCacheDirs, protocol, mode, tuneBlocks }: ParsedTransferOptions, depth: number): void {
  if (!extraCacheDirs?.length) return;
  if (protocol !== "full")
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `protocol ${protocol}: more than one cache (extraCacheDirs) adds training faces only under protocol full; a few-shot protocol draws its training faces from the first cache's training split alone. Use protocol full, or pass one cache.`,
      { option: "protocol" },
    );
  if (mode === "finetune" && tuneBlocks !== undefined && tuneBlocks < depth)
    throw new FacepriorError(
      "BAD_ARGUMENT",
      `tuneBlocks ${tuneBlocks}: more than one cache (extraCacheDirs) adds training faces to a probe or a fine-tune of every block, not to the last blocks over cached tokens (the first cache's only). Leave tuneBlocks out, or pass one cache.`,
      { option: "tuneBlocks" },
    );
}

/** The frozen encoder's output a run reads: pooled features (probe), or the frozen blocks' tokens (tuneBlocks). */
function frozenOutputOf(options: ParsedTransferOptions, depth: number): FrozenOutput {
  if (options.mode === "probe") return { kind: "pooled", pooling: options.pooling };
  const tuneBlocks = checkTuneBlocks(options.tuneBlocks, depth);
  if (tuneBlocks < depth) return { kind: "prefix", blocks: depth - tuneBlocks };
  throw new FacepriorError(
    "BAD_ARGUMENT",
    "shard: fine-tuning the whole encoder reads no frozen features, so there is nothing to extract in shards. Shard a probe run, or a fine-tune of the last blocks (tuneBlocks).",
    { option: "shard" },
  );
}

/**
 * `finetune --shard i/n`: only the feature extraction, for the faces of one shard; `faceprior
 * merge` joins the shards into the file a later `finetune` without --shard reads.
 */
export async function extractTransferShard(input: TransferOptions, shard: ShardSpec) {
  const options = parseTransferOptions(input);
  const cache = await loadCacheDataset(options.cacheDir);
  checkTask(cache, options.task);
  const cfg = await checkEncoderFitsCache(options.init, cache, options.cacheDir);
  return extractFeatureShard(
    options.init,
    options.cacheDir,
    cache,
    frozenOutputOf(options, cfg.depth),
    options.featureDir,
    shard,
    options.extract,
  );
}

export async function runTransfer(input: TransferOptions) {
  const start = performance.now();
  const options = parseTransferOptions(input);
  const { task, out, protocol, mode } = options;
  const definition = TRANSFER_TASKS[task];
  const caches = await loadTaskCaches(task, [options.cacheDir, ...(options.extraCacheDirs ?? [])]);
  const { primary, dataset, cache, columns, labels, extraFaces, labelsOf } = caches;
  const { pooling, init, cacheDir, featureDir } = options;
  const cfg = await checkEncoderFitsCache(init, primary, cacheDir);
  checkExtras(options, cfg.depth);
  const tuneBlocks = mode === "finetune" ? checkTuneBlocks(options.tuneBlocks, cfg.depth) : undefined;
  const recipe = mode === "finetune" ? (options.recipe ?? DEFAULT_FINETUNE_RECIPE) : null;
  const valFraction = recipe?.selection && protocol === "full" ? recipe.selection.valFraction : null;
  const train = { ...TRAIN_DEFAULTS_BY_MODE[mode], ...options.train };
  await saveTransferConfig(options, recipe, train);
  const plan = await planRuns(dataset, primary, protocol, options.seeds, out, valFraction);
  options.onStage?.(mode === "probe" ? "features" : "encoder");
  const features = mode === "probe" ? await probeFeatures(caches, { init, cacheDir, pooling, featureDir, extract: options.extract }) : null;
  const lastBlocks =
    tuneBlocks !== undefined && tuneBlocks < cfg.depth
      ? { tuneBlocks, tokens: await cachedPrefixTokens(init, cacheDir, primary, cfg.depth - tuneBlocks, featureDir, options.extract) }
      : undefined;
  const encoder = mode === "finetune" ? await loadEncoder(init) : null;
  const finetuneRecipe = (valFaces: number[]): Partial<FinetuneOptions> => ({
    augment: recipe!.augment,
    dropPath: recipe!.dropPath,
    lossOverrides: recipeLossOverrides(task, recipe!),
    selection: valFraction === null ? undefined : { valFaces, patience: recipe!.selection!.patience },
  });
  const trainOf = (run: PlannedRun) => ({ seed: run.seed, ...train });
  const milestoneOf = (runDir: string) => options.milestone && join(options.milestone, basename(runDir));
  const adapt = (run: PlannedRun, runDir: string): Promise<ProbeResult & { selection?: SelectionRecord | null; augmented?: boolean }> => {
    const engine = { engine: options.extract?.engine ?? "jax", threads: options.extract?.threads };
    const trainFaces = [...run.trainFaces, ...extraFaces];
    const common = {
      task,
      labels,
      labelColumns: columns,
      trainFaces,
      evalFaces: run.testFaces,
      runDir,
      train: trainOf(run),
      engine,
      onProgress: options.onProgress,
    };
    if (features) return trainProbe({ ...common, features });
    return trainFinetune({
      ...common,
      cache,
      encoder: encoder!,
      pooling,
      lastBlocks,
      milestone: milestoneOf(runDir),
      ...finetuneRecipe(run.valFaces),
    });
  };
  /** Seconds of the runs an earlier call finished: a resumed cell's time counts them too. */
  let earlierSeconds = 0;
  /** A fine-tune's outcome, from its finished.json when an earlier call finished it (finished-run.ts). */
  const finishedFinetune = async (run: PlannedRun, runDir: string) => {
    const milestone = milestoneOf(runDir);
    const identity = { train: trainOf(run), testFaces: run.testFaces.length };
    const kept = await readFinishedRun(milestone ? [runDir, milestone] : [runDir], identity);
    if (kept) {
      earlierSeconds += kept.seconds;
      return kept;
    }
    const result = await timed(() => adapt(run, runDir));
    const finished = { ...result, selection: result.selection ?? null, augmented: result.augmented ?? false };
    await keepFinishedRun(finished, identity, { runDir, milestone });
    return finished;
  };
  const runs: RunResult[] = [];
  const csv = ["seed,fold,path,truth,prediction"];
  let firstBaseline: { name: string; value: number } | null = null;
  try {
    for (const run of plan) {
      const { fold, seed, subsetFile, trainFaces, valFaces, testFaces } = run;
      options.onStage?.(`${fold} seed ${seed}`);
      const runDir = join(out, mode === "probe" ? "probes" : "finetunes", `${fold}-seed${seed}`);
      const result = mode === "probe" ? await timed(() => adapt(run, runDir)) : await finishedFinetune(run, runDir);
      const testLabels = labelsOf(testFaces);
      const metrics = taskMetrics(task, result.predictions, testLabels, testFaces.length);
      const trained = trainFaces.length + extraFaces.length;
      runs.push({
        seed,
        fold,
        subset: subsetFile,
        trainFaces: trained,
        valFaces: valFaces.length,
        testFaces: testFaces.length,
        seconds: result.seconds,
        metrics,
        selection: result.selection ?? null,
        augmented: result.augmented ?? false,
      });
      csv.push(...csvRows(seed, fold, cache, testFaces, result.predictions, testLabels));
      if (runs.length === 1) {
        firstBaseline = definition.trivialBaseline(labelsOf([...trainFaces, ...extraFaces]), testLabels, columns.length);
        const plot = definition.plot({ columns, predictions: result.predictions, labels: testLabels, metrics });
        await writeChartPng(join(out, plot.file), plot.spec);
      }
    }
  } finally {
    if (encoder) tree.dispose(encoder.params);
  }
  const { mean, std, n } = headlineOverSeeds(runs);
  const { name, higherIsBetter } = runs[0]!.metrics.headline;
  const summary = {
    task,
    mode,
    columns,
    protocol,
    init: options.init,
    pooling: options.pooling,
    tuneBlocks: tuneBlocks ?? null,
    /** Mode finetune: the recipe every run used (finetune-recipe.ts). */
    recipe,
    /** Caches whose training and validation faces joined every run's training faces. */
    extraData: options.extraCacheDirs ?? [],
    /** How many faces each of them added (its test faces never take part). */
    extraFaces: caches.extras.map((extra) => extra.faces.length),
    /** The share of grey faces among the first run's training faces; a packed head reads grey input from GREY_HEAD_SHARE up. */
    greyTrainingShare: greyShare(cache, [...plan[0]!.trainFaces, ...extraFaces]),
    /** Overrides of the mode's training defaults; each run's resolved config is in its run.json. */
    train: options.train ?? {},
    seeds: options.seeds,
    cache: options.cacheDir,
    /** How the head's outputs became predictions (age: median-age; runs before 2026-12-02 read the expectation and record none). */
    readout: definition.activation,
    /** The headline over seeds (each seed's value averaged over folds first). */
    headline: { name, higherIsBetter, mean, std, n },
    /** The trivial baseline on the first fold's test faces, from the training subset's labels. */
    baseline: firstBaseline,
    runs,
    /** This call's wall time, plus the recorded time of the runs an earlier call finished. */
    seconds: (performance.now() - start) / 1000 + earlierSeconds,
  };
  await writeJsonAtomic(join(out, "metrics.json"), summary);
  await writeFileAtomic(join(out, "predictions.csv"), csv.join("\n") + "\n");
  return summary;
}
