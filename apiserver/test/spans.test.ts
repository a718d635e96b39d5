import { describe, expect, it } from 'vitest';
import { PROFILES, PROFILE_1_27, PROFILE_1_35 } from '../src/profile.js';
import { parseRequestInfo } from '../src/request-info.js';
import {
  admissionSpan,
  apiserverInstanceId,
  apiserverResource,
  base32NoPadding,
  cacherGetListAttributes,
  encoderIdentifier,
  etcdListSpan,
  gvrString,
  incomingParent,
  responseWriterType,
  serializeObjectEvents,
  serverSpanName,
  storageSpanAttributes,
  storyTraceparent,
  traceFields,
  truncateUserAgent,
  webhookClientAttributes,
  webhookTransportError,
} from '../src/spans.js';

const info = (method: string, path: string, query = '') => parseRequestInfo(method, path, new URLSearchParams(query));

describe('kube-apiserver 1.35 span shapes', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('base32 without padding (RFC 4648 vectors) %j', (input, want) => {
    expect(base32NoPadding(Buffer.from(input))).toBe(want);
  });

  it('service.instance.id is apiserver- and 26 lower-case base32 characters, stable per hostname', () => {
    const id = apiserverInstanceId('node-a');
    expect(id).toMatch(/^apiserver-[a-z2-7]{26}$/);
    expect(apiserverInstanceId('node-a')).toBe(id);
    expect(apiserverInstanceId('node-b')).not.toBe(id);
    expect(apiserverResource('node-a')).toEqual({ 'service.name': 'apiserver', 'service.instance.id': id });
  });

  it.each([
    ['POST', '/api/v1/namespaces/default/pods', '', 'POST /api/v1/namespaces/{:namespace}/pods'],
    ['GET', '/api/v1/nodes', 'limit=500', 'GET /api/v1/nodes'],
    ['POST', '/api/v1/namespaces/default/pods/nginx/binding', '', 'POST /api/v1/namespaces/{:namespace}/pods/{:name}/binding'],
    ['PATCH', '/api/v1/namespaces/default/pods/nginx/status', '', 'PATCH /api/v1/namespaces/{:namespace}/pods/{:name}/status'],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', '', 'PUT /apis/coordination.k8s.io/v1/namespaces/{:namespace}/leases/{:name}'],
    ['GET', '/api/v1/pods', 'fieldSelector=metadata.name%3Dx&watch=true', 'GET /api/v1/pods/{:name}'],
    ['GET', '/api/v1/namespaces/default', '', 'GET /api/v1/namespaces/{:namespace}/namespaces/{:name}'],
    ['GET', '/healthz', '', 'GET'],
    ['GET', '/api', '', 'GET'],
    ['GET', '/apis/coordination.k8s.io/v1', '', 'GET'],
    ['GET', '/version', '', 'GET'],
  ])('%s %s?%s is named %j', (method, path, query, want) => {
    expect(serverSpanName(PROFILE_1_35, method, info(method, path, query))).toBe(want);
  });

  it.each([
    [['system:masters', 'system:authenticated'], true, { kind: 'remote' }],
    [['system:masters', 'system:authenticated'], false, { kind: 'local' }],
    [['system:monitoring'], true, { kind: 'remote' }],
    [['system:nodes', 'system:authenticated'], true, { kind: 'root', link: true }],
    [['system:nodes', 'system:authenticated'], false, { kind: 'root', link: false }],
    [['system:unauthenticated'], true, { kind: 'root', link: true }],
  ])('groups %j with a valid traceparent=%s → %j in both modes', (groups, remote, want) => {
    expect(incomingParent(PROFILE_1_35, 'faithful', groups, remote)).toEqual(want);
    expect(incomingParent(PROFILE_1_35, 'story', groups, remote)).toEqual(want);
  });

  it('traceFields: every value a string, in trace_util.go order', () => {
    const a = traceFields(PROFILE_1_35, {
      accept: 'application/json',
      auditId: 'a-1',
      clientIp: '127.0.0.1',
      info: info('POST', '/api/v1/namespaces/default/pods'),
      protocol: 'HTTP/2.0',
      userAgent: 'kubectl/v1.32.4',
      verb: 'POST',
    });
    expect(Object.keys(a)).toEqual([
      'accept',
      'audit-id',
      'client',
      'api-group',
      'api-version',
      'name',
      'subresource',
      'namespace',
      'protocol',
      'resource',
      'scope',
      'url',
      'user-agent',
      'verb',
    ]);
    expect(a).toMatchObject({ 'api-group': '', 'api-version': 'v1', name: '', namespace: 'default', resource: 'pods', scope: 'resource', url: '/api/v1/namespaces/default/pods' });
    expect(Object.values(a).every((v) => typeof v === 'string')).toBe(true);
  });

  it.each([
    [undefined, ''],
    ['kubectl/v1.32', 'kubectl/v1.32'],
    ['x'.repeat(1024), 'x'.repeat(1024)],
    ['x'.repeat(1025), `${'x'.repeat(1024)}...TRUNCATED`],
  ])('user agent %#', (ua, want) => {
    expect(truncateUserAgent(ua)).toBe(want);
  });

  it('storage spans: key without the prefix, group and resource split (1.34+)', () => {
    expect(storageSpanAttributes(PROFILE_1_35, { auditId: 'x', key: '/pods/default/nginx', goType: '*core.Pod', group: '', resource: 'pods' })).toEqual({
      'audit-id': 'x',
      key: '/pods/default/nginx',
      type: '*core.Pod',
      group: '',
      resource: 'pods',
    });
    const old = { ...PROFILE_1_35, splitGroupResource: false };
    expect(storageSpanAttributes(old, { auditId: 'x', key: '/leases/a/b', goType: '*coordination.Lease', group: 'coordination.k8s.io', resource: 'leases' })).toMatchObject({
      resource: 'leases.coordination.k8s.io',
    });
  });

  it('List(recursive=true) etcd3 carries limit as an int and the rest as strings', () => {
    const s = etcdListSpan(true, { auditId: 'x', key: '/minions', resourceVersion: '', resourceVersionMatch: '', limit: 1, continueToken: '' });
    expect(s.name).toBe('List(recursive=true) etcd3');
    expect(s.attributes).toEqual({ 'audit-id': 'x', key: '/minions', resourceVersion: '', resourceVersionMatch: '', limit: 1, continue: '' });
    expect(cacherGetListAttributes('x', 'coordination.k8s.io', 'leases')).toEqual({ 'audit-id': 'x', type: 'leases.coordination.k8s.io' });
  });

  it('admission span and GVR strings', () => {
    expect(gvrString('', 'v1', 'pods')).toBe('/v1, Resource=pods');
    const s = admissionSpan('mutating', { configuration: 'cfg', webhook: 'w.example.com', group: '', version: 'v1', resource: 'pods', subresource: '', operation: 'CREATE', uid: 'u' });
    expect(s).toEqual({
      name: 'Call mutating webhook',
      attributes: { configuration: 'cfg', webhook: 'w.example.com', resource: '/v1, Resource=pods', subresource: '', operation: 'CREATE', UID: 'u' },
    });
    expect(admissionSpan('validating', { configuration: '', webhook: '', group: '', version: 'v1', resource: 'pods', subresource: '', operation: 'CREATE', uid: '' }).name).toBe(
      'Call validating webhook',
    );
  });

  it('webhook HTTP POST keeps the :443 Go writes in url.full', () => {
    expect(webhookClientAttributes(PROFILE_1_35, 'https://wh.default.svc:443/mutate?timeout=10s', { userAgent: 'kube-apiserver-admission', contentLength: 900 })).toEqual({
      'http.request.method': 'POST',
      'url.full': 'https://wh.default.svc:443/mutate?timeout=10s',
      'server.address': 'wh.default.svc',
      'server.port': 443,
      'network.protocol.version': '1.1',
    });
  });

  it('SerializeObject encoder identifier is the versioning JSON encoder', () => {
    expect(JSON.parse(encoderIdentifier('v1'))).toEqual({
      encodeGV: 'v1',
      encoder: '{"name":"json","pretty":"false","strict":"false","yaml":"false"}',
      name: 'versioning',
    });
  });

  it.each([
    [1, '01'],
    [0, '00'],
  ])('story traceparent keeps the sampled flag %i', (flags, want) => {
    expect(storyTraceparent({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: flags })).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-${want}`);
  });
});

describe('span shapes per release (1.27 and 1.35)', () => {
  const input = {
    accept: 'application/json',
    auditId: 'a-1',
    clientIp: '127.0.0.1',
    info: info('POST', '/api/v1/namespaces/default/pods'),
    protocol: 'HTTP/2.0',
    userAgent: 'kubectl/v1.27.16',
    verb: 'POST',
  };

  it.each([
    ['1.27', 'POST', '/api/v1/namespaces/default/pods', 'KubernetesAPI'],
    ['1.27', 'GET', '/api/v1/nodes', 'KubernetesAPI'],
    ['1.27', 'GET', '/healthz', 'KubernetesAPI'],
    ['1.35', 'GET', '/api/v1/nodes', 'GET /api/v1/nodes'],
    ['1.35', 'GET', '/healthz', 'GET'],
  ] as const)('%s names %s %s %j', (version, method, path, want) => {
    expect(serverSpanName(PROFILES[version], method, info(method, path))).toBe(want);
  });

  it.each([
    // 1.26–1.32: every request is public, a traceparent only becomes a link.
    ['1.27', 'faithful', ['system:masters', 'system:authenticated'], true, { kind: 'root', link: true }],
    ['1.27', 'faithful', ['system:masters', 'system:authenticated'], false, { kind: 'root', link: false }],
    ['1.27', 'faithful', ['system:nodes'], true, { kind: 'root', link: true }],
    // story mode's documented simplification: 1.33's rule for privileged callers; no authentication root to hang from.
    ['1.27', 'story', ['system:masters', 'system:authenticated'], true, { kind: 'remote' }],
    ['1.27', 'story', ['system:masters', 'system:authenticated'], false, { kind: 'root', link: false }],
    ['1.27', 'story', ['system:nodes', 'system:authenticated'], true, { kind: 'root', link: true }],
    ['1.35', 'faithful', ['system:masters'], false, { kind: 'local' }],
    ['1.35', 'story', ['system:masters'], false, { kind: 'local' }],
  ] as const)('%s %s: groups %j, traceparent %s → %j', (version, mode, groups, remote, want) => {
    expect(incomingParent(PROFILES[version], mode, groups, remote)).toEqual(want);
  });

  it.each([
    ['1.27', ['accept', 'audit-id', 'client', 'protocol', 'resource', 'scope', 'url', 'user-agent', 'verb']],
    [
      '1.35',
      ['accept', 'audit-id', 'client', 'api-group', 'api-version', 'name', 'subresource', 'namespace', 'protocol', 'resource', 'scope', 'url', 'user-agent', 'verb'],
    ],
  ] as const)('%s traceFields keys', (version, keys) => {
    const a = traceFields(PROFILES[version], input);
    expect(Object.keys(a)).toEqual(keys);
    expect(Object.values(a).every((v) => typeof v === 'string')).toBe(true);
  });

  it.each([
    ['1.27', { 'audit-id': 'x', key: '/pods/default/nginx', type: '*core.Pod', resource: 'pods' }, { resource: 'leases.coordination.k8s.io' }],
    ['1.35', { 'audit-id': 'x', key: '/pods/default/nginx', type: '*core.Pod', group: '', resource: 'pods' }, { group: 'coordination.k8s.io', resource: 'leases' }],
  ] as const)('%s storage span attributes', (version, pods, leases) => {
    const p = PROFILES[version];
    expect(storageSpanAttributes(p, { auditId: 'x', key: '/pods/default/nginx', goType: '*core.Pod', group: '', resource: 'pods' })).toEqual(pods);
    expect(storageSpanAttributes(p, { auditId: 'x', key: '/leases/a/b', goType: '*coordination.Lease', group: 'coordination.k8s.io', resource: 'leases' })).toMatchObject(leases);
  });

  it.each([
    ['1.27', 'HTTP/2.0', { size: 10 }, { writer: 'responsewriter.outerWithCloseNotifyAndFlush', size: 10, firstWrite: true }],
    ['1.27', 'HTTP/1.1', { size: 10 }, { writer: '*responsewriter.outerWithCloseNotifyFlushAndHijack', size: 10, firstWrite: true }],
    ['1.35', 'HTTP/2.0', { writer: '*http2.responseWriter', size: 10 }, { size: 10 }],
  ] as const)('%s SerializeObject events over %s', (version, protocol, start, succeeded) => {
    const p = PROFILES[version];
    expect(serializeObjectEvents(p, { writer: responseWriterType(p, protocol), size: 10 })).toEqual({ start, succeeded });
  });

  it('1.27 webhook HTTP POST: semconv v1.12 keys, the Go URL and Host, and http.scheme "http" (request.TLS is nil on a client request)', () => {
    expect(webhookClientAttributes(PROFILE_1_27, 'https://wh.default.svc:443/mutate?timeout=10s', { userAgent: 'kube-apiserver-admission', contentLength: 900 })).toEqual({
      'http.method': 'POST',
      'http.url': 'https://wh.default.svc:443/mutate?timeout=10s',
      'http.scheme': 'http',
      'http.host': 'wh.default.svc:443',
      'http.flavor': '1.1',
      'http.user_agent': 'kube-apiserver-admission',
      'http.request_content_length': 900,
    });
  });

  it.each([
    ['1.27', {}, { 'exception.type': '*net.OpError', 'exception.message': 'dial tcp 127.0.0.1:1: connect: connection refused' }],
    ['1.35', { 'error.type': '*url.Error' }, undefined],
  ] as const)('%s webhook transport failure', (version, attributes, exception) => {
    expect(webhookTransportError(PROFILES[version], '*net.OpError', 'dial tcp 127.0.0.1:1: connect: connection refused')).toEqual({ attributes, exception });
  });

  it.each([
    // The scope versions: v0.35 tracers are named with SemVersion().
    ['1.27', 'semver:0.35.1', 'semver:0.35.0', 'full', false],
    ['1.35', '0.61.0', '0.60.0', 'stats', true],
  ] as const)('%s instrumentation: otelhttp %s, otelgrpc %s, message events %s, etcd peer %s', (version, http, grpc, events, peer) => {
    const p = PROFILES[version];
    expect([p.otelhttp.version, p.etcdGrpc.version, p.etcdGrpc.messageEvents, p.etcdClientPeer]).toEqual([http, grpc, events, peer]);
  });

  it.each([
    ['1.27', 'v1.27.16', '27', false],
    ['1.35', 'v1.35.0', '35', true],
  ] as const)('%s /version reports %s', (version, gitVersion, minor, emulation) => {
    const v = PROFILES[version].versionInfo;
    expect(v).toMatchObject({ major: '1', minor, gitVersion, gitTreeState: 'clean', compiler: 'gc', platform: 'linux/amd64' });
    expect(v['gitCommit']).toMatch(/^[0-9a-f]{40}$/);
    expect('emulationMinor' in v).toBe(emulation);
  });
});
