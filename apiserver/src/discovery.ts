import { RESOURCES, apiGroups, groupVersion, type ResourceInfo } from './resources.js';

/**
 * Discovery documents (protocols.md §4): the legacy APIVersions /
 * APIGroupList / APIResourceList answers and the aggregated
 * APIGroupDiscoveryList (apidiscovery.k8s.io/v2) kubectl 1.32 prefers.
 */
type Obj = Record<string, unknown>;

export const AGGREGATED_MEDIA_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_BETA_MEDIA_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/**
 * The aggregated version the Accept header asks for first among those the
 * release serves (v2beta1 from 1.27, v2 from 1.30), if any; otherwise the
 * client gets the legacy documents.
 */
export function wantsAggregated(accept: string | undefined, served: readonly ('v2' | 'v2beta1')[]): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    const p = part.replace(/\s+/g, '');
    if (!p.includes('as=APIGroupDiscoveryList') || !p.includes('g=apidiscovery.k8s.io')) continue;
    const v = /(?:^|;)v=(v2beta1|v2)(?:;|$)/.exec(p)?.[1] as 'v2' | 'v2beta1' | undefined;
    if (v && served.includes(v)) return v;
  }
  return undefined;
}

export function aggregatedMediaType(v: 'v2' | 'v2beta1'): string {
  return v === 'v2' ? AGGREGATED_MEDIA_TYPE : AGGREGATED_BETA_MEDIA_TYPE;
}

function legacyResources(gv: string): Obj[] {
  const out: Obj[] = [];
  for (const r of RESOURCES.filter((x) => groupVersion(x) === gv)) {
    out.push({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      out.push({ name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced, ...(s.group ? { group: s.group } : {}), kind: s.kind, verbs: s.verbs });
    }
  }
  return out;
}

/** GET /api/v1, /apis/<group>/<version>: an APIResourceList, or undefined for an unknown group version. */
export function resourceList(gv: string): Obj | undefined {
  if (!RESOURCES.some((r) => groupVersion(r) === gv)) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: legacyResources(gv) };
}

export function apiVersions(serverAddress: string): Obj {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(name: string, versions: string[]): Obj {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): Obj {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups().map((g) => groupDoc(g.name, g.versions)) };
}

/** GET /apis/<group>: an APIGroup. */
export function apiGroup(name: string): Obj | undefined {
  const g = apiGroups().find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) } : undefined;
}

function discoveryResource(r: ResourceInfo): Obj {
  return {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    ...(r.subresources.length > 0
      ? { subresources: r.subresources.map((s) => ({ subresource: s.name, responseKind: { group: s.group, version: 'v1', kind: s.kind }, verbs: s.verbs })) }
      : {}),
  };
}

function discoveryGroup(name: string): Obj {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))];
  return {
    metadata: name === '' ? { creationTimestamp: null } : { name, creationTimestamp: null },
    versions: versions.map((v) => ({
      version: v,
      resources: RESOURCES.filter((r) => r.group === name && r.version === v).map(discoveryResource),
      freshness: 'Current',
    })),
  };
}

/** The aggregated document for /api (the legacy group) or /apis (named groups). */
export function aggregatedDiscovery(prefix: 'api' | 'apis', version: 'v2' | 'v2beta1'): Obj {
  const groups = prefix === 'api' ? [''] : apiGroups().map((g) => g.name);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map(discoveryGroup),
  };
}
