import { describe, expect, it } from 'vitest';
import { escapePointer, podPatch, review } from '../src/admission.js';
import { splitHost } from '../src/app.js';

const pod = (metadata: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [] } });
const request = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: pod({ name: 'nginx' }), ...over },
});
const decode = (b64: string | undefined) => JSON.parse(Buffer.from(b64 ?? '', 'base64').toString('utf8')) as unknown;

describe('escapePointer', () => {
  it.each([
    ['app', 'app'],
    ['admission.k8s-trace-sim.io/mutated', 'admission.k8s-trace-sim.io~1mutated'],
    ['a~b', 'a~0b'],
    ['~/', '~0~1'],
  ])('%s', (k, want) => expect(escapePointer(k)).toBe(want));
});

describe('podPatch', () => {
  const m = { labels: { 'x/y': 'true' }, annotations: { a: 'b' } };
  it.each([
    ['no maps: adds both maps whole', pod({ name: 'p' }), [
      { op: 'add', path: '/metadata/labels', value: { 'x/y': 'true' } },
      { op: 'add', path: '/metadata/annotations', value: { a: 'b' } },
    ]],
    ['existing maps: adds keys', pod({ name: 'p', labels: { run: 'p' }, annotations: {} }), [
      { op: 'add', path: '/metadata/labels/x~1y', value: 'true' },
      { op: 'add', path: '/metadata/annotations/a', value: 'b' },
    ]],
    ['different value: replaces', pod({ name: 'p', labels: { 'x/y': 'false' }, annotations: { a: 'b' } }), [
      { op: 'replace', path: '/metadata/labels/x~1y', value: 'true' },
    ]],
    ['already mutated: nothing', pod({ name: 'p', labels: { 'x/y': 'true' }, annotations: { a: 'b' } }), []],
  ])('%s', (_n, p, want) => expect(podPatch(p, m)).toEqual(want));
});

describe('review', () => {
  it('answers a pod CREATE with a base64 JSONPatch and the request uid', () => {
    const r = review(request());
    expect(r).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true, patchType: 'JSONPatch' } });
    expect(decode(r.response.patch)).toEqual([
      { op: 'add', path: '/metadata/labels', value: { 'admission.k8s-trace-sim.io/mutated': 'true' } },
      { op: 'add', path: '/metadata/annotations', value: { 'admission.k8s-trace-sim.io/mutated-by': 'pod-mutator' } },
    ]);
  });

  it.each([
    ['a DELETE', request({ operation: 'DELETE', object: null })],
    ['another kind', request({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } })],
  ])('allows %s unchanged', (_n, body) => {
    const r = review(body);
    expect(r.response).toEqual({ uid: 'u-1', allowed: true });
  });

  it.each([
    ['not an AdmissionReview', { kind: 'Pod' }, ''],
    ['null', null, ''],
    ['v1beta1', { ...request(), apiVersion: 'admission.k8s.io/v1beta1' }, 'u-1'],
  ])('reports %s inside the review, not as an HTTP error', (_n, body, uid) => {
    const r = review(body);
    expect(r.response.allowed).toBe(false);
    expect(r.response.uid).toBe(uid);
    expect(r.response.status?.code).toBe(400);
  });
});

describe('splitHost', () => {
  it.each([
    ['pod-mutator.webhook-system.svc:443', { host: 'pod-mutator.webhook-system.svc', port: 443 }],
    ['pod-mutator.webhook-system.svc', { host: 'pod-mutator.webhook-system.svc', port: 443 }],
    ['127.0.0.1:9443', { host: '127.0.0.1', port: 9443 }],
    ['[::1]:9443', { host: '::1', port: 9443 }],
    [undefined, { host: '', port: undefined }],
  ])('%s', (h, want) => expect(splitHost(h)).toEqual(want));
});
