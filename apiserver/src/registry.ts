import { randomUUID } from 'node:crypto';
import type { Span, SpanContext } from '@opentelemetry/api';
import { statusErrors, type KubeObject, type StatusCause } from '../../shared/src/index.js';
import type { Admission, AdmissionAttributes } from './admission.js';
import type { ListResult } from './etcd3-list.js';
import type { ListOptions } from './list-options.js';
import { groupVersion, resourceByName, type ResourceInfo } from './resources.js';
import { STORY_TRACEPARENT_ANNOTATION, storyTraceparent } from './spans.js';
import type { ResourceStorage } from './storage.js';
import { strategyFor, type Strategy } from './strategies.js';
import type { RequestTrace } from './trace-context.js';
import { invalid, validateObjectMeta } from './validation.js';

/** The authenticated caller, as admission reviews and trace decisions see it. */
export interface Caller {
  readonly username: string;
  readonly groups: readonly string[];
}

/** One request's view for registry operations: its trace, handler span, caller. */
export interface OpContext {
  readonly rt: RequestTrace;
  /** The handler span (Create, Update, Patch, Delete…), for the events upstream adds from inside storage callbacks. */
  readonly span: Span;
  readonly user: Caller;
  /** The SERVER span, whose context story mode writes on new pods. */
  readonly serverSpan: SpanContext | undefined;
}

export interface WriteOptions {
  readonly dryRun: boolean;
  /** CreateOptions / UpdateOptions as sent, for AdmissionReview.options. */
  readonly options: Record<string, unknown>;
}

/** RFC 3339 to the second, UTC, as metav1.Time marshals. */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** names.SimpleNameGenerator: five random characters after the prefix. */
export function generateName(prefix: string): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_CHARS[Math.floor(Math.random() * GENERATE_CHARS.length)];
  return `${prefix.slice(0, 253 - 5)}${s}`;
}

const META_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/**
 * The field order Go's encoder writes (TypeMeta, then ObjectMeta's fields in
 * struct order), so what etcdctl shows and clients receive reads like
 * kube-apiserver's output. Fields we do not know keep their order.
 */
export function canonicalOrder(obj: KubeObject): KubeObject {
  const meta: Record<string, unknown> = {};
  const m = obj.metadata as Record<string, unknown>;
  for (const k of META_ORDER) if (m[k] !== undefined) meta[k] = m[k];
  for (const [k, v] of Object.entries(m)) if (v !== undefined && !(k in meta)) meta[k] = v;
  const { kind, apiVersion, metadata: _m, ...rest } = obj;
  return { kind, apiVersion, metadata: meta, ...rest } as KubeObject;
}

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

/**
 * The generic registry (registry/generic/registry/store.go) with each type's
 * strategy: BeforeCreate / BeforeUpdate, admission, validation and storage,
 * in upstream's order.
 */
export class Registry {
  constructor(
    private readonly storages: ReadonlyMap<string, ResourceStorage>,
    readonly admission: Admission,
    private readonly storyMode: boolean,
    private readonly now: () => Date = () => new Date(),
  ) {}

  storage(info: ResourceInfo): ResourceStorage {
    const s = this.storages.get(info.resource);
    if (!s) throw new Error(`no storage for ${info.resource}`);
    return s;
  }

  /**
   * NamespaceLifecycle: objects go only into namespaces that exist. The
   * watch cache answers; a namespace it has not seen yet (created a moment
   * ago, or the cache still priming) is looked up in etcd, as the plugin
   * falls back to a live GET.
   */
  async ensureNamespace(info: ResourceInfo, namespace: string): Promise<void> {
    if (!info.namespaced) return;
    const ns = this.storage(resourceByName('namespaces'));
    const key = ns.key('', namespace);
    if (ns.cacher.cache.get(ns.store.etcdKey(key))) return;
    if ((await ns.store.get(undefined, key)).obj) return;
    throw statusErrors.notFound('namespaces', namespace);
  }

