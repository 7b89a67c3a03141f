/**
 * The three systems of the peer comparison behind one interface: a test image file in, the
 * expression class, age and gender of the largest face found out (or undefined: no face).
 * Every system runs fully offline on tfjs-backend-wasm / onnxruntime in Node, with its models
 * read from its own npm package, and looks for faces in the same image: decoded as FaceAnalyzer
 * decodes it, with the test set's border around it.
 */
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import type * as FaceApi from "@vladmandic/face-api";
import { DEFAULT_MODEL_PATH, FaceAnalyzer, type HeadPrediction } from "../../src/index.js";
import { decodeImageUpright, type RgbImage } from "../../src/data/image.js";
import { FacepriorError } from "../../src/errors.js";
import { FACE_SEARCH_DEFAULTS, padForSearch } from "../../src/priors/face-priors.js";
import { HUMAN_FACES_ONLY, humanFacesInRgb } from "../../src/priors/human-teacher.js";
import { loadOfflineHuman, withOfflineFetch } from "../../src/priors/teacher.js";
import { POSITIVE_THRESHOLD } from "../../src/transfer/metrics.js";
import { describeMapping, expressionClassOf, FACE_API_EXPRESSIONS, HUMAN_EMOTIONS } from "./labels.js";

const require = createRequire(import.meta.url);

/** What a system says about a face: a class index of EXPRESSION_CLASSES, years, and male (undefined: no answer). */
export type FaceAnswer = { expression: number; age: number; male: boolean | undefined };

export type LoadedSystem = {
  /** The answer for the largest face in the image, or undefined when no face is found. */
  answer(file: string): Promise<FaceAnswer | undefined>;
  dispose(): Promise<void>;
};

export type SystemSpec = {
  name: string;
  /** Version, models and how they are loaded, for the report. */
  describe(model?: string): string;
  expressionMapping: string;
  /** Loads the system for images that get a border of `pad` (a fraction of the longer side) before detection. */
  /** `model`: faceprior's face model file (the bundled one when left out); the other systems have one model each. */
  load(pad: number, model?: string): Promise<LoadedSystem>;
};

/** The image a detector sees: decoded and shrunk like FaceAnalyzer does, with the search border. */
async function searchImage(file: string, pad: number): Promise<RgbImage> {
  const image = await decodeImageUpright(file, { maxSide: FACE_SEARCH_DEFAULTS.maxSide });
  return padForSearch(image, pad).padded as RgbImage;
}

/** The item with the highest `key` (the first of ties), undefined for none. */
function maxBy<T>(items: readonly T[], key: (item: T) => number): T | undefined {
  return items.reduce<T | undefined>((best, item) => (best === undefined || key(item) > key(best) ? item : best), undefined);
}

function versionOf(packageDir: string): string {
  return (require(join(packageDir, "package.json")) as { version: string }).version;
}

// ---- faceprior: the bundled model through the public FaceAnalyzer API ----

function facepriorAnswer(predictions: Record<string, HeadPrediction>): FaceAnswer {
  const { expression, age, attributes } = predictions;
  if (
    expression?.kind !== "class" ||
    age?.kind !== "value" ||
    attributes?.kind !== "labels" ||
    attributes.probabilities.Male === undefined
  ) {
    throw new FacepriorError(
      "BAD_CONFIG",
      "faceprior: the bundled model has no expression, age or attributes head with Male. Rebuild it (scripts/build-default-model.sh).",
    );
  }
  return {
    expression: expressionClassOf("faceprior", expression.label),
    age: age.value,
    male: attributes.probabilities.Male >= POSITIVE_THRESHOLD,
  };
}

const faceprior: SystemSpec = {
  name: "faceprior",
  describe: (model) =>
    `faceprior ${versionOf(join(dirname(DEFAULT_MODEL_PATH), ".."))}, ${model ?? `the bundled models/${basename(DEFAULT_MODEL_PATH)}`} through FaceAnalyzer (engine auto); gender = attribute Male >= ${POSITIVE_THRESHOLD}`,
  expressionMapping: "its own 7 classes",
  async load(pad, model) {
    const analyzer = await FaceAnalyzer.load({ pad, model });
    return {
      // analyze lists faces largest first.
      answer: async (file) => {
        const [face] = (await analyzer.analyze(file)).faces;
        return face && facepriorAnswer(face.predictions);
      },
      dispose: () => analyzer.dispose(),
    };
  },
};

// ---- @vladmandic/human: its emotion and description (age, gender) models ----

type HumanPeerFace = {
  box: [number, number, number, number];
  age?: number;
  gender?: "male" | "female" | "unknown";
  emotion?: { score: number; emotion: string }[];
};

