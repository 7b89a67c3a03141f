/**
 * The label schemas of the four downstream tasks (METHOD §3), plus `none` for unlabelled
 * pretraining data, as data: which columns a manifest holds for each task, and which values
 * each column accepts. A manifest's task is detected from its columns (`detectTask`), never
 * from the folder's name.
 *
 * Labels are numbers in memory: 0/1 per AU or attribute, the class index in
 * `EXPRESSION_CLASSES` for expression, integer years for age.
 */

export const TASK_NAMES = ["au", "expression", "age", "attributes", "none"] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** The 7 basic expressions, in the order of the class index (FER2013's own order). */
export const EXPRESSION_CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"] as const;
export type ExpressionClass = (typeof EXPRESSION_CLASSES)[number];

/** Other spellings benchmarks use for the same classes (folder names, label files). */
export const EXPRESSION_ALIASES: Readonly<Record<string, ExpressionClass>> = {
  anger: "angry",
  disgusted: "disgust",
  fearful: "fear",
  happiness: "happy",
  sadness: "sad",
  surprised: "surprise",
};

/** CelebA's 40 attributes, in the order of `list_attr_celeba.txt`. */
export const CELEBA_ATTRIBUTES = [
  "5_o_Clock_Shadow",
  "Arched_Eyebrows",
  "Attractive",
  "Bags_Under_Eyes",
  "Bald",
  "Bangs",
  "Big_Lips",
  "Big_Nose",
  "Black_Hair",
  "Blond_Hair",
  "Blurry",
  "Brown_Hair",
  "Bushy_Eyebrows",
  "Chubby",
  "Double_Chin",
  "Eyeglasses",
  "Goatee",
  "Gray_Hair",
  "Heavy_Makeup",
  "High_Cheekbones",
  "Male",
  "Mouth_Slightly_Open",
  "Mustache",
  "Narrow_Eyes",
  "No_Beard",
  "Oval_Face",
  "Pale_Skin",
  "Pointy_Nose",
  "Receding_Hairline",
  "Rosy_Cheeks",
  "Sideburns",
  "Smiling",
  "Straight_Hair",
  "Wavy_Hair",
  "Wearing_Earrings",
  "Wearing_Hat",
  "Wearing_Lipstick",
  "Wearing_Necklace",
  "Wearing_Necktie",
  "Young",
] as const;

/**
 * Ages the data may hold. The model predicts over 0-100 (METHOD §3), but UTKFace goes up to 116,
 * so the data layer accepts 0-120 and leaves clipping to the age head.
 */
export const AGE_RANGE = { min: 0, max: 120 } as const;

/** An AU column: `AU` and the FACS number without a leading zero (`AU1`, `AU25`). */
export const AU_COLUMN = /^AU([1-9][0-9]?)$/;

export type LabelType =
  | { kind: "binary"; minusOneIsZero: boolean }
  | { kind: "class"; classes: readonly string[] }
  | { kind: "integer"; min: number; max: number }
  | { kind: "none" };

export type TaskSchema = {
  task: TaskName;
  summary: string;
  /**
   * The label columns: a fixed list, all required, kept in this order; or a pattern, where any
   * number (at least one) of matching columns may appear, kept in order of the number they hold.
   */
  columns: readonly string[] | RegExp;
  /** How the columns are described in messages. */
  columnsText: string;
  label: LabelType;
};

export const TASKS: { readonly [T in TaskName]: TaskSchema } = {
  au: {
    task: "au",
    summary: "facial action unit occurrence (multi-label)",
    columns: AU_COLUMN,
    columnsText: "AU<n> columns (AU1, AU2, ...)",
    label: { kind: "binary", minusOneIsZero: false },
  },
  expression: {
    task: "expression",
    summary: "7 basic expressions (one class)",
    columns: ["expression"],
    columnsText: '"expression"',
    label: { kind: "class", classes: EXPRESSION_CLASSES },
  },
  age: {
    task: "age",
    summary: "age in whole years",
    columns: ["age"],
    columnsText: '"age"',
    label: { kind: "integer", min: AGE_RANGE.min, max: AGE_RANGE.max },
  },
  attributes: {
    task: "attributes",
    summary: "CelebA's 40 binary attributes (multi-label)",
    columns: CELEBA_ATTRIBUTES,
    columnsText: "the 40 CelebA attribute names",
    label: { kind: "binary", minusOneIsZero: true },
  },
  none: { task: "none", summary: "no labels (pretraining)", columns: [], columnsText: "no label columns", label: { kind: "none" } },
};

/** The task each folder of ../shared/data holds (METHOD §4); loading detects the same from the columns. */
export const SHARED_DATA_TASKS = {
  celebahq_attr: "attributes",
  ckplus_au: "au",
  fer2013: "expression",
  unlabeled_faces: "none",
  utkface: "age",
} as const satisfies Record<string, TaskName>;

/** The values a task's label column accepts, for messages: "0 or 1", "an integer 0-120", ... */
export function labelDomain(task: TaskName): string {
  const label = TASKS[task].label;
  switch (label.kind) {
    case "binary":
      return label.minusOneIsZero ? "0 or 1 (or CelebA's -1 for 0)" : "0 or 1";
    case "class":
      return `one of ${label.classes.join(", ")}`;
    case "integer":
      return `an integer ${label.min}-${label.max}`;
    case "none":
      return "no value";
  }
}

/** The number a raw label value stands for, or undefined when the task does not accept it. */
export function parseLabel(task: TaskName, raw: string): number | undefined {
  const label = TASKS[task].label;
  const text = raw.trim();
  if (label.kind === "class") {
    const index = label.classes.indexOf(text);
    return index < 0 ? undefined : index;
  }
  // Whole numbers written in decimal only: Number() would also take "0x1e", "1e1" and "1.0".
  if (label.kind === "none" || !/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  if (label.kind === "binary") {
    if (value === 0 || value === 1) return value;
    return label.minusOneIsZero && value === -1 ? 0 : undefined;
  }
  return Number.isInteger(value) && value >= label.min && value <= label.max ? value : undefined;
}

/** The class index of an expression name, accepting `EXPRESSION_ALIASES` and any letter case. */
export function expressionIndex(name: string): number | undefined {
  const lower = name.trim().toLowerCase();
  const canonical = EXPRESSION_ALIASES[lower] ?? lower;
  const index = (EXPRESSION_CLASSES as readonly string[]).indexOf(canonical);
  return index < 0 ? undefined : index;
}

export type DetectedTask = { task: TaskName; labelColumns: string[] };
export type TaskProblem = { problem: string; fix: string };

const quoteList = (names: readonly string[]) => names.map((name) => `"${name}"`).join(", ");

function claims(schema: TaskSchema, column: string): boolean {
  return schema.columns instanceof RegExp ? schema.columns.test(column) : schema.columns.includes(column);
}

/**
 * The task a header's label columns (every column but `path`) belong to. One task per
 * manifest: columns of two tasks, columns of none, or a fixed column list with gaps are problems.
 */
export function detectTask(labelColumns: readonly string[]): DetectedTask | TaskProblem {
  if (labelColumns.length === 0) return { task: "none", labelColumns: [] };
  const labelled = TASK_NAMES.filter((task) => task !== "none");
  const found = labelled.filter((task) => labelColumns.some((column) => claims(TASKS[task], column)));
  const expected = labelled.map((task) => `${task}: ${TASKS[task].columnsText}`).join("; ");
  if (found.length === 0) {
    return {
      problem: `columns ${quoteList(labelColumns)} belong to no task`,
      fix: `Name the label columns as a task expects (${expected}), or move other columns to meta.csv.`,
    };
  }
  if (found.length > 1) {
    const parts = found.map((task) => `${task}: ${quoteList(labelColumns.filter((column) => claims(TASKS[task], column)))}`);
    return { problem: `has columns of ${found.length} tasks (${parts.join("; ")})`, fix: "Keep one task per manifest." };
  }
  const schema = TASKS[found[0]];
  const extra = labelColumns.filter((column) => !claims(schema, column));
  if (extra.length > 0) {
    return {
      problem: `has columns ${quoteList(extra)} that the ${schema.task} task does not have`,
      fix: "Remove them, or move them to meta.csv.",
    };
  }
  if (schema.columns instanceof RegExp) {
    const pattern = schema.columns;
    const number = (column: string) => Number(pattern.exec(column)?.[1]);
    return { task: schema.task, labelColumns: [...labelColumns].sort((a, b) => number(a) - number(b)) };
  }
  const missing = schema.columns.filter((column) => !labelColumns.includes(column));
  if (missing.length > 0) {
    return {
      problem: `misses ${schema.task} columns ${quoteList(missing)}`,
      fix: `Add them: the ${schema.task} task needs ${schema.columnsText}.`,
    };
  }
  return { task: schema.task, labelColumns: [...schema.columns] };
}
