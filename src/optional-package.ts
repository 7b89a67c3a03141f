/**
 * Packages that only some features need (package.json's optional peerDependencies: onnxruntime-node,
 * onnxruntime-web, webgpu, vega, vega-lite): a dependency install leaves them out, so each is
 * loaded with a dynamic `import()` where it is used, and its absence is told apart from a package
 * that is installed but broken.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_JSON = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json");

/** True when `error` says that package `name` itself cannot be found (not one of its own imports). */
export function isNotInstalled(error: unknown, name: string): boolean {
  const { code, message } = error as NodeJS.ErrnoException;
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && message.includes(`'${name}'`);
}

/** The package, or null when it is not installed; any other failure to load it is thrown. */
export async function importOptional<T>(name: string): Promise<T | null> {
  try {
    // A specifier in a variable: TypeScript then neither resolves nor needs the package.
    return (await import(name)) as T;
  } catch (error) {
    if (isNotInstalled(error, name)) return null;
    throw error;
  }
}

/** `npm install` of the named packages at the versions faceprior declares (its peerDependencies). */
export function installCommand(names: readonly string[]): string {
  const { peerDependencies = {} } = JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as { peerDependencies?: Record<string, string> };
  // onnxruntime-node's install step downloads CUDA libraries on Linux x64 (and fails offline); its CPU build needs none of them.
  const env = names.includes("onnxruntime-node") ? "ONNXRUNTIME_NODE_INSTALL=skip " : "";
  return `${env}npm install ${names.map((name) => (peerDependencies[name] ? `${name}@${peerDependencies[name]}` : name)).join(" ")}`;
}
