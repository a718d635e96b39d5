import { describe, expect, it } from 'vitest';
import {
  httpClientEndAttributes,
  httpClientStartAttributes,
  httpServerEndAttributes,
  httpServerStartAttributes,
  httpServerStatus,
  httpClientStatus,
} from '../src/otelhttp.js';

const V035 = { version: '0.35.0', keys: 'v0.35' } as const;
const V061 = { version: '0.61.0', keys: 'v0.61' } as const;

const req = {
  method: 'POST',
  path: '/api/v1/namespaces/default/pods',
  target: '/api/v1/namespaces/default/pods?fieldManager=kubectl-run',
  serverName: 'KubernetesAPI',
  scheme: 'https',
  host: '127.0.0.1',
  port: 6443,
  peerAddress: '127.0.0.1',
  peerPort: 51712,
  userAgent: 'kubectl/v1.27.16 (linux/amd64) kubernetes/cbb86e0',
  forwardedFor: undefined,
  protocolVersion: '2',
  requestContentLength: 312,
} as const;

describe('otelhttp server attributes by generation', () => {
  it.each([
    [
      V035,
      {
        'net.transport': 'ip_tcp',
        'net.peer.ip': '127.0.0.1',
        'net.peer.port': 51712,
        'net.host.ip': '127.0.0.1',
        'net.host.port': 6443,
        'http.target': '/api/v1/namespaces/default/pods?fieldManager=kubectl-run',
        'http.server_name': 'KubernetesAPI',
        'http.user_agent': req.userAgent,
        'http.request_content_length': 312,
        'http.scheme': 'https',
        'http.host': '127.0.0.1:6443',
        'http.flavor': '2',
        'http.method': 'POST',
      },
    ],
    [
      V061,
      {
        'server.address': '127.0.0.1',
        'server.port': 6443,
        'http.request.method': 'POST',
        'url.scheme': 'https',
        'network.peer.address': '127.0.0.1',
        'network.peer.port': 51712,
        'user_agent.original': req.userAgent,
        'client.address': '127.0.0.1',
        'url.path': '/api/v1/namespaces/default/pods',
        'network.protocol.version': '2',
      },
    ],
  ])('%o start', (profile, want) => {
    const got = httpServerStartAttributes(profile, req);
    expect(got).toEqual(want);
    // Key order is the order Go appends them in.
    expect(Object.keys(got)).toEqual(Object.keys(want));
  });

  it('names a host name net.host.name, not net.host.ip (v0.35)', () => {
    const got = httpServerStartAttributes(V035, { ...req, host: 'kubernetes.default.svc' });
    expect(got['net.host.name']).toBe('kubernetes.default.svc');
    expect(got).not.toHaveProperty('net.host.ip');
  });

  it.each([
    [V035, { requestBodySize: 10, responseBodySize: 20, statusCode: 201 }, { 'http.read_bytes': 10, 'http.wrote_bytes': 20, 'http.status_code': 201 }],
    [V035, { requestBodySize: 0, responseBodySize: 0, statusCode: 404 }, { 'http.status_code': 404 }],
    [V061, { requestBodySize: 10, responseBodySize: 20, statusCode: 201 }, { 'http.request.body.size': 10, 'http.response.body.size': 20, 'http.response.status_code': 201 }],
  ])('%o end %o', (profile, r, want) => {
    expect(httpServerEndAttributes(profile, r)).toEqual(want);
  });

  it.each([
    [200, 0],
    [404, 0],
    [409, 0],
    [500, 2],
    [503, 2],
  ])('server status for %i is %i in both generations', (code, want) => {
    expect(httpServerStatus(V035, code).code).toBe(want);
    expect(httpServerStatus(V061, code).code).toBe(want);
  });
});

describe('otelhttp client attributes by generation', () => {
  const url = new URL('https://user:pw@webhook.default.svc:443/mutate-v1-pod?timeout=10s');
  it('v0.35 keys in Go\'s order, URL without credentials, scheme from request.TLS, flavor from the request\'s Proto', () => {
    const got = httpClientStartAttributes(V035, { method: 'post', url, protocolVersion: '2', userAgent: 'kube-apiserver-admission', requestContentLength: 900 });
    const want = {
      'http.url': 'https://webhook.default.svc/mutate-v1-pod?timeout=10s',
      'http.user_agent': 'kube-apiserver-admission',
      'http.request_content_length': 900,
      'http.scheme': 'http',
      'http.host': 'webhook.default.svc',
      'http.flavor': '1.1',
      'http.method': 'POST',
    };
    expect(got).toEqual(want);
    expect(Object.keys(got)).toEqual(Object.keys(want));
  });
  it.each([
    [false, 'http'],
    [true, 'https'],
  ])('v0.35 http.scheme follows request.TLS (%s → %s), which Go never sets on a client request', (requestTls, want) => {
    expect(httpClientStartAttributes(V035, { method: 'POST', url, protocolVersion: '1.1', requestTls })['http.scheme']).toBe(want);
    expect(httpClientStartAttributes(V061, { method: 'POST', url, protocolVersion: '1.1', requestTls })).not.toHaveProperty('http.scheme');
  });
  it('v0.61 keys', () => {
    expect(httpClientStartAttributes(V061, { method: 'POST', url: new URL('https://webhook.default.svc:9443/m'), protocolVersion: '1.1' })).toEqual({
      'http.request.method': 'POST',
      'url.full': 'https://webhook.default.svc:9443/m',
      'server.address': 'webhook.default.svc',
      'server.port': 9443,
      'network.protocol.version': '1.1',
    });
  });
  it.each([
    [V035, 200, { 'http.status_code': 200 }],
    [V035, 403, { 'http.status_code': 403 }],
    [V061, 200, { 'http.response.status_code': 200 }],
    [V061, 403, { 'http.response.status_code': 403, 'error.type': '403' }],
  ])('%o end %i', (profile, code, want) => {
    expect(httpClientEndAttributes(profile, code)).toEqual(want);
  });
  it.each([
    [200, 0],
    [404, 2],
    [500, 2],
  ])('client status for %i is %i', (code, want) => {
    expect(httpClientStatus(V035, code).code).toBe(want);
  });
});
