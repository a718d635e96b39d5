import type { KubeObject } from '../../shared/src/index.js';

/** The AdmissionReview v1 request fields this webhook reads. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  operation?: string;
  name?: string;
  namespace?: string;
  object?: KubeObject | null;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { code: number; message: string };
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** What the demo webhook adds to every pod it admits. */
export interface Mutation {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export const DEFAULT_MUTATION: Mutation = {
  labels: { 'admission.k8s-trace-sim.io/mutated': 'true' },
  annotations: { 'admission.k8s-trace-sim.io/mutated-by': 'pod-mutator' },
};

/** RFC 6901: `/` and `~` inside a key are escaped in a JSON pointer. */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

type PatchOp = { op: 'add' | 'replace'; path: string; value: unknown };

function mapOps(obj: KubeObject, field: 'labels' | 'annotations', want: Readonly<Record<string, string>>): PatchOp[] {
  const entries = Object.entries(want);
  if (entries.length === 0) return [];
  const current = obj.metadata[field];
  // Adding into a map that does not exist fails a JSON patch, so create it whole.
  if (current === undefined || current === null) return [{ op: 'add', path: `/metadata/${field}`, value: { ...want } }];
  return entries
    .filter(([k, v]) => current[k] !== v)
    .map(([k, v]) => ({ op: k in current ? 'replace' : 'add', path: `/metadata/${field}/${escapePointer(k)}`, value: v }));
}

/** The JSON patch that applies `m` to a pod, empty when nothing needs to change. */
export function podPatch(pod: KubeObject, m: Mutation = DEFAULT_MUTATION): PatchOp[] {
  return [...mapOps(pod, 'labels', m.labels), ...mapOps(pod, 'annotations', m.annotations)];
}

/**
 * The AdmissionReview answer for one request body, as a controller-runtime
 * webhook gives it: problems with the request are reported inside the
 * review (allowed: false with a status), never as an HTTP error.
 */
export function review(body: unknown, m: Mutation = DEFAULT_MUTATION): AdmissionReview {
  const wrap = (response: AdmissionResponse): AdmissionReview => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
  const b = body as { apiVersion?: string; kind?: string; request?: AdmissionRequest } | null;
  if (!b || typeof b !== 'object' || b.kind !== 'AdmissionReview' || !b.request) {
    return wrap({ uid: '', allowed: false, status: { code: 400, message: 'contentType=application/json, expected AdmissionReview with a request' } });
  }
  if (b.apiVersion !== 'admission.k8s.io/v1') {
    return wrap({ uid: b.request.uid ?? '', allowed: false, status: { code: 400, message: `unsupported AdmissionReview version ${String(b.apiVersion)}` } });
  }
  const req = b.request;
  const isPod = req.kind?.kind === 'Pod' && (req.kind.group ?? '') === '';
  const obj = req.object;
  if (!isPod || !obj || typeof obj !== 'object' || !obj.metadata || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) {
    return wrap({ uid: req.uid, allowed: true });
  }
  const ops = podPatch(obj, m);
  if (ops.length === 0) return wrap({ uid: req.uid, allowed: true });
  return wrap({ uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });
}
