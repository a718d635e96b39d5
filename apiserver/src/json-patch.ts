/**
 * RFC 7386 JSON merge patch and RFC 6902 JSON patch, with the error texts of
 * evanphx/json-patch that kube-apiserver passes on. Inputs are never mutated.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class PatchError extends Error {
  override name = 'PatchError';
}

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export interface JsonPatchOp {
  readonly op: string;
  readonly path: string;
  readonly value?: Json;
  readonly from?: string;
}

/** jsonpatch.DecodePatch: the body must be an array of operation objects. */
export function decodeJsonPatch(body: unknown): JsonPatchOp[] {
  if (!Array.isArray(body)) throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return body.map((op) => {
    if (!isObject(op)) throw new PatchError('json: cannot unmarshal non-object into Go value of type jsonpatch.Operation');
    return op as unknown as JsonPatchOp;
  });
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`unable to parse path: "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const clone = <T extends Json>(v: T): T => structuredClone(v);

function container(doc: Json, parts: string[], op: string, path: string): { parent: Json; key: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    const next = Array.isArray(cur) ? cur[Number(p)] : isObject(cur) ? cur[p] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') {
      throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    cur = next;
  }
  return { parent: cur, key: parts[parts.length - 1] as string };
}

function get(doc: Json, path: string, op: string): Json {
  const parts = parsePointer(path);
  if (parts.length === 0) return doc;
  const { parent, key } = container(doc, parts, op, path);
  const v = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? parent[key] : undefined;
  if (v === undefined) throw new PatchError(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
  return v;
}

function remove(doc: Json, path: string, op: string): Json {
  const parts = parsePointer(path);
  const { parent, key } = container(doc, parts, op, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    return parent.splice(i, 1)[0] as Json;
  }
  if (!isObject(parent) || !(key in parent)) throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  const v = parent[key] as Json;
  delete parent[key];
  return v;
}

function add(doc: Json, path: string, value: Json, op: string, replace: boolean): Json {
  const parts = parsePointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = container(doc, parts, op, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i >= parent.length)) {
      throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) throw new PatchError(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
    parent[key] = value;
  } else {
    throw new PatchError(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  }
  return doc;
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, Json>)[k] as Json, (b as Record<string, Json>)[k] as Json));
}

export function applyJsonPatch(doc: Json, ops: readonly JsonPatchOp[]): Json {
  let out = clone(doc);
  for (const o of ops) {
    if (typeof o.path !== 'string') throw new PatchError(`${o.op} operation missing path`);
    switch (o.op) {
      case 'add':
        out = add(out, o.path, clone(o.value ?? null), 'add', false);
        break;
      case 'remove':
        remove(out, o.path, 'remove');
        break;
      case 'replace':
        out = add(out, o.path, clone(o.value ?? null), 'replace', true);
        break;
      case 'move': {
        const v = remove(out, o.from ?? '', 'move');
        out = add(out, o.path, v, 'move', false);
        break;
      }
      case 'copy':
        out = add(out, o.path, clone(get(out, o.from ?? '', 'copy')), 'copy', false);
        break;
      case 'test': {
        let v: Json | undefined;
        try {
          v = get(out, o.path, 'test');
        } catch {
          v = undefined;
        }
        if (v === undefined || !deepEqual(v, o.value ?? null)) throw new PatchError(`testing value ${o.path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${String(o.op)}`);
    }
  }
  return out;
}
