import type { PodStatus } from '../../shared/src/index.js';

/**
 * statusutil.PatchPodStatus's body: a two-way strategic merge patch from the
 * status the apiserver has to the one the kubelet wants, with the pod's uid
 * as a precondition. Maps carry only what changed (null removes a key), lists
 * with a merge key carry only the changed elements, identified by that key;
 * other lists are replaced whole. No change, no patch (and no request).
 */

/**
 * The PodStatus and NodeStatus lists that strategic merge patches by key
 * (patchMergeKey in k8s.io/api/core/v1). Container statuses have none, so a
 * change sends the whole list, as the kubelet's patches do.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  conditions: 'type',
  podIPs: 'ip',
  hostIPs: 'ip',
  // NodeStatus.addresses; node conditions share `conditions`.
  addresses: 'type',
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => equal(a[k], b[k]));
  }
  return false;
}

function diffList(old: unknown, next: Json[], mergeKey: string): Json[] | undefined {
  if (equal(old, next)) return undefined;
  const before = Array.isArray(old) ? old.filter(isObject) : [];
  const out: Json[] = [];
  for (const el of next) {
    if (!isObject(el)) return next;
    const prev = before.find((b) => b[mergeKey] === el[mergeKey]);
    if (!prev) {
      out.push(el);
      continue;
    }
    const d = diff(prev, el);
    if (d !== undefined) out.push({ [mergeKey]: el[mergeKey] as Json, ...(d as Record<string, Json>) });
  }
  return out.length > 0 ? out : undefined;
}

/** The patch taking `old` to `next`, or undefined when they are the same. */
export function diff(old: unknown, next: unknown, field?: string): Json | undefined {
  if (isObject(next)) {
    if (!isObject(old)) return next;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(next)) {
      // null and absent are the same to the apiserver (a zero metav1.Time marshals as null).
      if (v === undefined || (v === null && (old[k] === undefined || old[k] === null))) continue;
      const d = diff(old[k], v, k);
      if (d === undefined) continue;
      // A changed keyed list also states the order it should end up in, as CreateTwoWayMergePatch does.
      const mk = MERGE_KEYS[k];
      if (mk && Array.isArray(v)) out[`$setElementOrder/${k}`] = v.map((e) => ({ [mk]: (e as Record<string, Json>)[mk] as Json }));
      out[k] = d;
    }
    for (const k of Object.keys(old)) if (old[k] !== undefined && old[k] !== null && next[k] === undefined) out[k] = null;
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (Array.isArray(next) && field !== undefined && MERGE_KEYS[field]) return diffList(old, next, MERGE_KEYS[field] as string);
  return equal(old, next) ? undefined : (next as Json);
}

export function statusPatch(uid: string | undefined, current: PodStatus | undefined, desired: PodStatus): { metadata: { uid?: string }; status: Json } | undefined {
  const d = diff(current ?? {}, desired);
  if (d === undefined) return undefined;
  return { metadata: { ...(uid ? { uid } : {}) }, status: d };
}

/** PodConditionsByKubelet: the conditions the kubelet owns and rewrites. */
const KUBELET_CONDITIONS: ReadonlySet<string> = new Set(['PodScheduled', 'Ready', 'Initialized', 'ContainersReady', 'PodReadyToStartContainers']);

/**
 * mergePodStatus: conditions owned by someone else (a readiness gate's, a
 * controller's) stay as the apiserver has them, ahead of the kubelet's own.
 */
export function mergePodStatus(current: PodStatus | undefined, desired: PodStatus): PodStatus {
  const foreign = (current?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
  const own = (desired.conditions ?? []).filter((c) => KUBELET_CONDITIONS.has(c.type));
  return { ...desired, conditions: [...foreign, ...own] };
}
