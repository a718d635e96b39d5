import { describe, expect, it } from 'vitest';
import { cleanScope, normalizedVerb, parseRequestInfo } from '../src/request-info.js';

const parse = (method: string, path: string, query = '') => parseRequestInfo(method, path, new URLSearchParams(query));

describe('RequestInfo as kube-apiserver parses it', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods', '', { verb: 'list', namespace: 'default', resource: 'pods', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods', 'watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/namespaces/default/pods', 'watch=false', { verb: 'list' }],
    ['GET', '/api/v1/namespaces/default/pods', 'watch=0', { verb: 'list' }],
    ['GET', '/api/v1/watch/namespaces/default/pods', '', { verb: 'watch', legacyWatch: true, namespace: 'default', resource: 'pods' }],
    ['GET', '/api/v1/watch/namespaces/default/pods/x', '', { verb: 'watch', name: 'x' }],
    ['GET', '/api/v1/namespaces/default/pods/x', '', { verb: 'get', name: 'x', subresource: '' }],
    ['GET', '/api/v1/namespaces/default/pods/x/status', '', { verb: 'get', name: 'x', subresource: 'status' }],
    ['POST', '/api/v1/namespaces/default/pods/x/binding', '', { verb: 'create', name: 'x', subresource: 'binding' }],
    ['DELETE', '/api/v1/namespaces/default/pods', '', { verb: 'deletecollection' }],
    ['DELETE', '/api/v1/namespaces/default/pods/x', '', { verb: 'delete', name: 'x' }],
    ['GET', '/api/v1/nodes', '', { verb: 'list', namespace: '', resource: 'nodes' }],
    ['GET', '/api/v1/namespaces', '', { verb: 'list', namespace: '', resource: 'namespaces' }],
    ['GET', '/api/v1/namespaces/kube-system', '', { verb: 'get', namespace: 'kube-system', resource: 'namespaces', name: 'kube-system' }],
    ['PUT', '/api/v1/namespaces/x/status', '', { verb: 'update', resource: 'namespaces', name: 'x', subresource: 'status' }],
    ['GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', '', { apiGroup: 'coordination.k8s.io', apiVersion: 'v1', resource: 'leases' }],
    ['GET', '/api/v1/pods', 'fieldSelector=metadata.name%3Dnginx', { verb: 'list', name: 'nginx' }],
    ['GET', '/api/v1/pods', 'fieldSelector=spec.nodeName%3Dn1', { verb: 'list', name: '' }],
    ['PATCH', '/api/v1/namespaces/default/pods/x', '', { verb: 'patch' }],
    ['OPTIONS', '/api/v1/namespaces/default/pods/x', '', { verb: '' }],
  ])('%s %s?%s', (method, path, query, want) => {
    expect(parse(method, path, query)).toMatchObject({ isResourceRequest: true, ...want });
  });

  it.each(['/', '/api', '/apis', '/api/v1', '/apis/coordination.k8s.io', '/apis/coordination.k8s.io/v1', '/healthz', '/version', '/openapi/v3/api/v1'])(
    '%s is not a resource request',
    (path) => {
      expect(parse('GET', path).isResourceRequest).toBe(false);
    },
  );

  it.each([
    ['POST', '/api/v1/namespaces/default/pods', '', 'POST', 'resource'],
    ['GET', '/api/v1/namespaces/default/pods', '', 'LIST', 'namespace'],
    ['GET', '/api/v1/nodes', '', 'LIST', 'cluster'],
    ['GET', '/api/v1/nodes', 'watch=1', 'WATCH', 'cluster'],
    ['GET', '/api/v1/namespaces/default/pods/x', '', 'GET', 'resource'],
    ['PATCH', '/api/v1/namespaces/default/pods/x', '', 'PATCH', 'resource'],
    ['GET', '/healthz', '', 'GET', ''],
  ])('%s %s?%s: verb %s, scope %s', (method, path, query, verb, scope) => {
    const i = parse(method, path, query);
    expect(normalizedVerb(method, i, new URLSearchParams(query), undefined)).toBe(verb);
    expect(cleanScope(i)).toBe(scope);
  });

  it('server-side apply is APPLY', () => {
    const i = parse('PATCH', '/api/v1/namespaces/default/pods/x');
    expect(normalizedVerb('PATCH', i, new URLSearchParams(), 'application/apply-patch+yaml')).toBe('APPLY');
  });
});
