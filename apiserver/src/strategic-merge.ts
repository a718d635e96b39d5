import type { Json } from './json-patch.js';

/**
 * Strategic merge patch (apimachinery/pkg/util/strategicpatch) for the types
 * this apiserver serves: lists with a patchMergeKey merge element by element,
 * `$patch: delete|replace`, `null` deletes a field, `$setElementOrder/`,
 * `$deleteFromPrimitiveList/` and `$retainKeys` directives. The merge keys
 * are the ones in k8s.io/api's struct tags (listed by path, array indices
 * left out). The container status lists have no merge key there, so a patch
 * replaces them whole: the kubelet always sends every container's status,
 * and a merge would keep a stale `waiting` next to a new `running` state.
 */
export const MERGE_KEYS: Readonly<Record<string, string>> = {
  'metadata.ownerReferences': 'uid',
  'metadata.finalizers': '$primitive',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.ephemeralContainers': 'name',
  'spec.volumes': 'name',
  'spec.imagePullSecrets': 'name',
  'spec.containers.env': 'name',
  'spec.initContainers.env': 'name',
  'spec.containers.ports': 'containerPort',
  'spec.initContainers.ports': 'containerPort',
  'spec.containers.volumeMounts': 'mountPath',
  'spec.initContainers.volumeMounts': 'mountPath',
  'spec.podCIDRs': '$primitive',
  'status.conditions': 'type',
  'status.addresses': 'type',
  'status.podIPs': 'ip',
  'status.hostIPs': 'ip',
};

type Obj = Record<string, Json>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const DELETE = Symbol('delete');

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((e) => !(isObject(e) && e['$patch'] !== undefined && Object.keys(e).length === 1)).map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function mergeList(orig: Json | undefined, patch: Json[], key: string, path: string): Json[] {
  if (patch.some((e) => isObject(e) && e['$patch'] === 'replace')) {
    return patch.filter((e) => !(isObject(e) && e['$patch'] === 'replace')).map(stripDirectives);
  }
  const out: Json[] = Array.isArray(orig) ? [...orig] : [];
  if (key === '$primitive') {
    for (const p of patch) if (!out.some((o) => o === p)) out.push(p);
    return out;
  }
  for (const p of patch) {
    if (!isObject(p)) {
      out.push(p);
      continue;
    }
    const idx = out.findIndex((o) => isObject(o) && o[key] === p[key]);
    if (p['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    const merged = apply(idx >= 0 ? out[idx] : undefined, p, path);
    if (merged === DELETE) continue;
    if (idx >= 0) out[idx] = merged;
    else out.push(merged);
  }
  return out;
}

function reorder(list: Json[], order: Json[], key: string): Json[] {
  const keyOf = (e: Json): Json | undefined => (key === '$primitive' ? e : isObject(e) ? e[key] : undefined);
  const wanted = order.map((o) => (key === '$primitive' ? o : isObject(o) ? o[key] : undefined));
  const pos = (e: Json): number => {
    const i = wanted.findIndex((w) => w === keyOf(e));
    return i < 0 ? wanted.length : i;
  };
  return list
    .map((e, i) => ({ e, i }))
    .sort((a, b) => pos(a.e) - pos(b.e) || a.i - b.i)
    .map((x) => x.e);
}

function apply(orig: Json | undefined, patch: Json, path: string): Json | typeof DELETE {
  if (!isObject(patch)) return patch;
  if (patch['$patch'] === 'delete') return DELETE;
  if (patch['$patch'] === 'replace') return stripDirectives(patch);
  const out: Obj = isObject(orig) ? { ...orig } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    const p = path === '' ? k : `${path}.${k}`;
    if (v === null) delete out[k];
    else if (Array.isArray(v)) {
      const key = MERGE_KEYS[p];
      out[k] = key === undefined ? stripDirectives(v) : mergeList(out[k], v, key, p);
    } else if (isObject(v)) {
      const merged = apply(out[k], v, p);
      if (merged === DELETE) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    const del = /^\$deleteFromPrimitiveList\/(.+)$/.exec(k);
    if (del && Array.isArray(v) && Array.isArray(out[del[1] as string])) {
      out[del[1] as string] = (out[del[1] as string] as Json[]).filter((e) => !v.includes(e));
    }
    const ord = /^\$setElementOrder\/(.+)$/.exec(k);
    if (ord && Array.isArray(v) && Array.isArray(out[ord[1] as string])) {
      const field = ord[1] as string;
      const key = MERGE_KEYS[path === '' ? field : `${path}.${field}`] ?? '$primitive';
      out[field] = reorder(out[field] as Json[], v, key);
    }
  }
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k) && patch[k] === undefined) delete out[k];
  }
  return out;
}

export function strategicMergePatch(original: Json, patch: Json): Json {
  const r = apply(original, patch, '');
  return r === DELETE ? {} : r;
}
