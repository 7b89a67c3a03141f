/**
 * The face-prior teacher over any build of @vladmandic/human: its face configuration (BlazeFace,
 * FaceMesh, Iris: 478 points; everything else off) and the reading of its results. No Node
 * imports, so the browser demo runs the same teacher as teacher.ts, which adds the Node loading.
 */

export type TeacherFace = {
  /** Overall face confidence, 0-1. */
  score: number;
  /** [x, y, width, height] in input pixels. */
  box: [number, number, number, number];
  /** [478, 2] mesh points in input pixel coordinates. */
  mesh: Float32Array;
};

export type Teacher = {
  detect(rgb: Uint8Array, width: number, height: number): Promise<TeacherFace[]>;
  dispose(): void;
};

export type TeacherOptions = { maxFaces?: number; minConfidence?: number };

type HumanFaceResult = { score: number; box: [number, number, number, number]; mesh: [number, number, number][] };

/** The part of a Human instance the teacher uses; `Face` is the part of each face result read. */
export type HumanInstance<Face = HumanFaceResult> = {
  load(): Promise<void>;
  detect(input: unknown): Promise<{ face: Face[] }>;
  tf: { tensor3d(values: Uint8Array, shape: [number, number, number], dtype: "int32"): { dispose(): void } };
  faceUVMap: [number, number][];
};

const MESH_POINTS = 478;

/** Human's configuration with everything but faces off. */
export const HUMAN_FACES_ONLY = {
  body: { enabled: false },
  hand: { enabled: false },
  object: { enabled: false },
  segmentation: { enabled: false },
  gesture: { enabled: false },
} as const;

/** Human's configuration for the teacher, less where its backend and model files come from. */
export function teacherConfig({ maxFaces = 5, minConfidence = 0.2 }: TeacherOptions = {}) {
  return {
    debug: false,
    async: false,
    cacheSensitivity: 0,
    face: {
      enabled: true,
      detector: { rotation: true, maxDetected: maxFaces, minConfidence, return: false },
      mesh: { enabled: true },
      iris: { enabled: true },
      emotion: { enabled: false },
      description: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
    },
    ...HUMAN_FACES_ONLY,
  };
}

/** Human's face results for RGB bytes [H, W, 3]. */
export async function humanFacesInRgb<Face>(human: HumanInstance<Face>, rgb: Uint8Array, width: number, height: number): Promise<Face[]> {
  const tensor = human.tf.tensor3d(rgb, [height, width, 3], "int32");
  try {
    return (await human.detect(tensor)).face;
  } finally {
    tensor.dispose();
  }
}

/** The teacher over a loaded Human: RGB bytes [H, W, 3] in, faces with a full mesh out. */
export function teacherFromHuman(human: HumanInstance): Teacher {
  return {
    async detect(rgb, width, height) {
      const faces = await humanFacesInRgb(human, rgb, width, height);
      return faces
        .filter((f) => f.mesh.length >= MESH_POINTS)
        .map((f) => ({ score: f.score, box: f.box, mesh: Float32Array.from(f.mesh.slice(0, MESH_POINTS).flatMap(([x, y]) => [x, y])) }));
    },
    dispose() {},
  };
}
