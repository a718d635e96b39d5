import { statusErrors, type KubeObject, type Status } from '../../shared/src/index.js';
import { podGracePeriod } from './pods.js';
import type { OpContext, Registry } from './registry.js';
import { timestamp } from './registry.js';
import type { ResourceInfo } from './resources.js';
import type { Preconditions } from './storage-errors.js';

export interface DeleteOptions {
  readonly gracePeriodSeconds: number | undefined;
  readonly preconditions: Preconditions | undefined;
  readonly dryRun: boolean;
  readonly options: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

/** What rest.BeforeDelete decides for one object. */
export type DeleteDecision =
  | { readonly kind: 'now' }
  | { readonly kind: 'pending' }
  | { readonly kind: 'graceful'; readonly obj: KubeObject; readonly period: number };

/**
 * rest.BeforeDelete with the pod strategy's CheckGracefulDelete. Pods always
 * take the graceful path (a grace of 0 for unbound or finished pods), which
 * is why upstream writes deletionTimestamp before deleting even those.
 */
export function beforeDelete(info: ResourceInfo, obj: KubeObject, requested: number | undefined, now: Date): DeleteDecision {
  if (info.resource !== 'pods' || info.group !== '') return { kind: 'now' };
  const meta = obj.metadata;
  const requestedGrace = requested !== undefined && requested < 0 ? 1 : requested;
  if (meta.deletionTimestamp) {
    const old = meta.deletionGracePeriodSeconds;
    if (old === undefined || old === 0) return { kind: 'now' };
    if (requestedGrace === undefined || requestedGrace >= old) return { kind: 'pending' };
    let period = requestedGrace;
    let ts = new Date(Date.parse(meta.deletionTimestamp) - old * 1000 + period * 1000);
    if (ts < now) {
      ts = now;
      if (period !== 0) period = 1;
    }
    return { kind: 'graceful', period, obj: { ...obj, metadata: { ...meta, deletionTimestamp: timestamp(ts), deletionGracePeriodSeconds: period } } };
  }
  let period = podGracePeriod(obj, requestedGrace);
  if (period < 0) period = 1;
  const m = { ...meta, deletionTimestamp: timestamp(new Date(now.getTime() + period * 1000)), deletionGracePeriodSeconds: period };
  if (typeof m.generation === 'number' && m.generation > 0) m.generation += 1;
  return { kind: 'graceful', period, obj: { ...obj, metadata: m } };
}

/** BeforeDelete's precondition check, worded with the Kind as upstream does. */
function checkDeletePreconditions(info: ResourceInfo, obj: KubeObject, p: Preconditions | undefined): void {
  const name = obj.metadata.name ?? '';
  if (p?.uid !== undefined && p.uid !== obj.metadata.uid) {
    throw statusErrors.conflict(
      info.kind,
      name,
      info.group,
      `the UID in the precondition (${p.uid}) does not match the UID in record (${obj.metadata.uid ?? ''}). The object might have been deleted and then recreated`,
    );
  }
  if (p?.resourceVersion !== undefined && p.resourceVersion !== obj.metadata.resourceVersion) {
    throw statusErrors.conflict(
      info.kind,
      name,
      info.group,
      `the ResourceVersion in the precondition (${p.resourceVersion}) does not match the ResourceVersion in record (${obj.metadata.resourceVersion ?? ''}). The object might have been modified`,
    );
  }
}

function deletedStatus(info: ResourceInfo, obj: KubeObject): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: obj.metadata.name ?? '', ...(info.group ? { group: info.group } : {}), kind: info.resource, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) },
    code: 200,
  } as Status;
}

/**
 * Store.Delete: read the object, decide graceful or immediate, write the
 * deletion timestamp when graceful, and delete when the grace is over (0) and
 * no finalizer holds it. Resolves with what the response carries and whether
 * the object is gone.
 */
export async function deleteObject(
  reg: Registry,
  c: OpContext,
  info: ResourceInfo,
  namespace: string,
  name: string,
  o: DeleteOptions,
): Promise<{ result: KubeObject | Status; deleted: boolean }> {
  reg.forbidDeletingProtected(info, name);
  const storage = reg.storage(info);
  const key = storage.key(namespace, name);
  const current = await storage.get(c.rt, key, '');
  const now = new Date();
  checkDeletePreconditions(info, current, o.preconditions);
  const base = { operation: 'DELETE' as const, subresource: '', namespace, name, object: undefined, options: o.options, dryRun: o.dryRun };
  const validate = async (existing: KubeObject): Promise<void> => {
    const attrs = reg.attrs(c, info, { ...base, oldObject: existing });
    await reg.admission.mutate(c.rt, attrs, (x) => x);
    await reg.admission.validate(c.rt, attrs);
  };
  const first = beforeDelete(info, current, o.gracePeriodSeconds, now);
  if (first.kind === 'pending') return { result: current, deleted: false };
  const finalizers = (current.metadata.finalizers ?? []).length > 0;
  let preconditions = o.preconditions;
  if (first.kind === 'graceful' || finalizers) {
    let lastGrace = 0;
    let pending = false;
    const out = await storage.guaranteedUpdate(c.rt, key, {
      ...(preconditions ? { preconditions } : {}),
      tryUpdate: async (existing) => {
        const e = existing as KubeObject;
        await validate(e);
        const d = beforeDelete(info, e, o.gracePeriodSeconds, new Date());
        if (d.kind === 'pending') {
          pending = true;
          return e;
        }
        if (d.kind === 'now') {
          // Finalizers only: mark as deleting and let whoever owns them finish.
          return { ...e, metadata: { ...e.metadata, deletionTimestamp: e.metadata.deletionTimestamp ?? timestamp(new Date()), deletionGracePeriodSeconds: 0 } };
        }
        lastGrace = d.period;
        return d.obj;
      },
    });
    if (pending || lastGrace > 0 || (out.metadata.finalizers ?? []).length > 0) return { result: out, deleted: false };
    if (preconditions?.resourceVersion !== undefined) preconditions = { ...preconditions, resourceVersion: out.metadata.resourceVersion };
  }
  if (o.dryRun) return { result: current, deleted: true };
  const deleted = await storage.delete(c.rt, key, { ...(preconditions ? { preconditions } : {}), validate });
  return { result: info.returnDeletedObject ? deleted : deletedStatus(info, deleted), deleted: true };
}

/** A delete body or query: DeleteOptions' fields this apiserver acts on. */
export function deleteOptionsFrom(body: Obj | undefined, query: URLSearchParams): DeleteOptions {
  const b = body ?? {};
  const q = query.get('gracePeriodSeconds');
  const grace = typeof b['gracePeriodSeconds'] === 'number' ? b['gracePeriodSeconds'] : q !== null && /^-?\d+$/.test(q) ? Number(q) : undefined;
  const pre = (b['preconditions'] ?? undefined) as Obj | undefined;
  const dryRun = (Array.isArray(b['dryRun']) && b['dryRun'].length > 0) || query.getAll('dryRun').length > 0;
  return {
    gracePeriodSeconds: grace,
    preconditions: pre
      ? {
          ...(typeof pre['uid'] === 'string' ? { uid: pre['uid'] } : {}),
          ...(typeof pre['resourceVersion'] === 'string' ? { resourceVersion: pre['resourceVersion'] } : {}),
        }
      : undefined,
    dryRun,
    options: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', ...b },
  };
}
