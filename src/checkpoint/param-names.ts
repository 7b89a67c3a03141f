/**
 * Parameter trees <-> timm `state_dict` names. `params.blocks[3].attn.qkv.weight` is
 * `blocks.3.attn.qkv.weight` on disk; numeric path parts become array indices.
 */
export type NamedTree<T> = T | NamedTree<T>[] | { [key: string]: NamedTree<T> };

export function flattenNamed<T>(tree: NamedTree<T>, isLeaf: (x: unknown) => x is T, prefix = ""): Record<string, T> {
  if (isLeaf(tree)) return { [prefix]: tree };
  const out: Record<string, T> = {};
  const entries = Array.isArray(tree) ? tree.map((v, i) => [String(i), v] as const) : Object.entries(tree as object);
  for (const [key, value] of entries) {
    Object.assign(out, flattenNamed(value as NamedTree<T>, isLeaf, prefix ? `${prefix}.${key}` : key));
  }
  return out;
}

export function unflattenNamed<T>(flat: Record<string, T>): NamedTree<T> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flat)) {
    const parts = name.split(".");
    let node = root;
    parts.slice(0, -1).forEach((part) => {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    });
    node[parts.at(-1)!] = value;
  }
  return arraysFromIndexedObjects(root) as NamedTree<T>;
}

/** `{ "0": a, "1": b }` becomes `[a, b]`, recursively. */
function arraysFromIndexedObjects(node: unknown): unknown {
  if (node === null || typeof node !== "object" || ArrayBuffer.isView(node) || !isPlainRecord(node)) return node;
  const entries = Object.entries(node).map(([k, v]) => [k, arraysFromIndexedObjects(v)] as const);
  const indexed = entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k));
  if (!indexed) return Object.fromEntries(entries);
  const out: unknown[] = [];
  for (const [k, v] of entries) out[Number(k)] = v;
  return out;
}

function isPlainRecord(x: object): boolean {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}
