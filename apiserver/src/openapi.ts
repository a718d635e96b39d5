import { createHash } from 'node:crypto';
import { RESOURCES, groupVersion, type ResourceInfo } from './resources.js';

/**
 * A minimal OpenAPI v3 (protocols.md §4): the /openapi/v3 index and one
 * document per group version, with the operations, the
 * x-kubernetes-group-version-kind extension and the fieldValidation
 * parameter kubectl looks for before sending fieldValidation=Strict.
 */
type Obj = Record<string, unknown>;

const QUERY = (name: string, description: string): Obj => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [
  QUERY('dryRun', 'When present, indicates that modifications should not be persisted.'),
  QUERY('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  QUERY('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.'),
];

/** The definition name of a kind: io.k8s.api.core.v1.Pod. */
export function schemaName(r: ResourceInfo): string {
  const pkg = r.group === '' ? 'core' : r.group.split('.')[0];
  return `io.k8s.api.${pkg}.${r.version}.${r.kind}`;
}

function op(r: ResourceInfo, action: string, verb: string, extra: Obj = {}): Obj {
  const ref = { $ref: `#/components/schemas/${schemaName(r)}` };
  return {
    operationId: `${verb}${r.group === '' ? 'Core' : ''}${r.version.toUpperCase()}${r.namespaced ? 'Namespaced' : ''}${r.kind}`,
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
    ...extra,
  };
}

export function openapiDocument(gv: string, version: string): Obj | undefined {
  const resources = RESOURCES.filter((r) => groupVersion(r) === gv);
  if (resources.length === 0) return undefined;
  const prefix = gv === 'v1' ? '/api/v1' : `/apis/${gv}`;
  const paths: Obj = {};
  const schemas: Obj = {};
  for (const r of resources) {
    const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
    const body = { requestBody: { content: { '*/*': { schema: { $ref: `#/components/schemas/${schemaName(r)}` } } }, required: true } };
    paths[collection] = {
      get: op(r, 'list', 'list'),
      post: op(r, 'post', 'create', { ...body, parameters: WRITE_PARAMS }),
      parameters: r.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } }] : [],
    };
    paths[`${collection}/{name}`] = {
      get: op(r, 'get', 'read'),
      put: op(r, 'put', 'replace', { ...body, parameters: WRITE_PARAMS }),
      patch: op(r, 'patch', 'patch', { parameters: [...WRITE_PARAMS, QUERY('force', 'Force is going to "force" Apply requests.')] }),
      delete: op(r, 'delete', 'delete'),
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } },
        ...(r.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } }] : []),
      ],
    };
    schemas[schemaName(r)] = {
      type: 'object',
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } },
      'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version }, paths, components: { schemas } };
}

const hashes = new Map<string, string>();

function hashOf(gv: string, version: string): string {
  const key = `${gv}@${version}`;
  let h = hashes.get(key);
  if (!h) {
    h = createHash('sha512').update(JSON.stringify(openapiDocument(gv, version))).digest('hex').toUpperCase();
    hashes.set(key, h);
  }
  return h;
}

/** GET /openapi/v3: where each group version's document lives. */
export function openapiIndex(version: string): Obj {
  const paths: Obj = {};
  for (const gv of new Set(RESOURCES.map(groupVersion))) {
    const key = gv === 'v1' ? 'api/v1' : `apis/${gv}`;
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hashOf(gv, version)}` };
  }
  return { paths };
}

/** `/openapi/v3/api/v1` → `v1`; `/openapi/v3/apis/coordination.k8s.io/v1` → `coordination.k8s.io/v1`. */
export function openapiGroupVersion(path: string): string | undefined {
  const m = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))\/?$/.exec(path);
  return m ? (m[1] ?? m[2]) : undefined;
}
