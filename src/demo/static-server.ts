/**
 * A small static file server on node:http that serves only whitelisted folders: each route maps
 * a URL prefix onto one folder, and a request resolves inside that folder or not at all (no
 * `..`, no encoded separators, no directory listings). GET and HEAD only. A file that cannot
 * be opened or read is logged and answered 500; the server goes on serving.
 */
import { networkInterfaces } from "node:os";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FileHandle } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { FacepriorError } from "../errors.js";
import { openRegularFile } from "../io/regular-file.js";

/** URL paths starting with `prefix` (which ends in "/") are files under `dir`. */
export type StaticRoute = { prefix: string; dir: string };

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".ts": "text/plain; charset=utf-8",
  // instantiateStreaming, which tfjs and onnxruntime-web use, needs exactly this type.
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".jpg": "image/jpeg",
};

/** The index file a folder URL ("/", "/web/") stands for. */
const INDEX_FILE = "index.html";

/**
 * The file that `urlPath` names under the longest matching route, or null when it names none or
 * would leave its folder. `urlPath` is the path part of the request URL, still percent-encoded.
 */
export function resolveStaticPath(routes: readonly StaticRoute[], urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  // Backslashes and NUL bytes never name a file here; refuse them rather than normalise them away.
  if (!decoded.startsWith("/") || /[\\\0]/.test(decoded) || decoded.split("/").some((part) => part === "..")) return null;
  const route = [...routes].sort((a, b) => b.prefix.length - a.prefix.length).find((r) => decoded.startsWith(r.prefix));
  if (!route) return null;
  const relative = decoded.slice(route.prefix.length) || INDEX_FILE;
  const root = resolve(route.dir);
  const file = resolve(join(root, relative.endsWith("/") ? relative + INDEX_FILE : relative));
  return file.startsWith(root + sep) ? file : null;
}

function refuse(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(`${text}\n`);
}

/** Served files are the page, its code, vendor files and the model; none comes near this. */
const SERVED_FILE = { code: "BAD_ARGUMENT", what: "a file to serve", maxBytes: 2 ** 31 - 1 } as const;

/** Where a failed read is logged: the server's own stderr, never the client. */
export type ServeLog = (line: string) => void;

/** The opened file, or the status to answer instead: 404 when there is no such file, 500 (logged) when it cannot be opened. */
async function openServed(file: string, urlPath: string, log: ServeLog): Promise<FileHandle | 404 | 500> {
  try {
    return await openRegularFile(file, SERVED_FILE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || error instanceof FacepriorError) return 404; // absent, a folder, a FIFO
    log(`faceprior demo: ${urlPath}: cannot open ${file} (${(error as Error).message}); answered 500.`);
    return 500;
  }
}

async function serveFile(routes: readonly StaticRoute[], request: IncomingMessage, response: ServerResponse, log: ServeLog): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") return refuse(response, 405, "Only GET and HEAD.");
  const urlPath = (request.url ?? "/").split("?")[0]!;
  const file = resolveStaticPath(routes, urlPath);
  const handle = file ? await openServed(file, urlPath, log) : 404;
  if (handle === 404) return refuse(response, 404, `Not found: ${urlPath}`);
  if (handle === 500) return refuse(response, 500, `Cannot read ${urlPath}.`);
  response.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(file!)] ?? "application/octet-stream",
    "content-length": (await handle.stat()).size,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  if (request.method === "HEAD") {
    await handle.close();
    return void response.end();
  }
  const stream = handle.createReadStream();
  stream.on("error", (error) => {
    log(`faceprior demo: ${urlPath}: reading ${file} failed (${error.message}).`);
    response.destroy(error); // the status line is out: all a client can learn is that the body broke off
  });
  stream.pipe(response);
}

/** `url` is the one to show first; `urls` every address the server answers on. */
export type StaticServer = { url: string; urls: string[]; server: Server; close(): Promise<void> };

/** The http:// addresses a server bound to `host` answers on: every interface's for a wildcard host. */
function listeningUrls(host: string, port: number): string[] {
  const url = (address: string) => `http://${address.includes(":") ? `[${address}]` : address}:${port}/`;
  if (host !== "0.0.0.0" && host !== "::") return [url(host)];
  const ipv4 = Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => entry.family === "IPv4");
  return [`http://localhost:${port}/`, ...ipv4.map((entry) => url(entry.address))];
}

/** Listens on `host`:`port` (0: any free port) and serves `routes`. */
export async function startStaticServer(
  routes: readonly StaticRoute[],
  { host, port, log = (line) => process.stderr.write(`${line}\n`) }: { host: string; port: number; log?: ServeLog },
): Promise<StaticServer> {
  const server = createServer((request, response) => {
    serveFile(routes, request, response, log).catch((error: unknown) => {
      log(`faceprior demo: ${request.url}: ${(error as Error).message}; answered 500.`);
      if (!response.headersSent) refuse(response, 500, "Internal error.");
      else response.destroy();
    });
  });
  await new Promise<void>((done, fail) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const fix = error.code === "EADDRINUSE" ? "it is in use. Pass another port, or 0 for any free one." : `${error.message}.`;
      fail(new FacepriorError("BAD_ARGUMENT", `port ${port}: cannot listen on ${host}: ${fix}`, { option: "port" }));
    });
    server.listen(port, host, done);
  });
  const urls = listeningUrls(host, (server.address() as AddressInfo).port);
  return {
    url: urls[0]!,
    urls,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections(); // keep-alive sockets would hold close() open
      }),
  };
}
