import { statusErrors } from '../../shared/src/index.js';
import type { HandlerDeps, ResourceRequest } from './handler-context.js';
import { deleteCollection, deleteResource, patchResource } from './handlers-patch-delete.js';
import { getResource, listResource } from './handlers-read.js';
import { createResource, updateResource } from './handlers-write.js';
import { findResource, type ResourceInfo } from './resources.js';
import { writeError } from './serialize.js';

type Handler = (d: HandlerDeps, r: ResourceRequest) => Promise<void>;

export type Route = { readonly kind: 'handler'; readonly handler: Handler } | { readonly kind: 'not-found' } | { readonly kind: 'not-allowed' };

const handler = (h: Handler): Route => ({ kind: 'handler', handler: h });
const NOT_FOUND: Route = { kind: 'not-found' };
const NOT_ALLOWED: Route = { kind: 'not-allowed' };

/**
 * Which handler serves a resource request: the routes the API installer
 * registers for each resource, scope and subresource. Pure, so the table of
 * paths and methods is tested directly.
 */
export function pickRoute(
  res: ResourceInfo | undefined,
  r: { verb: string; namespace: string; name: string; subresource: string; resource: string },
): Route {
  if (!res) return NOT_FOUND;
  const isNamespaces = res.resource === 'namespaces' && res.group === '';
  // A cluster-scoped resource has no routes under /namespaces/{ns}/ (namespaces themselves aside).
  if (!res.namespaced && !isNamespaces && r.namespace !== '') return NOT_FOUND;
  const sub = r.subresource;
  if (sub !== '' && !res.subresources.some((s) => s.name === sub)) return NOT_FOUND;
  const named = r.name !== '';
  // Namespaced resources across namespaces: only list and watch exist.
  const clusterWide = res.namespaced && r.namespace === '';
  if (clusterWide && named) return NOT_FOUND;
  switch (r.verb) {
    case 'get':
      if (sub === 'binding') return NOT_ALLOWED;
      return handler(getResource);
    case 'list':
      return handler((d, req) => listResource(d, req, false));
    case 'watch':
      return handler((d, req) => listResource(d, req, true));
    case 'create':
      if (clusterWide) return NOT_ALLOWED;
      if (sub === 'binding' && named) return handler(createResource);
      if (named || sub !== '') return NOT_ALLOWED;
      return handler(createResource);
    case 'update':
      if (!named || sub === 'binding') return NOT_ALLOWED;
      return handler(updateResource);
    case 'patch':
      if (!named || sub === 'binding') return NOT_ALLOWED;
      return handler(patchResource);
    case 'delete':
      if (sub !== '') return NOT_ALLOWED;
      return handler(deleteResource);
    case 'deletecollection':
      if (sub !== '' || clusterWide || !res.verbs.includes('deletecollection')) return NOT_ALLOWED;
      return handler(deleteCollection);
    default:
      return NOT_ALLOWED;
  }
}

export async function routeResource(d: HandlerDeps, r: Omit<ResourceRequest, 'res'>): Promise<void> {
  const res = findResource(r.info.apiGroup, r.info.apiVersion, r.info.resource);
  const route = pickRoute(res, r.info);
  if (route.kind === 'handler' && res) {
    await route.handler(d, { ...r, res });
    return;
  }
  const err = route.kind === 'not-found' ? statusErrors.noSuchResource() : statusErrors.methodNotAllowed();
  writeError(r.rt, r.ex, err, 'v1', d.log);
}
