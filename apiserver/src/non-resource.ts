import { statusErrors } from '../../shared/src/index.js';
import {
  aggregatedDiscovery,
  aggregatedMediaType,
  apiGroup,
  apiGroupList,
  apiVersions,
  resourceList,
  wantsAggregated,
} from './discovery.js';
import type { Exchange } from './exchange.js';
import { healthResponse, type Check } from './health.js';
import { openapiDocument, openapiGroupVersion, openapiIndex } from './openapi.js';
import { OPENAPI_V2_PROTOBUF, openapiV2Json, openapiV2Protobuf, wantsOpenapiV2Protobuf } from './openapi-v2.js';
import { serializeObject, writeError } from './serialize.js';
import type { RequestTrace } from './trace-context.js';

export interface NonResourceDeps {
  readonly etcdHealthy: Check;
  readonly cachesReady: Check;
  /** host:port this server is reached at, for APIVersions.serverAddressByClientCIDRs. */
  readonly serverAddress: string;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** /version, discovery, OpenAPI and health: everything outside /api/<v>/… and /apis/<g>/<v>/…. */
export async function serveNonResource(d: NonResourceDeps, ex: Exchange, rt: RequestTrace): Promise<void> {
  const path = ex.path.replace(/\/+$/, '') || '/';
  if (ex.method !== 'GET' && ex.method !== 'HEAD') {
    writeError(rt, ex, statusErrors.noSuchResource(), 'v1', d.log);
    return;
  }
  const health = await healthResponse(path, ex.query, d.etcdHealthy, d.cachesReady);
  if (health) {
    ex.send(health.status, 'text/plain; charset=utf-8', health.body, { 'x-content-type-options': 'nosniff' });
    return;
  }
  const profile = rt.tracers.profile;
  const gitVersion = profile.versionInfo['gitVersion'] as string;
  if (path === '/version') {
    // WriteRawJSON: indented, no SerializeObject span.
    ex.send(200, 'application/json', JSON.stringify(profile.versionInfo, null, 2));
    return;
  }
  if (path === '/api' || path === '/apis') {
    const agg = wantsAggregated(ex.header('accept'), profile.aggregatedDiscovery);
    if (agg) {
      serializeObject(rt, ex, 200, aggregatedMediaType(agg), `apidiscovery.k8s.io/${agg}`, aggregatedDiscovery(path === '/api' ? 'api' : 'apis', agg));
    } else {
      serializeObject(rt, ex, 200, 'application/json', 'v1', path === '/api' ? apiVersions(d.serverAddress) : apiGroupList());
    }
    return;
  }
  const gvMatch = /^\/api\/(v1)$|^\/apis\/([^/]+\/[^/]+)$/.exec(path);
  const list = gvMatch ? resourceList((gvMatch[1] ?? gvMatch[2]) as string) : undefined;
  if (list) {
    serializeObject(rt, ex, 200, 'application/json', 'v1', list);
    return;
  }
  const groupMatch = /^\/apis\/([^/]+)$/.exec(path);
  const group = groupMatch ? apiGroup(groupMatch[1] as string) : undefined;
  if (group) {
    serializeObject(rt, ex, 200, 'application/json', 'v1', group);
    return;
  }
  if (path === '/openapi/v2') {
    if (wantsOpenapiV2Protobuf(ex.header('accept'))) ex.send(200, OPENAPI_V2_PROTOBUF, openapiV2Protobuf(gitVersion));
    else ex.send(200, 'application/json', JSON.stringify(openapiV2Json(gitVersion)));
    return;
  }
  if (path === '/openapi/v3') {
    ex.send(200, 'application/json', JSON.stringify(openapiIndex(gitVersion)));
    return;
  }
  const gv = openapiGroupVersion(path);
  const doc = gv ? openapiDocument(gv, gitVersion) : undefined;
  if (doc) {
    ex.send(200, 'application/json', JSON.stringify(doc), { etag: `"${ex.query.get('hash') ?? ''}"` });
    return;
  }
  writeError(rt, ex, statusErrors.noSuchResource(), 'v1', d.log);
}
