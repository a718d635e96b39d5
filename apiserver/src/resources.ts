/**
 * The resources this apiserver serves, as data: discovery, routing, storage
 * keys, span attributes and field selectors all read this table.
 */
export interface SubresourceInfo {
  readonly name: string;
  readonly kind: string;
  readonly group: string;
  readonly verbs: readonly string[];
}

export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  /** Plural, as in URLs. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceInfo[];
  /** Key segment under --etcd-prefix: nodes live under `minions` for historical reasons. */
  readonly etcdResource: string;
  /** Go type name of the internal object (getTypeName), e.g. `*core.Pod`. */
  readonly goType: string;
  /** Objects expire with a lease of this many seconds (events: --event-ttl 1h). */
  readonly ttlSeconds?: number;
  /** DELETE answers with the object (pods, namespaces) rather than a Status. */
  readonly returnDeletedObject: boolean;
  /** Fields a field selector may use beyond metadata.name / metadata.namespace. */
  readonly fieldLabels: readonly string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export const RESOURCES: readonly ResourceInfo[] = [
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    verbs: ALL_VERBS,
    subresources: [
      { name: 'binding', kind: 'Binding', group: '', verbs: ['create'] },
      { name: 'status', kind: 'Pod', group: '', verbs: ['get', 'patch', 'update'] },
    ],
    etcdResource: 'pods',
    goType: '*core.Pod',
    returnDeletedObject: true,
    fieldLabels: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
  },
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    categories: [],
    verbs: ALL_VERBS,
    subresources: [{ name: 'status', kind: 'Node', group: '', verbs: ['get', 'patch', 'update'] }],
    etcdResource: 'minions',
    goType: '*core.Node',
    returnDeletedObject: false,
    fieldLabels: ['spec.unschedulable'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    categories: [],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'status', kind: 'Namespace', group: '', verbs: ['get', 'patch', 'update'] }],
    etcdResource: 'namespaces',
    goType: '*core.Namespace',
    returnDeletedObject: true,
    fieldLabels: ['status.phase'],
  },
  {
    group: '',
    version: 'v1',
    resource: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    categories: [],
    verbs: ALL_VERBS,
    subresources: [],
    etcdResource: 'events',
    goType: '*core.Event',
    ttlSeconds: 3600,
    returnDeletedObject: false,
    fieldLabels: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    resource: 'leases',
    singular: 'lease',
    kind: 'Lease',
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    subresources: [],
    etcdResource: 'leases',
    goType: '*coordination.Lease',
    returnDeletedObject: false,
    fieldLabels: [],
  },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'mutatingwebhookconfigurations',
    singular: 'mutatingwebhookconfiguration',
    kind: 'MutatingWebhookConfiguration',
    namespaced: false,
    shortNames: [],
    categories: ['api-extensions'],
    verbs: ALL_VERBS,
    subresources: [],
    etcdResource: 'mutatingwebhookconfigurations',
    goType: '*admissionregistration.MutatingWebhookConfiguration',
    returnDeletedObject: false,
    fieldLabels: [],
  },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'validatingwebhookconfigurations',
    singular: 'validatingwebhookconfiguration',
    kind: 'ValidatingWebhookConfiguration',
    namespaced: false,
    shortNames: [],
    categories: ['api-extensions'],
    verbs: ALL_VERBS,
    subresources: [],
    etcdResource: 'validatingwebhookconfigurations',
    goType: '*admissionregistration.ValidatingWebhookConfiguration',
    returnDeletedObject: false,
    fieldLabels: [],
  },
];

export function groupVersion(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function resourceByName(resource: string): ResourceInfo {
  const r = RESOURCES.find((x) => x.resource === resource);
  if (!r) throw new Error(`unknown resource ${resource}`);
  return r;
}

/** Groups and versions in discovery order (legacy core first, then named groups). */
export function apiGroups(): { name: string; versions: string[] }[] {
  const out: { name: string; versions: string[] }[] = [];
  for (const r of RESOURCES) {
    if (r.group === '') continue;
    let g = out.find((x) => x.name === r.group);
    if (!g) out.push((g = { name: r.group, versions: [] }));
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  return out;
}
