import { StatusError, statusErrors, type KubeObject, type Status } from '../../shared/src/index.js';
import type { OpContext, Registry, WriteOptions } from './registry.js';
import { timestamp } from './registry.js';
import { resourceByName } from './resources.js';
import { notSupported, required } from './validation.js';

type Obj = Record<string, unknown>;

/** setPodNodeAndMetadata: the pod bound to `node`, with PodScheduled=True. */
export function assignPod(pod: KubeObject, node: string, annotations: Record<string, string> | undefined, now: Date): KubeObject {
  const name = pod.metadata.name ?? '';
  if (pod.metadata.deletionTimestamp) throw new Error(`pod ${name} is being deleted, cannot be assigned to a host`);
  const spec = (pod['spec'] ?? {}) as Obj;
  if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') {
    throw new Error(`pod ${name} is already assigned to node "${spec['nodeName']}"`);
  }
  const status = (pod['status'] ?? {}) as Obj;
  const conditions = Array.isArray(status['conditions']) ? [...(status['conditions'] as Obj[])] : [];
  const scheduled = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(now) };
  const i = conditions.findIndex((c) => c['type'] === 'PodScheduled');
  if (i >= 0) {
    const prev = conditions[i] as Obj;
    conditions[i] = prev['status'] === 'True' ? prev : scheduled;
  } else conditions.push(scheduled);
  const meta = annotations && Object.keys(annotations).length > 0 ? { ...pod.metadata, annotations: { ...(pod.metadata.annotations ?? {}), ...annotations } } : pod.metadata;
  return { ...pod, metadata: meta, spec: { ...spec, nodeName: node }, status: { ...status, conditions } };
}

/**
 * BindingREST.Create (pods/binding): validate the Binding, run admission for
 * the subresource, then GuaranteedUpdate the pod. Any failure that is not
 * already a Status becomes a Conflict on pods/binding, as upstream words it.
 */
export async function bindPod(reg: Registry, c: OpContext, namespace: string, name: string, binding: KubeObject, o: WriteOptions): Promise<Status> {
  const pods = resourceByName('pods');
  if (binding.metadata.name !== undefined && binding.metadata.name !== name) {
    throw statusErrors.badRequest('name in URL does not match name in Binding object');
  }
  const target = (binding['target'] ?? {}) as Obj;
  const causes = [];
  if (typeof target['name'] !== 'string' || target['name'] === '') causes.push(required('target.name'));
  if (target['kind'] !== undefined && target['kind'] !== '' && target['kind'] !== 'Node') causes.push(notSupported('target.kind', target['kind'], ['Node']));
  if (causes.length > 0) throw statusErrors.invalid('Binding', name, causes);
  await reg.ensureNamespace(pods, namespace);
  const attrs = reg.attrs(c, pods, {
    operation: 'CREATE',
    subresource: 'binding',
    kind: { group: '', version: 'v1', kind: 'Binding' },
    namespace,
    name,
    object: binding,
    oldObject: undefined,
    options: o.options,
    dryRun: o.dryRun,
  });
  await reg.admission.mutate(c.rt, attrs, (x) => x);
  await reg.admission.validate(c.rt, attrs);
  const storage = reg.storage(pods);
  const uid = binding.metadata.uid;
  const rv = binding.metadata.resourceVersion;
  try {
    if (!o.dryRun) {
      await storage.guaranteedUpdate(c.rt, storage.key(namespace, name), {
        preconditions: { ...(uid ? { uid } : {}), ...(rv ? { resourceVersion: rv } : {}) },
        tryUpdate: (pod) => assignPod(pod as KubeObject, target['name'] as string, binding.metadata.annotations, new Date()),
      });
    }
  } catch (e) {
    if (e instanceof StatusError) throw e;
    throw statusErrors.conflict('pods/binding', name, '', (e as Error).message);
  }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
