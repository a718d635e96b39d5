import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type KubeObject, type OtlpReceiver, type ReceivedSpan } from '../../shared/src/index.js';
import { boundPod, startRuntime, startTestKubelet, type RuntimeProcess, type TestKubelet } from './harness.js';

// --kube-version 1.27 against a real runtime process, as an OTLP receiver
// sees it: syncPod a root with its CRI CLIENT children (PR #114504), each
// from otelgrpc 0.35.0's interceptor (scope version "semver:0.35.0", three
// message-event attributes, no peer attributes over the socket); the status
// PATCH an otelhttp 0.35.1 CLIENT root with semconv v1.12 keys; a failed sync
// with nothing on its span.

const KUBELET_RESOURCE = { 'service.name': 'kubelet', 'host.name': 'node-1' };
const KUBELET_SCOPE = { name: 'k8s.io/kubernetes/pkg/kubelet', version: '' };
const OTELGRPC_SCOPE = { name: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc', version: 'semver:0.35.0' };
const OTELHTTP_SCOPE = { name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: 'semver:0.35.1' };

const RUNTIME_ENV = {
  OTEL_BSP_SCHEDULE_DELAY: '50',
  OTEL_SERVICE_NAME: '',
  OTEL_RESOURCE_ATTRIBUTES: '',
  OTEL_SDK_DISABLED: '',
  OTEL_TRACES_SAMPLER: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_PROTOCOL: '',
};

let receiver: OtlpReceiver;
let runtime: RuntimeProcess;
let k: TestKubelet;

beforeAll(async () => {
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  runtime = await startRuntime(['--otlp-endpoint', receiver.endpoint], RUNTIME_ENV);
  k = await startTestKubelet(
    runtime,
    ['--kube-version', '1.27', '--tracing-endpoint', receiver.endpoint, '--tracing-sampling-rate-per-million', '1000000', '--trace-mode', 'faithful'],
    { exporter: undefined },
  );
}, 30_000);

afterAll(async () => {
  await k?.stop();
  await runtime?.stop();
  await receiver?.close();
});

const fromKubelet = (s: ReceivedSpan): boolean => s.resource['service.name'] === 'kubelet';
const byStart = (a: ReceivedSpan, b: ReceivedSpan): number => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0);
const createSync = (name: string) => (s: ReceivedSpan) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === name && s.attributes['k8s.pod.update_type'] === 'create';

function expectCriClientSpan(s: ReceivedSpan, parent: ReceivedSpan): void {
  const [service, method] = s.name.split('/') as [string, string];
  expect(s.kind).toBe(3);
  expect(s.traceId).toBe(parent.traceId);
  expect(s.parentSpanId).toBe(parent.spanId);
  expect(s.resource).toEqual(KUBELET_RESOURCE);
  expect(s.scope).toEqual(OTELGRPC_SCOPE);
  expect(s.attributes).toEqual({ 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, 'rpc.grpc.status_code': 0 });
  expect(s.events.map((e) => [e.name, e.attributes['message.type'], e.attributes['message.id']])).toEqual([
    ['message', 'SENT', 1],
    ['message', 'RECEIVED', 1],
  ]);
  for (const e of s.events) {
    expect(Object.keys(e.attributes).sort()).toEqual(['message.id', 'message.type', 'message.uncompressed_size']);
    expect(typeof e.attributes['message.uncompressed_size']).toBe('number');
  }
  expect(s.status).toEqual({ code: 0, message: '' });
}

