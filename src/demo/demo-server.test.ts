/**
 * `faceprior demo`'s server: it serves the page, its code, the vendor files and the exported
 * model, and nothing outside those folders, however the path is spelled. The page itself is
 * tested in Chromium by web/demo.e2e.test.ts.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writeFaceModel } from "../face-model/face-model.js";
import { fakeFaceModel, SMALL_CFG } from "../../test/support/fake-vit.js";
import { startDemoCli } from "../../test/support/demo-cli.js";
import { assertNoStack, runCli } from "../../test/support/run-cli.js";
import { resolveStaticPath, startStaticServer } from "./static-server.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "faceprior-demo-server-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A GET (or `method`) with the path sent exactly as written, as a hostile client would send it. */
function rawRequest(url: string, path: string, method = "GET"): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, type: String(res.headers["content-type"]), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Paths that try to leave the served folders: dot segments plain and encoded, backslashes, NUL, bad escapes. */
const ESCAPES = [
  "/../secret.txt",
  "/site/../secret.txt",
  "/site/%2e%2e/secret.txt",
  "/site/..%2fsecret.txt",
  "/site/%2E%2E%2Fsecret.txt",
  "/site/..%5csecret.txt",
  "/site/%5c..%5csecret.txt",
  "/site/index.html%00.txt",
  "/site/%E0%A4%A",
];

test("resolveStaticPath keeps every path inside its route's folder, longest prefix first", () => {
  const routes = [
    { prefix: "/", dir: "/srv/page" },
    { prefix: "/site/", dir: "/srv/site" },
  ];
  assert.equal(resolveStaticPath(routes, "/"), "/srv/page/index.html");
  assert.equal(resolveStaticPath(routes, "/site/a%20b.js"), "/srv/site/a b.js");
  assert.equal(resolveStaticPath(routes, "/site/sub/"), "/srv/site/sub/index.html");
  assert.equal(resolveStaticPath(routes, "//etc/passwd"), "/srv/page/etc/passwd", "an absolute path after the prefix stays inside");
  for (const path of ESCAPES) assert.equal(resolveStaticPath(routes, path), null, path);
});

test("the server answers files with their type, and refuses escapes, folders and other methods", async () => {
  const site = join(dir, "served", "site");
  await mkdir(join(site, "sub"), { recursive: true });
  await writeFile(join(site, "index.html"), "<p>page</p>");
  await writeFile(join(site, "code.wasm"), "wasm");
  await writeFile(join(dir, "served", "secret.txt"), "SECRET");
  const server = await startStaticServer([{ prefix: "/site/", dir: site }], { host: "127.0.0.1", port: 0 });
  try {
    assert.deepEqual(await rawRequest(server.url, "/site/"), { status: 200, type: "text/html; charset=utf-8", body: "<p>page</p>" });
    assert.equal((await rawRequest(server.url, "/site/code.wasm?v=1")).type, "application/wasm");
    assert.equal((await rawRequest(server.url, "/site/index.html", "HEAD")).body, "");
    for (const path of [...ESCAPES, "/site/sub/", "/secret.txt", "/other/x"]) {
      const answer = await rawRequest(server.url, path);
      assert.equal(answer.status, 404, path);
      assert.doesNotMatch(answer.body, /SECRET/, path);
    }
    assert.equal((await rawRequest(server.url, "/site/index.html", "POST")).status, 405);
    await assert.rejects(
      startStaticServer([], { host: "127.0.0.1", port: Number(new URL(server.url).port) }),
      /^FacepriorError: port \d+: cannot listen on 127\.0\.0\.1: it is in use\. Pass another port, or 0 for any free one\.$/,
    );
  } finally {
    await server.close();
  }
});

