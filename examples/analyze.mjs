// The README's library example: analyse the example photo, then embed it from bytes.
// Run from the repository (or any project with faceprior installed): node examples/analyze.mjs
import { readFile } from "node:fs/promises";
import { FaceAnalyzer, predictionOf } from "faceprior";

const photo = new URL("./astronaut.jpg", import.meta.url).pathname;
const analyzer = await FaceAnalyzer.load(); // the bundled model; { model: "mine.safetensors" } for another
try {
  const { faces } = await analyzer.analyze(photo);
  for (const face of faces) {
    const expression = predictionOf(face, "expression", "class");
    const age = predictionOf(face, "age", "value");
    const au = predictionOf(face, "au", "labels");
    const activeAus = Object.entries(au.probabilities)
      .filter(([, p]) => p >= 0.5)
      .map(([name]) => name);
    console.log(
      `face at (${face.box.x.toFixed(0)}, ${face.box.y.toFixed(0)}): ${expression.label} ${expression.probability.toFixed(2)}, age ${age.value.toFixed(0)}, AUs ${activeAus.join(" ")}`,
    );
  }
  const [first] = await analyzer.embed(await readFile(photo), "astronaut.jpg");
  console.log(`embedding: ${first.embedding.length} numbers, engine ${analyzer.engine}`);
} finally {
  await analyzer.dispose();
}