describe('kubelet 1.27', () => {
  it('syncPod is a root INTERNAL span with every CRI call beneath it, ImageStatus before the pull and none after', async () => {
    k.api.put('pods/default/nginx', boundPod('nginx', 'node-1', { containers: [{ name: 'nginx', image: 'nginx:1.25' }] }));
    // Both processes export on their own schedule: wait for the CRI spans and containerd's beneath them.
    const all = await receiver.waitForSpans((spans) => {
      const sync = spans.find(createSync('nginx'));
      const cri = spans.filter((s) => s.parentSpanId === sync?.spanId && fromKubelet(s));
      return cri.length >= 6 && cri.every((c) => spans.some((x) => x.parentSpanId === c.spanId));
    }, 20_000);
    const sync = all.find(createSync('nginx')) as ReceivedSpan;
    expect(sync.parentSpanId).toBe('');
    expect(sync.kind).toBe(1);
    expect(sync.resource).toEqual(KUBELET_RESOURCE);
    expect(sync.scope).toEqual(KUBELET_SCOPE);
    expect(Object.keys(sync.attributes)).toEqual(['k8s.pod.uid', 'k8s.pod', 'k8s.pod.name', 'k8s.pod.update_type', 'k8s.namespace.name']);
    expect(sync.events).toEqual([]);
    const cri = all.filter((s) => s.parentSpanId === sync.spanId && fromKubelet(s)).sort(byStart);
    expect(cri.map((s) => s.name)).toEqual([
      'runtime.v1.RuntimeService/RunPodSandbox',
      'runtime.v1.RuntimeService/PodSandboxStatus',
      'runtime.v1.ImageService/ImageStatus',
      'runtime.v1.ImageService/PullImage',
      'runtime.v1.RuntimeService/CreateContainer',
      'runtime.v1.RuntimeService/StartContainer',
    ]);
    for (const s of cri) expectCriClientSpan(s, sync);
    // Each has containerd's SERVER span beneath it.
    for (const s of cri) expect(all.some((x) => x.parentSpanId === s.spanId && x.kind === 2)).toBe(true);
  });

  it('asks ImageStatus even before an Always pull', async () => {
    k.api.put('pods/default/web', boundPod('web', 'node-1', { containers: [{ name: 'web', image: 'busybox', command: ['sleep', '3600'] }] }));
    const all = await receiver.waitForSpans((spans) => {
      const sync = spans.find(createSync('web'));
      return sync !== undefined && spans.filter((s) => s.parentSpanId === sync.spanId && fromKubelet(s)).length >= 6;
    }, 20_000);
    const sync = all.find(createSync('web')) as ReceivedSpan;
    const names = all
      .filter((s) => s.parentSpanId === sync.spanId && fromKubelet(s))
      .sort(byStart)
      .map((s) => s.name.split('/')[1]);
    expect(names).toEqual(['RunPodSandbox', 'PodSandboxStatus', 'ImageStatus', 'PullImage', 'CreateContainer', 'StartContainer']);
    // The 1.27 Pulled event has no image size.
    const pulled = k.api.objects<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>('events/').find((e) => e.reason === 'Pulled' && e.involvedObject?.name === 'web');
    expect(pulled?.message).toMatch(/^Successfully pulled image "busybox" in \S+ \(\S+ including waiting\)$/);
  });

  it('status PATCHes are otelhttp 0.35 CLIENT roots with semconv v1.12 keys', async () => {
    const all = await receiver.waitForSpans((spans) => spans.some((s) => s.name === 'HTTP PATCH' && String(s.attributes['http.url']).endsWith('/pods/nginx/status')), 15_000);
    const patch = all.find((s) => s.name === 'HTTP PATCH' && String(s.attributes['http.url']).endsWith('/pods/nginx/status')) as ReceivedSpan;
    expect(patch.parentSpanId).toBe('');
    expect(patch.kind).toBe(3);
    expect(patch.scope).toEqual(OTELHTTP_SCOPE);
    expect(patch.resource).toEqual(KUBELET_RESOURCE);
    expect(patch.attributes).toMatchObject({ 'http.method': 'PATCH', 'http.status_code': 200 });
    for (const key of ['http.url', 'http.scheme', 'http.host', 'http.flavor']) expect(typeof patch.attributes[key]).toBe('string');
    for (const key of Object.keys(patch.attributes)) expect(key.startsWith('http.')).toBe(true);
    expect(patch.events).toEqual([]);
    expect(patch.status).toEqual({ code: 0, message: '' });
  });

  it('a failed sync leaves no exception event and no status on syncPod', async () => {
    k.api.put('pods/default/never', boundPod('never', 'node-1', { containers: [{ name: 'main', image: 'redis:7', imagePullPolicy: 'Never' }] }));
    await receiver.waitForSpans((spans) => spans.some(createSync('never')), 15_000);
    // Wait for a retry too, so the check is not about a sync still open.
    const all = await receiver.waitForSpans((spans) => spans.filter((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === 'never').length >= 2, 15_000);
    const syncs = all.filter((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === 'never');
    for (const s of syncs) {
      expect(s.events).toEqual([]);
      expect(s.status).toEqual({ code: 0, message: '' });
    }
    // The ImageStatus it asked is its child; nothing was pulled.
    const children = all.filter((s) => s.parentSpanId === syncs[0]?.spanId && fromKubelet(s)).map((s) => s.name.split('/')[1]);
    expect(children).toContain('ImageStatus');
    expect(children).not.toContain('PullImage');
  });
});
