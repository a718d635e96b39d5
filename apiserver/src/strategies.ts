import type { KubeObject, StatusCause } from '../../shared/src/index.js';
import { admitPodCreate, defaultPod, preparePodForCreate, validatePodSpec, validatePodUpdate } from './pods.js';
import { dns1123Label, dns1123Subdomain, invalid, required, type NameCheck } from './validation.js';

/**
 * Each registry's strategy (the strategy.go of each pkg/registry package) as data: defaulting,
 * in-tree create admission, PrepareForCreate/Update, validation, and what the
 * status subresource may change. Resources with no rule of their own use
 * the identity.
 */
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const same = (o: KubeObject): KubeObject => o;
const none = (): StatusCause[] => [];

export interface Strategy {
  readonly nameCheck: NameCheck;
  readonly defaults: (o: KubeObject) => KubeObject;
  /** In-tree mutating admission plugins that run before webhooks on create. */
  readonly admitCreate: (o: KubeObject) => KubeObject;
  readonly prepareForCreate: (o: KubeObject) => KubeObject;
  readonly validate: (o: KubeObject) => StatusCause[];
  /** Main-resource update: status comes from the old object where the type has one. */
  readonly prepareForUpdate: (o: KubeObject, old: KubeObject) => KubeObject;
  readonly validateUpdate: (o: KubeObject, old: KubeObject) => StatusCause[];
  /** Status subresource update: everything but status (and metadata) comes from the old object. */
  readonly prepareForStatusUpdate: (o: KubeObject, old: KubeObject) => KubeObject;
  /** The top-level field whose change bumps metadata.generation, if the type keeps one. */
  readonly generationField: string | undefined;
}

const keepStatus = (o: KubeObject, old: KubeObject): KubeObject => ({ ...o, status: old['status'] });
const keepSpec = (o: KubeObject, old: KubeObject): KubeObject => ({ ...o, spec: old['spec'] });

const base: Strategy = {
  nameCheck: dns1123Subdomain,
  defaults: same,
  admitCreate: same,
  prepareForCreate: same,
  validate: none,
  prepareForUpdate: same,
  validateUpdate: none,
  prepareForStatusUpdate: same,
  generationField: undefined,
};

const FAILURE_POLICIES = ['Fail', 'Ignore'];

/** admissionregistration/v1 SetDefaults_*Webhook. */
function defaultWebhooks(o: KubeObject, mutating: boolean): KubeObject {
  if (!Array.isArray(o['webhooks'])) return o;
  const webhooks = (o['webhooks'] as unknown[]).map((w) => {
    const h: Obj = { ...obj(w) };
    h['failurePolicy'] ??= 'Fail';
    h['matchPolicy'] ??= 'Equivalent';
    h['namespaceSelector'] ??= {};
    h['objectSelector'] ??= {};
    h['timeoutSeconds'] ??= 10;
    if (mutating) h['reinvocationPolicy'] ??= 'Never';
    if (Array.isArray(h['rules'])) h['rules'] = (h['rules'] as unknown[]).map((r) => ({ ...obj(r), scope: obj(r)['scope'] ?? '*' }));
    const cc = obj(h['clientConfig']);
    if (cc['service']) h['clientConfig'] = { ...cc, service: { ...obj(cc['service']), port: obj(cc['service'])['port'] ?? 443 } };
    return h;
  });
  return { ...o, webhooks };
}

/** ValidateMutating/ValidatingWebhookConfiguration, the checks that catch real mistakes. */
function validateWebhooks(o: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const list = Array.isArray(o['webhooks']) ? (o['webhooks'] as unknown[]) : [];
  const names = new Set<string>();
  list.forEach((w, i) => {
    const h = obj(w);
    const f = `webhooks[${i}]`;
    const name = h['name'];
    if (typeof name !== 'string' || name === '') out.push(required(`${f}.name`));
    else {
      if (name.split('.').length < 3) out.push(invalid(`${f}.name`, name, 'should be a domain with at least three segments separated by dots'));
      if (names.has(name)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${name}"`, field: `${f}.name` });
      names.add(name);
    }
    const versions = h['admissionReviewVersions'];
    if (!Array.isArray(versions) || versions.length === 0) out.push(required(`${f}.admissionReviewVersions`, 'must specify one of v1, v1beta1'));
    if (h['sideEffects'] === undefined) out.push(required(`${f}.sideEffects`, 'must specify one of None, NoneOnDryRun'));
    if (!FAILURE_POLICIES.includes(String(h['failurePolicy']))) {
      out.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: "${String(h['failurePolicy'])}": supported values: "Fail", "Ignore"`, field: `${f}.failurePolicy` });
    }
    const cc = obj(h['clientConfig']);
    if ((cc['url'] === undefined) === (cc['service'] === undefined)) out.push(required(`${f}.clientConfig`, 'exactly one of url or service is required'));
    const t = h['timeoutSeconds'];
    if (typeof t === 'number' && (t < 1 || t > 30)) out.push(invalid(`${f}.timeoutSeconds`, t, 'the timeout value must be between 1 and 30 seconds'));
  });
  return out;
}

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export const STRATEGIES: Readonly<Record<string, Strategy>> = {
  pods: {
    ...base,
    defaults: defaultPod,
    admitCreate: admitPodCreate,
    prepareForCreate: preparePodForCreate,
    validate: validatePodSpec,
    prepareForUpdate: keepStatus,
    validateUpdate: validatePodUpdate,
    prepareForStatusUpdate: (o, old) => ({ ...keepSpec(o, old), metadata: { ...o.metadata, ownerReferences: old.metadata.ownerReferences } }),
    generationField: 'spec',
  },
  nodes: {
    ...base,
    prepareForUpdate: keepStatus,
    prepareForStatusUpdate: keepSpec,
  },
  namespaces: {
    ...base,
    nameCheck: dns1123Label,
    // The namespace's own name label (NamespaceDefaultLabelName) is defaulted and kept.
    defaults: (o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...(o.metadata.name ? { [NAMESPACE_NAME_LABEL]: o.metadata.name } : {}) } },
    }),
    prepareForCreate: (o) => ({ ...o, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }),
    prepareForUpdate: (o, old) => ({ ...o, spec: old['spec'], status: old['status'] }),
    prepareForStatusUpdate: keepSpec,
  },
  events: base,
  leases: base,
  mutatingwebhookconfigurations: { ...base, defaults: (o) => defaultWebhooks(o, true), validate: validateWebhooks, validateUpdate: validateWebhooks, generationField: 'webhooks' },
  validatingwebhookconfigurations: { ...base, defaults: (o) => defaultWebhooks(o, false), validate: validateWebhooks, validateUpdate: validateWebhooks, generationField: 'webhooks' },
};

export function strategyFor(resource: string): Strategy {
  return STRATEGIES[resource] ?? base;
}
