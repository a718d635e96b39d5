import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNS1123_SUBDOMAIN_MSG } from '../src/validation.js';
import { etcdValue, pod, request, startEtcd, startTestApiserver, type TestApiserver } from './harness.js';

let etcd: Awaited<ReturnType<typeof startEtcd>>;
let api: TestApiserver;
let existing: { value: string; modRevision: number } | undefined;
const PODS = '/api/v1/namespaces/default/pods';
const KEY = '/registry/pods/default/victim';

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startTestApiserver(etcd.port);
  await request(api.url, 'POST', PODS, { body: pod('victim') });
  existing = await etcdValue(etcd.client, KEY);
});
afterAll(async () => {
  await api?.close();
  etcd?.client.close();
  await etcd?.proc.stop();
});

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  readonly code: number;
  readonly reason: string;
  readonly message: string | RegExp;
  /** Keys that must not exist afterwards. */
  readonly absent?: string[];
}

const victim = async (): Promise<Record<string, unknown>> => JSON.parse((await request(api.url, 'GET', `${PODS}/victim`)).text) as Record<string, unknown>;

const CASES: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: PODS,
    body: '{"metadata": {"name": "broken"',
    code: 400,
    reason: 'BadRequest',
    message: "couldn't get version/kind; json parse error: unexpected end of JSON input",
    absent: ['/registry/pods/default/broken'],
  },
  {
    name: 'JSON that is not an object',
    method: 'POST',
    path: PODS,
    body: '[1,2]',
    code: 400,
    reason: 'BadRequest',
    message: /^couldn't get version\/kind; json parse error: json: cannot unmarshal array into Go value of type struct/,
  },
  {
    name: 'invalid name',
    method: 'POST',
    path: PODS,
    body: pod('Bad_Name'),
    code: 422,
    reason: 'Invalid',
    message: `Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${DNS1123_SUBDOMAIN_MSG}`,
    absent: ['/registry/pods/default/Bad_Name'],
  },
  {
    name: 'no containers',
    method: 'POST',
    path: PODS,
    body: { metadata: { name: 'empty' }, spec: {} },
    code: 422,
    reason: 'Invalid',
    message: 'Pod "empty" is invalid: spec.containers: Required value',
    absent: ['/registry/pods/default/empty'],
  },
  {
    name: 'duplicate create',
    method: 'POST',
    path: PODS,
    body: { ...pod('victim'), metadata: { name: 'victim', labels: { changed: 'yes' } } },
    code: 409,
    reason: 'AlreadyExists',
    message: 'pods "victim" already exists',
  },
  {
    name: 'stale resourceVersion',
    method: 'PUT',
    path: `${PODS}/victim`,
    body: { ...pod('victim'), metadata: { name: 'victim', resourceVersion: '1', labels: { changed: 'yes' } } },
    code: 409,
    reason: 'Conflict',
    message: 'Operation cannot be fulfilled on pods "victim": the object has been modified; please apply your changes to the latest version and try again',
  },
  {
    name: 'name in body and URL differ',
    method: 'PUT',
    path: `${PODS}/victim`,
    body: pod('other'),
    code: 400,
    reason: 'BadRequest',
    message: 'the name of the object (other) does not match the name on the URL (victim)',
  },
  {
    name: 'namespace in body and URL differ',
    method: 'POST',
    path: PODS,
    body: { ...pod('ns-mismatch'), metadata: { name: 'ns-mismatch', namespace: 'kube-system' } },
    code: 400,
    reason: 'BadRequest',
    message: 'the namespace of the provided object does not match the namespace sent on the request',
    absent: ['/registry/pods/default/ns-mismatch', '/registry/pods/kube-system/ns-mismatch'],
  },
  {
    name: 'API version in the body differs',
    method: 'POST',
    path: PODS,
    body: { ...pod('appsv1'), apiVersion: 'apps/v1' },
    code: 400,
    reason: 'BadRequest',
    message: 'the API version in the data (apps/v1) does not match the expected API version (v1)',
  },
  {
    name: 'unknown resource',
    method: 'GET',
    path: '/api/v1/namespaces/default/widgets',
    code: 404,
    reason: 'NotFound',
    message: 'the server could not find the requested resource',
  },
  {
    name: 'unknown path',
    method: 'GET',
    path: '/nothing/here',
    code: 404,
    reason: 'NotFound',
    message: 'the server could not find the requested resource',
  },
  {
    name: 'oversized body',
    method: 'POST',
    path: PODS,
    body: JSON.stringify({ ...pod('huge'), metadata: { name: 'huge', annotations: { big: 'x'.repeat(3 * 1024 * 1024) } } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: 'Request entity too large: limit is 3145728',
    absent: ['/registry/pods/default/huge'],
  },
  {
    name: 'unsupported media type',
    method: 'POST',
    path: PODS,
    body: 'name: x',
    contentType: 'text/plain',
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
  },
  {
    name: 'unsupported patch type',
    method: 'PATCH',
    path: `${PODS}/victim`,
    body: { metadata: { labels: { changed: 'yes' } } },
    contentType: 'application/json',
    code: 415,
    reason: 'UnsupportedMediaType',
    message: /^the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json/,
  },
  {
    name: 'JSON patch test that fails',
    method: 'PATCH',
    path: `${PODS}/victim`,
    body: [
      { op: 'test', path: '/metadata/name', value: 'someone-else' },
      { op: 'add', path: '/metadata/labels/changed', value: 'yes' },
    ],
    contentType: 'application/json-patch+json',
    code: 422,
    reason: 'Invalid',
    message: 'the server rejected our request due to an error in our request',
  },
  {
    name: 'malformed merge patch',
    method: 'PATCH',
    path: `${PODS}/victim`,
    body: '{"metadata": ',
    contentType: 'application/merge-patch+json',
    code: 400,
    reason: 'BadRequest',
    message: 'error decoding patch: unexpected end of JSON input',
  },
  {
    name: 'delete collection with a body that is not DeleteOptions',
    method: 'DELETE',
    path: PODS,
    body: '[1,2]',
    code: 400,
    reason: 'BadRequest',
    message: 'decoded object cannot be converted to DeleteOptions',
  },
  { name: 'wrong method on a collection', method: 'PUT', path: PODS, body: pod('x'), code: 405, reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' },
  {
    name: 'undecodable URL',
    method: 'GET',
    path: `${PODS}/%zz`,
    code: 400,
    reason: 'BadRequest',
    message: `'${PODS}/%zz' is not a valid url component`,
  },
  {
    name: 'garbage continue token',
    method: 'GET',
    path: `${PODS}?limit=1&continue=abc`,
    code: 400,
    reason: 'BadRequest',
    message: "invalid continue token: continue key is not valid: invalid character 'i' looking for beginning of value",
  },
  {
    name: 'bad label selector',
    method: 'GET',
    path: `${PODS}?labelSelector=a%20b`,
    code: 400,
    reason: 'BadRequest',
    message: /^unable to parse requirement/,
  },
  {
    name: 'protobuf-only Accept',
    method: 'GET',
    path: `${PODS}/victim`,
    headers: { accept: 'application/vnd.kubernetes.protobuf' },
    code: 406,
    reason: 'NotAcceptable',
    message: 'only the following media types are accepted: application/json, application/yaml',
  },
  {
    name: 'invalid dryRun value',
    method: 'POST',
    path: `${PODS}?dryRun=Some`,
    body: pod('dry-bad'),
    code: 422,
    reason: 'Invalid',
    message: 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "Some": supported values: "All"',
  },
];

describe('bad requests get the exact Status and leave etcd alone', () => {
  it.each(CASES)('$name → $code $reason', async (c) => {
    const r = await request(api.url, c.method, c.path, {
      ...(c.body !== undefined ? { body: c.body } : {}),
      ...(c.contentType ? { contentType: c.contentType } : {}),
      ...(c.headers ? { headers: c.headers } : {}),
    });
    expect(r.status).toBe(c.code);
    expect(r.headers['content-type']).toBe('application/json');
    const s = r.json<Record<string, unknown>>();
    expect(s).toMatchObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: c.code, reason: c.reason });
    if (typeof c.message === 'string') expect(s['message']).toBe(c.message);
    else expect(s['message']).toMatch(c.message);
    expect(await etcdValue(etcd.client, KEY)).toEqual(existing);
    for (const k of c.absent ?? []) expect(await etcdValue(etcd.client, k)).toBeUndefined();
  });

  it('an invalid object lists every cause, each with reason, message and field', async () => {
    const r = await request(api.url, 'POST', PODS, { body: { metadata: { name: 'many' }, spec: { containers: [{ name: 'X' }], restartPolicy: 'Sometimes' } } });
    const s = r.json<{ message: string; details: { name: string; kind: string; causes: { field: string; reason: string }[] } }>();
    expect(s.message).toMatch(/^Pod "many" is invalid: \[spec.containers\[0\].name: Invalid value: "X": .*, spec.containers\[0\].image: Required value, spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"\]$/);
    expect(s.details).toMatchObject({ name: 'many', kind: 'Pod' });
    expect(s.details.causes.map((c) => `${c.reason} ${c.field}`)).toEqual([
      'FieldValueInvalid spec.containers[0].name',
      'FieldValueRequired spec.containers[0].image',
      'FieldValueNotSupported spec.restartPolicy',
    ]);
  });

  it('with --anonymous-auth=false a request without a client certificate is 401 Unauthorized', async () => {
    const strict = await startTestApiserver(etcd.port, { config: { anonymousAuth: false } });
    try {
      const anon = await request(strict.url, 'GET', PODS, { cert: null });
      expect(anon.status).toBe(401);
      expect(anon.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
      expect((await request(strict.url, 'GET', PODS)).status).toBe(200);
      // Anonymous requests are allowed by default (--anonymous-auth=true, AlwaysAllow).
      expect((await request(api.url, 'GET', PODS, { cert: null })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('the process survives every bad request and still serves', async () => {
    expect((await victim())['metadata']).toMatchObject({ name: 'victim', resourceVersion: String(existing?.modRevision) });
    expect((await request(api.url, 'GET', '/healthz')).text).toBe('ok');
  });
});