/**
 * Human's own face pipeline and thresholds (BlazeFace, FaceMesh, Iris, emotion, description),
 * except: the emotion and gender score floors at 0, so every face gets a class and a gender as
 * the other systems give; and no result cache, since each test image is a new photo, not the
 * next frame of a video.
 */
const HUMAN_PEER_CONFIG = {
  debug: false,
  cacheSensitivity: 0,
  face: { emotion: { minConfidence: 0 }, description: { minConfidence: 0 } },
  ...HUMAN_FACES_ONLY,
};

function humanAnswer(face: HumanPeerFace): FaceAnswer {
  const top = maxBy(face.emotion ?? [], (e) => e.score);
  // The description model always sets a gender ("unknown" at worst), but Human copies only a
  // truthy age onto the face: a described face without one was given 0 years.
  if (top === undefined || face.gender === undefined) {
    throw new FacepriorError(
      "BAD_CONFIG",
      "human: a face came back without emotion or description; its emotion or description model did not load.",
    );
  }
  return {
    expression: expressionClassOf("human", top.emotion),
    age: face.age ?? 0,
    male: face.gender === "unknown" ? undefined : face.gender === "male",
  };
}

const human: SystemSpec = {
  name: "human",
  describe: () =>
    `@vladmandic/human ${versionOf(join(dirname(require.resolve("@vladmandic/human")), ".."))}, dist/human.node-wasm.js on tfjs-backend-wasm, models/ of the package (loadOfflineHuman); default face pipeline, emotion + description models`,
  expressionMapping: describeMapping("human", HUMAN_EMOTIONS),
  async load(pad) {
    const loaded = await loadOfflineHuman<HumanPeerFace>(HUMAN_PEER_CONFIG);
    return {
      answer: async (file) => {
        const image = await searchImage(file, pad);
        // The largest face, as FaceAnalyzer lists its faces largest first.
        const face = maxBy(await humanFacesInRgb(loaded, image.data, image.width, image.height), (f) => f.box[2] * f.box[3]);
        return face && humanAnswer(face);
      },
      dispose: async () => {},
    };
  },
};

// ---- @vladmandic/face-api: SSD MobileNet v1, 68 landmarks, its expression and age-gender nets ----

type FaceApiModule = typeof FaceApi;

/**
 * face-api's node-wasm build (tfjs + tfjs-backend-wasm, no native code), beside the tfjs-node
 * build that the package's main entry names, which cannot be installed offline; and its models.
 */
function faceApiModule(): { faceapi: FaceApiModule; packageDir: string } {
  const packageDir = join(dirname(require.resolve("@vladmandic/face-api")), "..");
  return { faceapi: require(join(packageDir, "dist", "face-api.node-wasm.js")) as FaceApiModule, packageDir };
}

function faceApiAnswer(face: { expressions: FaceApi.FaceExpressions; age: number; gender: FaceApi.Gender }): FaceAnswer {
  const [top] = face.expressions.asSortedArray();
  return { expression: expressionClassOf("face-api", top!.expression), age: face.age, male: face.gender === "male" };
}

const faceApi: SystemSpec = {
  name: "face-api",
  describe: () =>
    `@vladmandic/face-api ${versionOf(faceApiModule().packageDir)}, dist/face-api.node-wasm.js on tfjs-backend-wasm, model/ of the package read from disk; SsdMobilenetv1 (its default minConfidence 0.5), faceLandmark68Net, faceExpressionNet, ageGenderNet`,
  expressionMapping: describeMapping("face-api", FACE_API_EXPRESSIONS),
  async load(pad) {
    const { faceapi, packageDir } = faceApiModule();
    const modelDir = join(packageDir, "model");
    // face-api declares only the tfjs ops it uses; its node-wasm build exports all of tfjs.
    await (faceapi.tf as unknown as { setBackend(name: string): Promise<boolean> }).setBackend("wasm");
    const nets = [faceapi.nets.ssdMobilenetv1, faceapi.nets.faceLandmark68Net, faceapi.nets.faceExpressionNet, faceapi.nets.ageGenderNet];
    // loadFromDisk reads files in Node; any fetch outside the model folder would be refused.
    await withOfflineFetch(modelDir, () => Promise.all(nets.map((net) => net.loadFromDisk(modelDir))));
    const options = new faceapi.SsdMobilenetv1Options();
    return {
      answer: async (file) => {
        const image = await searchImage(file, pad);
        const tensor = faceapi.tf.tensor3d(image.data, [image.height, image.width, 3], "int32");
        try {
          const faces = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withFaceExpressions().withAgeAndGender();
          const face = maxBy(faces, (f) => f.detection.box.area);
          return face && faceApiAnswer(face);
        } finally {
          tensor.dispose();
        }
      },
      dispose: async () => nets.forEach((net) => net.dispose()),
    };
  },
};

export const SYSTEMS: readonly SystemSpec[] = [faceprior, human, faceApi];
