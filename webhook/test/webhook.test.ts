import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { startOtlpReceiver, type OtlpReceiver } from '../../shared/src/index.js';
import { createCA, issueCert } from '../../shared/src/pki.js';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
let receiver: OtlpReceiver;
let proc: RunningProcess;
let port: number;
let ca: string;

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca,
        servername: 'pod-mutator.webhook-system.svc',
        headers: {
          host: 'pod-mutator.webhook-system.svc:443',
          'content-type': 'application/json',
          'user-agent': 'kube-apiserver-admission',
          ...headers,
        },
      },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const pki = await createCA('webhook-ca');
  ca = pki.cert;
  const serving = await issueCert(pki, { commonName: 'pod-mutator.webhook-system.svc', dnsNames: ['pod-mutator.webhook-system.svc'], usage: 'server' });
  const dir = mkdtempSync(join(tmpdir(), 'webhook-'));
  mkdirSync(join(dir, 'certs'));
  writeFileSync(join(dir, 'certs', 'tls.crt'), serving.cert);
  writeFileSync(join(dir, 'certs', 'tls.key'), serving.key);
  port = await freePort();
  proc = startProcess(['webhook', '--port', String(port), '--cert-dir', join(dir, 'certs')], {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://${receiver.endpoint}`, OTEL_BSP_SCHEDULE_DELAY: '50' },
  });
  await waitForListen({ host: '127.0.0.1', port });
});

afterAll(async () => {
  await proc?.stop();
  await receiver?.close();
});

describe('webhook process', () => {
  it('mutates a pod over HTTPS and emits its SERVER span as the child of the caller', async () => {
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'abc', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: { metadata: { name: 'nginx' }, spec: {} } },
    };
    const body = JSON.stringify(review);
    const res = await post('/mutate-v1-pod?timeout=10s', body, { traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.body) as { response: { uid: string; allowed: boolean; patchType: string } };
    expect(answer.response).toMatchObject({ uid: 'abc', allowed: true, patchType: 'JSONPatch' });

    const spans = await receiver.waitForSpans((s) => s.some((x) => x.traceId === TRACE));
    const span = spans.find((s) => s.traceId === TRACE)!;
    expect(span.name).toBe('/mutate-v1-pod');
    expect(span.kind).toBe(2);
    expect(span.parentSpanId).toBe(PARENT);
    expect(span.status.code).toBe(0);
    expect(span.events).toEqual([]);
    expect(span.scope).toEqual({ name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: '0.61.0' });
    expect(span.resource).toEqual({
      'service.name': 'webhook',
      'telemetry.sdk.language': 'go',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '1.36.0',
    });
    expect(Object.keys(span.attributes)).toEqual([
      'server.address',
      'server.port',
      'http.request.method',
      'url.scheme',
      'network.peer.address',
      'network.peer.port',
      'user_agent.original',
      'client.address',
      'url.path',
      'network.protocol.version',
      'http.request.body.size',
      'http.response.body.size',
      'http.response.status_code',
    ]);
    expect(span.attributes).toMatchObject({
      'server.address': 'pod-mutator.webhook-system.svc',
      'server.port': 443,
      'http.request.method': 'POST',
      'url.scheme': 'https',
      'network.peer.address': '127.0.0.1',
      'user_agent.original': 'kube-apiserver-admission',
      'client.address': '127.0.0.1',
      'url.path': '/mutate-v1-pod',
      'network.protocol.version': '1.1',
      'http.request.body.size': Buffer.byteLength(body),
      'http.response.body.size': Buffer.byteLength(res.body),
      'http.response.status_code': 200,
    });
    expect(typeof span.attributes['network.peer.port']).toBe('number');
  });

  it('answers malformed input inside the review with HTTP 200, as controller-runtime does', async () => {
    for (const body of ['{not json', '', '{"kind":"Pod"}']) {
      const res = await post('/mutate-v1-pod', body);
      expect(res.status).toBe(200);
      const answer = JSON.parse(res.body) as { response: { allowed: boolean; status: { code: number } } };
      expect(answer.response.allowed).toBe(false);
      expect(answer.response.status.code).toBe(400);
    }
    expect(proc.child.exitCode).toBeNull();
  });

  it('fails clearly without a serving certificate', async () => {
    const p = startProcess(['webhook', '--port', String(await freePort()), '--cert-dir', '/nonexistent']);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('cannot read the serving certificate from /nonexistent');
  });
});
