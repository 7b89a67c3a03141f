/**
 * A small static file server on node:http that serves only whitelisted folders: each route maps
 * a URL prefix onto one folder, and a request resolves inside that folder or not at all (no
 * `..`, no encoded separators, no directory listings). GET and HEAD only.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { FacepriorError } from "../errors.js";

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

async function serveFile(routes: readonly StaticRoute[], request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") return refuse(response, 405, "Only GET and HEAD.");
  const urlPath = (request.url ?? "/").split("?")[0]!;
  const file = resolveStaticPath(routes, urlPath);
  const info = file ? await stat(file).catch(() => null) : null;
  if (!file || !info?.isFile()) return refuse(response, 404, `Not found: ${urlPath}`);
  response.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": info.size,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  if (request.method === "HEAD") return void response.end();
  createReadStream(file).pipe(response);
}

export type StaticServer = { url: string; server: Server; close(): Promise<void> };

/** Listens on `host`:`port` (0: any free port) and serves `routes`. */
export async function startStaticServer(routes: readonly StaticRoute[], { host, port }: { host: string; port: number }): Promise<StaticServer> {
  const server = createServer((request, response) => {
    serveFile(routes, request, response).catch((error: unknown) => refuse(response, 500, String(error)));
  });
  await new Promise<void>((done, fail) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const fix = error.code === "EADDRINUSE" ? `port ${port} is in use. Pass another --port, or --port 0 for any free one.` : `${error.message}.`;
      fail(new FacepriorError("BAD_ARGUMENT", `--port ${port}: cannot listen on ${host}: ${fix}`));
    });
    server.listen(port, host, done);
  });
  const { port: bound } = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return {
    url: `http://${shownHost}:${bound}/`,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections(); // keep-alive sockets would hold close() open
      }),
  };
}