  forbidDeletingProtected(info: ResourceInfo, name: string): void {
    if (info.resource === 'namespaces' && info.group === '' && PROTECTED_NAMESPACES.has(name)) {
      throw statusErrors.forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
  }

  invalidError(info: ResourceInfo, name: string, causes: readonly StatusCause[]): Error {
    return statusErrors.invalid(info.kind, name, causes, info.group);
  }

  attrs(c: OpContext, info: ResourceInfo, a: Omit<AdmissionAttributes, 'info' | 'user' | 'kind'> & { kind?: AdmissionAttributes['kind'] }): AdmissionAttributes {
    return { info, user: { username: c.user.username, groups: c.user.groups }, kind: { group: info.group, version: info.version, kind: info.kind }, ...a };
  }

  /** Store.Create after decoding: in-tree admission, mutating webhooks, BeforeCreate, validation, validating webhooks, etcd. */
  async create(c: OpContext, info: ResourceInfo, namespace: string, input: KubeObject, o: WriteOptions): Promise<KubeObject> {
    const strategy = strategyFor(info.resource);
    await this.ensureNamespace(info, namespace);
    let obj = strategy.admitCreate(strategy.defaults(input));
    const base = { operation: 'CREATE' as const, subresource: '', namespace, name: obj.metadata.name ?? '', oldObject: undefined, options: o.options, dryRun: o.dryRun };
    obj = (await this.admission.mutate(c.rt, this.attrs(c, info, { ...base, object: obj }), strategy.defaults)) ?? obj;
    obj = this.beforeCreate(c, info, strategy, obj, namespace);
    await this.admission.validate(c.rt, this.attrs(c, info, { ...base, name: obj.metadata.name ?? '', object: obj }));
    const storage = this.storage(info);
    if (o.dryRun) return obj;
    return storage.create(c.rt, storage.key(namespace, obj.metadata.name as string), obj);
  }

  private beforeCreate(c: OpContext, info: ResourceInfo, strategy: Strategy, input: KubeObject, namespace: string): KubeObject {
    let obj = strategy.prepareForCreate({ ...input, apiVersion: groupVersion(info), kind: info.kind });
    const meta = { ...obj.metadata };
    if (info.namespaced) meta.namespace = namespace;
    if ((!meta.name || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName !== '') meta.name = generateName(meta.generateName);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (strategy.generationField) meta.generation = 1;
    else delete meta.generation;
    if (info.resource === 'pods' && this.storyMode && c.serverSpan) {
      meta.annotations = { ...(meta.annotations ?? {}), [STORY_TRACEPARENT_ANNOTATION]: storyTraceparent(c.serverSpan) };
    }
    obj = canonicalOrder({ ...obj, metadata: meta });
    const causes = [...validateObjectMeta(obj, info.namespaced, strategy.nameCheck), ...strategy.validate(obj)];
    if (causes.length > 0) throw this.invalidError(info, meta.name ?? '', causes);
    return obj;
  }

  /**
   * BeforeUpdate: the strategy decides what the request may change, system
   * fields come from the stored object, generation follows the spec, then
   * validation.
   */
  beforeUpdate(info: ResourceInfo, subresource: string, input: KubeObject, existing: KubeObject): KubeObject {
    const strategy = strategyFor(info.resource);
    const prepared = subresource === 'status' ? strategy.prepareForStatusUpdate(input, existing) : strategy.prepareForUpdate(input, existing);
    const meta = { ...prepared.metadata };
    const old = existing.metadata;
    const causes: StatusCause[] = [];
    if (meta.uid === undefined || meta.uid === '') meta.uid = old.uid;
    else if (meta.uid !== old.uid) causes.push(invalid('metadata.uid', meta.uid, 'field is immutable'));
    meta.creationTimestamp = old.creationTimestamp;
    for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (old[k] === undefined) delete meta[k];
      else (meta as Record<string, unknown>)[k] = old[k];
    }
    if (info.namespaced) meta.namespace = old.namespace;
    const field = strategy.generationField;
    if (field) {
      const changed = JSON.stringify(prepared[field]) !== JSON.stringify(existing[field]);
      meta.generation = (old.generation ?? 1) + (changed ? 1 : 0);
    } else delete meta.generation;
    const obj = canonicalOrder({ ...prepared, apiVersion: groupVersion(info), kind: info.kind, metadata: meta });
    causes.push(...validateObjectMeta(obj, info.namespaced, strategy.nameCheck));
    if (subresource === '') causes.push(...strategy.validateUpdate(obj, existing));
    if (causes.length > 0) throw this.invalidError(info, meta.name ?? '', causes);
    return obj;
  }

  get(c: OpContext, info: ResourceInfo, namespace: string, name: string, resourceVersion: string): Promise<KubeObject> {
    const s = this.storage(info);
    return s.get(c.rt, s.key(namespace, name), resourceVersion);
  }

  list(c: OpContext, info: ResourceInfo, namespace: string, o: ListOptions): Promise<ListResult> {
    return this.storage(info).list(c.rt, namespace, o);
  }

  /**
   * Store.Update (PUT) and the patcher's update: GuaranteedUpdate whose
   * tryUpdate computes the new object from the current one, then runs
   * mutating admission, BeforeUpdate and validating admission. Leases and
   * events may be created by an update (AllowCreateOnUpdate).
   */
  async update(
    c: OpContext,
    info: ResourceInfo,
    namespace: string,
    name: string,
    subresource: string,
    o: WriteOptions,
    newObject: (current: KubeObject | undefined) => Promise<KubeObject> | KubeObject,
  ): Promise<{ obj: KubeObject; created: boolean }> {
    const storage = this.storage(info);
    const strategy = strategyFor(info.resource);
    const key = storage.key(namespace, name);
    const allowCreate = subresource === '' && info.group !== 'admissionregistration.k8s.io' && (info.resource === 'leases' || info.resource === 'events');
    let dryRunResult: KubeObject | undefined;
    let created = false;
    const result = await storage.guaranteedUpdate(c.rt, key, {
      ignoreNotFound: allowCreate,
      tryUpdate: async (current) => {
        created = current === undefined;
        if (!current) {
          await this.ensureNamespace(info, namespace);
          let obj = strategy.admitCreate(strategy.defaults(await newObject(undefined)));
          const base = { operation: 'CREATE' as const, subresource: '', namespace, name, oldObject: undefined, options: o.options, dryRun: o.dryRun };
          obj = (await this.admission.mutate(c.rt, this.attrs(c, info, { ...base, object: obj }), strategy.defaults)) ?? obj;
          obj = this.beforeCreate(c, info, strategy, { ...obj, metadata: { ...obj.metadata, name, resourceVersion: undefined } }, namespace);
          delete obj.metadata.resourceVersion;
          await this.admission.validate(c.rt, this.attrs(c, info, { ...base, object: obj }));
          return obj;
        }
        let obj = strategy.defaults(await newObject(current));
        const base = { operation: 'UPDATE' as const, subresource, namespace, name, oldObject: current, options: o.options, dryRun: o.dryRun };
        obj = (await this.admission.mutate(c.rt, this.attrs(c, info, { ...base, object: obj }), strategy.defaults)) ?? obj;
        obj = this.beforeUpdate(info, subresource, obj, current);
        await this.admission.validate(c.rt, this.attrs(c, info, { ...base, object: obj }));
        if (o.dryRun) {
          dryRunResult = obj;
          // Returning the current object makes the store skip the write.
          return current;
        }
        return obj;
      },
    });
    return { obj: dryRunResult ?? result, created };
  }
}