test("faceprior demo exports the model and serves the page, its modules, the vendor files and the manifest, and nothing else", async () => {
  const model = join(dir, "smile.safetensors");
  await writeFaceModel(model, fakeFaceModel());
  const demo = await startDemoCli(["--model", model], dir);
  try {
    const served: [string, string][] = [
      ["/", "text/html; charset=utf-8"],
      ["/web/main.js", "text/javascript; charset=utf-8"],
      ["/src/priors/alignment.js", "text/javascript; charset=utf-8"],
      ["/vendor/human/human.esm.js", "text/javascript; charset=utf-8"],
      ["/vendor/human-models/facemesh.json", "application/json"],
      ["/vendor/tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm", "application/wasm"],
      ["/vendor/onnxruntime-web/ort.wasm.min.mjs", "text/javascript; charset=utf-8"],
      ["/vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm", "application/wasm"],
      ["/model/face-model.onnx", "application/octet-stream"],
    ];
    for (const [path, type] of served) {
      const answer = await rawRequest(demo.url, path, "HEAD");
      assert.deepEqual([answer.status, answer.type], [200, type], path);
    }
    const manifest = JSON.parse((await rawRequest(demo.url, "/model/face-model.json")).body);
    assert.deepEqual(manifest.outputs.heads, [{ name: "smile", activation: "sigmoid", labels: ["smile"] }]);
    assert.deepEqual(manifest.alignment.size, SMALL_CFG.imgSize);
    for (const path of [
      "/package.json",
      "/web/../package.json",
      "/src/%2e%2e/%2e%2e/package.json",
      "/vendor/human/../package.json",
      "/model/..%2f..%2f..%2fetc%2fpasswd",
    ]) {
      assert.equal((await rawRequest(demo.url, path)).status, 404, path);
    }
  } finally {
    await demo.stop();
  }
});

test("faceprior demo names a model it cannot use and how to fix it", async () => {
  const missing = await runCli(["demo", "--model", "nowhere.safetensors", "--port", "0"], dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^faceprior \[BAD_CHECKPOINT\]: nowhere\.safetensors: cannot be read/);
  assertNoStack(missing);
  const badPort = await runCli(["demo", "--port", "70000"], dir);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port/);
});

/** A regular file this process cannot open: mode 000, or under root (which opens those anyway) a write-only /proc/sys file. */
async function unopenableFile(): Promise<{ dir: string; name: string }> {
  if (process.getuid?.() === 0) return { dir: "/proc/sys/vm", name: "drop_caches" };
  const folder = join(dir, "locked");
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "secret.bin"), "x");
  await chmod(join(folder, "secret.bin"), 0o000);
  return { dir: folder, name: "secret.bin" };
}

test("a file the server cannot open is logged and answered 500, and the server keeps serving", async () => {
  const locked = await unopenableFile();
  const site = join(dir, "served-500");
  await mkdir(site, { recursive: true });
  await writeFile(join(site, "index.html"), "<p>still here</p>");
  const logged: string[] = [];
  const server = await startStaticServer(
    [
      { prefix: "/locked/", dir: locked.dir },
      { prefix: "/", dir: site },
    ],
    { host: "127.0.0.1", port: 0, log: (line) => logged.push(line) },
  );
  try {
    const failed = await rawRequest(server.url, `/locked/${locked.name}`);
    assert.deepEqual(
      [failed.status, failed.body],
      [500, `Cannot read /locked/${locked.name}.\n`],
      "the client is not told where the file is, or why",
    );
    assert.match(logged.join("\n"), new RegExp(`/locked/${locked.name}: cannot open .*${locked.name} \\(EACCES`));
    assert.deepEqual(await rawRequest(server.url, "/"), { status: 200, type: "text/html; charset=utf-8", body: "<p>still here</p>" });
  } finally {
    await server.close();
  }
});

test("faceprior demo --host prints every address it listens on, and SIGTERM removes its temporary folder", async () => {
  const model = join(dir, "term.safetensors");
  await writeFaceModel(model, fakeFaceModel());
  const temp = join(dir, "demo-tmp");
  await mkdir(temp);
  const demo = await startDemoCli(["--model", model, "--host"], dir, { ...process.env, TMPDIR: temp });
  const port = new URL(demo.url).port;
  assert.deepEqual((await readdir(temp)).filter((name) => name.startsWith("faceprior-demo-")).length, 1, "the exported model's folder");
  assert.match(
    demo.stdout(),
    new RegExp(`^Also on: .*http://127\\.0\\.0\\.1:${port}/`, "m"),
    "each interface's address, not only localhost",
  );
  assert.equal((await rawRequest(`http://127.0.0.1:${port}/`, "/model/face-model.json")).status, 200);
  assert.equal(await demo.stop("SIGTERM"), 143);
  assert.deepEqual(await readdir(temp), [], "SIGTERM leaves no temporary folder");
});
