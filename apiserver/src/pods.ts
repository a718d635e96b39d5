import type { KubeObject, StatusCause } from '../../shared/src/index.js';
import { dns1123Label, duplicate, forbidden, invalid, notSupported, required } from './validation.js';

/**
 * The Pod rules of kube-apiserver: scheme defaulting (SetDefaults_Pod,
 * _PodSpec, _Container), the Priority and DefaultTolerationSeconds admission
 * plugins, PrepareForCreate (status, QoS class), spec validation and the
 * update restrictions, with upstream's messages.
 */
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** Always for `:latest` or an untagged image, IfNotPresent otherwise (digests included). */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagSep = image.indexOf(':', lastSlash + 1);
  if (tagSep < 0) return 'Always';
  return image.slice(tagSep + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): Obj {
  const out: Obj = { ...c };
  if (out['imagePullPolicy'] === undefined && typeof out['image'] === 'string') out['imagePullPolicy'] = defaultPullPolicy(out['image']);
  out['resources'] ??= {};
  out['terminationMessagePath'] ??= '/dev/termination-log';
  out['terminationMessagePolicy'] ??= 'File';
  if (Array.isArray(out['ports'])) out['ports'] = arr(out['ports']).map((p) => ({ ...p, protocol: p['protocol'] ?? 'TCP' }));
  return out;
}

/** Scheme defaulting, run on every decode and again after a webhook patched the object. */
export function defaultPod(pod: KubeObject): KubeObject {
  const spec: Obj = { ...obj(pod['spec']) };
  if (Array.isArray(spec['containers'])) spec['containers'] = arr(spec['containers']).map(defaultContainer);
  if (Array.isArray(spec['initContainers'])) spec['initContainers'] = arr(spec['initContainers']).map(defaultContainer);
  spec['restartPolicy'] ??= 'Always';
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['securityContext'] ??= {};
  spec['schedulerName'] ??= 'default-scheduler';
  spec['enableServiceLinks'] ??= true;
  return { ...pod, spec };
}

const NOT_READY_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/** The Priority and DefaultTolerationSeconds admission plugins (create only). */
export function admitPodCreate(pod: KubeObject): KubeObject {
  const spec: Obj = { ...obj(pod['spec']) };
  spec['priority'] ??= 0;
  spec['preemptionPolicy'] ??= 'PreemptLowerPriority';
  const tolerations = arr(spec['tolerations']);
  for (const t of NOT_READY_TOLERATIONS) {
    const tolerated = tolerations.some((x) => (x['key'] === t.key || x['key'] === undefined) && (x['effect'] === t.effect || x['effect'] === undefined));
    if (!tolerated) tolerations.push({ ...t });
  }
  spec['tolerations'] = tolerations;
  return { ...pod, spec };
}

/** qos.GetPodQOS */
export function qosClass(spec: Obj): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers = [...arr(spec['containers']), ...arr(spec['initContainers'])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const res = obj(c['resources']);
    const requests = obj(res['requests']);
    const limits = obj(res['limits']);
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (limit === undefined || String(limit) !== String(request)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** podStrategy.PrepareForCreate: a fresh status, Pending, with the QoS class. */
export function preparePodForCreate(pod: KubeObject): KubeObject {
  const spec = obj(pod['spec']);
  return { ...pod, status: { phase: 'Pending', qosClass: qosClass(spec) } };
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

function validateContainers(field: string, list: unknown, names: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  arr(list).forEach((c, i) => {
    const f = `${field}[${i}]`;
    const name = c['name'];
    if (typeof name !== 'string' || name === '') out.push(required(`${f}.name`));
    else {
      for (const e of dns1123Label(name, false)) out.push(invalid(`${f}.name`, name, e));
      if (names.has(name)) out.push(duplicate(`${f}.name`, name));
      names.add(name);
    }
    if (typeof c['image'] !== 'string' || c['image'].trim() === '') out.push(required(`${f}.image`));
    if (c['imagePullPolicy'] !== undefined && !PULL_POLICIES.includes(String(c['imagePullPolicy']))) {
      out.push(notSupported(`${f}.imagePullPolicy`, c['imagePullPolicy'], PULL_POLICIES));
    }
  });
  return out;
}

/** ValidatePodSpec, the parts a simulated cluster exercises. */
export function validatePodSpec(pod: KubeObject): StatusCause[] {
  const spec = obj(pod['spec']);
  const out: StatusCause[] = [];
  const names = new Set<string>();
  if (!Array.isArray(spec['containers']) || spec['containers'].length === 0) out.push(required('spec.containers'));
  else out.push(...validateContainers('spec.containers', spec['containers'], names));
  out.push(...validateContainers('spec.initContainers', spec['initContainers'], names));
  if (!RESTART_POLICIES.includes(String(spec['restartPolicy']))) out.push(notSupported('spec.restartPolicy', spec['restartPolicy'], RESTART_POLICIES));
  if (!DNS_POLICIES.includes(String(spec['dnsPolicy']))) out.push(notSupported('spec.dnsPolicy', spec['dnsPolicy'], DNS_POLICIES));
  const grace = spec['terminationGracePeriodSeconds'];
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace))) {
    out.push(invalid('spec.terminationGracePeriodSeconds', grace, 'must be an integer'));
  }
  return out;
}

const UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate: only images, activeDeadlineSeconds and added tolerations may change. */
export function validatePodUpdate(pod: KubeObject, old: KubeObject): StatusCause[] {
  const out = validatePodSpec(pod);
  if (!onlyAllowedChanged(pod, old)) out.push(forbidden('spec', UPDATE_FORBIDDEN));
  return out;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as Obj).sort().map((k) => [k, canonical((v as Obj)[k])]));
  }
  return v;
}

function onlyAllowedChanged(pod: KubeObject, old: KubeObject): boolean {
  const strip = (p: KubeObject): unknown => {
    const spec: Obj = { ...obj(p['spec']) };
    for (const k of ['containers', 'initContainers']) {
      if (Array.isArray(spec[k])) spec[k] = arr(spec[k]).map((c) => ({ ...c, image: '' }));
    }
    delete spec['activeDeadlineSeconds'];
    delete spec['tolerations'];
    return canonical(spec);
  };
  return JSON.stringify(strip(pod)) === JSON.stringify(strip(old));
}

/** podStrategy.CheckGracefulDelete: the grace period a DELETE gets. */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = obj(pod['spec']);
  const status = obj(pod['status']);
  let period = requested ?? (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 0);
  if (typeof spec['nodeName'] !== 'string' || spec['nodeName'] === '') period = 0;
  if (status['phase'] === 'Failed' || status['phase'] === 'Succeeded') period = 0;
  return period;
}
