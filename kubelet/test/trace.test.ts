import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type Pod, type ReceivedSpan } from '../../shared/src/index.js';
import { boundPod, startRuntime, startTestKubelet, until, type RuntimeProcess, type TestKubelet } from './harness.js';

// The spans a kubelet node exports for a pod, as an OTLP receiver sees them,
// next to the runtime process's own spans: syncPod with its CRI CLIENT
// children in kubelet order, each with containerd's SERVER span beneath it.

const KUBELET_RESOURCE = { 'service.name': 'kubelet', 'host.name': 'node-1' };
const KUBELET_SCOPE = { name: 'k8s.io/kubernetes/pkg/kubelet', version: '' };
const OTELGRPC_SCOPE = { name: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc', version: '0.60.0' };
const OTELHTTP_SCOPE = { name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: '0.61.0' };

let receiver: OtlpReceiver;
let runtime: RuntimeProcess;

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

beforeAll(async () => {
  receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  runtime = await startRuntime(['--otlp-endpoint', receiver.endpoint], RUNTIME_ENV);
});

afterAll(async () => {
  await runtime?.stop();
  await receiver?.close();
});

const kubeletSpans = (all: readonly ReceivedSpan[]): ReceivedSpan[] => all.filter((s) => s.resource['service.name'] === 'kubelet');
const byStart = (a: ReceivedSpan, b: ReceivedSpan): number => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0);

function traceparent(): { traceId: string; spanId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
}

function expectCriClientSpan(s: ReceivedSpan, parent: ReceivedSpan, all: readonly ReceivedSpan[]): void {
  const [service, method] = s.name.split('/') as [string, string];
  expect(s.kind).toBe(3);
  expect(s.traceId).toBe(parent.traceId);
  expect(s.parentSpanId).toBe(parent.spanId);
  expect(s.resource).toEqual(KUBELET_RESOURCE);
  expect(s.scope).toEqual(OTELGRPC_SCOPE);
  // No peer attributes: the runtime is dialled over a unix socket.
  expect(s.attributes).toEqual({ 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, 'rpc.grpc.status_code': 0 });
  expect(s.events.map((e) => [e.name, e.attributes['message.type'], e.attributes['message.id']])).toEqual([
    ['message', 'SENT', 1],
    ['message', 'RECEIVED', 1],
  ]);
  expect(Object.keys(s.events[0]?.attributes ?? {}).sort()).toEqual(['message.compressed_size', 'message.id', 'message.type', 'message.uncompressed_size']);
  expect(s.status).toEqual({ code: 0, message: '' });
  // containerd's SERVER span is the client span's only child, inside it in time.
  const servers = all.filter((x) => x.parentSpanId === s.spanId);
  expect(servers.map((x) => [x.name, x.kind, x.resource['service.name']])).toEqual([[s.name, 2, 'containerd']]);
  const server = servers[0] as ReceivedSpan;
  expect(server.startTimeUnixNano).toBeGreaterThanOrEqual(s.startTimeUnixNano);
  expect(server.endTimeUnixNano).toBeLessThanOrEqual(s.endTimeUnixNano);
}

describe('story mode at sampling rate 0', () => {
  let k: TestKubelet;
  beforeAll(async () => {
    receiver.clear();
    k = await startTestKubelet(runtime, ['--tracing-endpoint', receiver.endpoint, '--trace-mode', 'story'], { exporter: undefined });
  });
  afterAll(async () => k?.stop());

  it('hangs the create syncPod under the pod annotation, with every CRI call in kubelet order beneath it', async () => {
    const tp = traceparent();
    const pod = boundPod('nginx', 'node-1', { containers: [{ name: 'nginx', image: 'nginx:1.25' }] }, { annotations: { 'trace.k8s-trace-sim.io/traceparent': tp.header } });
    k.api.put('pods/default/nginx', pod);
    // Both processes export on their own schedule: wait for every span of the trace, from either side.
    const all = await receiver.waitForSpans((spans) => {
      const inTrace = spans.filter((s) => s.traceId === tp.traceId);
      return inTrace.filter((s) => s.resource['service.name'] === 'containerd').length >= 7 && inTrace.filter((s) => s.resource['service.name'] === 'kubelet').length >= 8;
    }, 15_000);
    const trace = all.filter((s) => s.traceId === tp.traceId);
    const sync = trace.find((s) => s.name === 'syncPod') as ReceivedSpan;
    expect(sync.parentSpanId).toBe(tp.spanId);
    expect(sync.kind).toBe(1);
    expect(sync.resource).toEqual(KUBELET_RESOURCE);
    expect(sync.scope).toEqual(KUBELET_SCOPE);
    expect(sync.attributes).toEqual({
      'k8s.pod.uid': pod.metadata.uid,
      'k8s.pod': 'default/nginx',
      'k8s.pod.name': 'nginx',
      'k8s.pod.update_type': 'create',
      'k8s.namespace.name': 'default',
    });
    expect(sync.events).toEqual([]);
    expect(sync.status).toEqual({ code: 0, message: '' });
    const cri = kubeletSpans(trace)
      .filter((s) => s.parentSpanId === sync.spanId)
      .sort(byStart);
    // nginx:1.25 is IfNotPresent and not on the node: ImageStatus, PullImage, then the size for the Pulled event.
    expect(cri.map((s) => s.name)).toEqual([
      'runtime.v1.RuntimeService/RunPodSandbox',
      'runtime.v1.RuntimeService/PodSandboxStatus',
      'runtime.v1.ImageService/ImageStatus',
      'runtime.v1.ImageService/PullImage',
      'runtime.v1.ImageService/ImageStatus',
      'runtime.v1.RuntimeService/CreateContainer',
      'runtime.v1.RuntimeService/StartContainer',
    ]);
    for (const s of cri) expectCriClientSpan(s, sync, trace);
    const at = (name: string): ReceivedSpan => cri.find((s) => s.name.endsWith(`/${name}`)) as ReceivedSpan;
    expect(at('CreateContainer').startTimeUnixNano).toBeGreaterThanOrEqual(at('PullImage').endTimeUnixNano);
    expect(at('StartContainer').startTimeUnixNano).toBeGreaterThanOrEqual(at('CreateContainer').endTimeUnixNano);
    for (const s of cri) {
      expect(s.startTimeUnixNano).toBeGreaterThanOrEqual(sync.startTimeUnixNano);
      expect(s.endTimeUnixNano).toBeLessThanOrEqual(sync.endTimeUnixNano);
    }
  });

  it('keeps everything outside the annotated create unsampled at rate 0', async () => {
    await until(() => (k.api.get<Pod>('pods/default/nginx')?.status?.phase === 'Running' ? true : undefined), 10_000, 'Running');
    await new Promise((r) => setTimeout(r, 300));
    const traces = new Set(kubeletSpans(receiver.spans()).map((s) => s.traceId));
    expect(traces.size).toBe(1);
  });
});

describe('faithful mode at 100% sampling', () => {
  let k: TestKubelet;
  beforeAll(async () => {
    receiver.clear();
    k = await startTestKubelet(runtime, ['--tracing-endpoint', receiver.endpoint, '--tracing-sampling-rate-per-million', '1000000', '--trace-mode', 'faithful'], { exporter: undefined });
  });
  afterAll(async () => k?.stop());

  it('makes syncPod a root even with an annotation, and pulls an Always image without asking ImageStatus first', async () => {
    const tp = traceparent();
    const pod = boundPod('web', 'node-1', { containers: [{ name: 'web', image: 'busybox', command: ['sleep', '3600'] }] }, { annotations: { 'trace.k8s-trace-sim.io/traceparent': tp.header } });
    k.api.put('pods/default/web', pod);
    const all = await receiver.waitForSpans((spans) => {
      const sync = spans.find((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === 'web');
      return sync !== undefined && spans.filter((s) => s.parentSpanId === sync.spanId).length >= 6;
    }, 15_000);
    const sync = all.find((s) => s.name === 'syncPod' && s.attributes['k8s.pod.update_type'] === 'create') as ReceivedSpan;
    expect(sync.parentSpanId).toBe('');
    expect(sync.traceId).not.toBe(tp.traceId);
    const names = kubeletSpans(all)
      .filter((s) => s.parentSpanId === sync.spanId)
      .sort(byStart)
      .map((s) => s.name.split('/')[1]);
    expect(names).toEqual(['RunPodSandbox', 'PodSandboxStatus', 'PullImage', 'ImageStatus', 'CreateContainer', 'StartContainer']);
  });

  it('sends status PATCHes, the lease and PLEG relists as root client spans of their own', async () => {
    const all = await receiver.waitForSpans(
      (spans) =>
        spans.some((s) => s.name === 'HTTP PATCH' && String(s.attributes['url.full']).endsWith('/pods/web/status')) &&
        spans.some((s) => s.name === 'runtime.v1.RuntimeService/ListPodSandbox' && s.resource['service.name'] === 'kubelet') &&
        spans.some((s) => s.name === 'syncPod' && s.attributes['k8s.pod.update_type'] === 'sync'),
      15_000,
    );
    const patch = all.find((s) => s.name === 'HTTP PATCH' && String(s.attributes['url.full']).endsWith('/pods/web/status')) as ReceivedSpan;
    expect(patch.parentSpanId).toBe('');
    expect(patch.kind).toBe(3);
    expect(patch.scope).toEqual(OTELHTTP_SCOPE);
    expect(patch.resource).toEqual(KUBELET_RESOURCE);
    expect(patch.attributes).toMatchObject({ 'http.request.method': 'PATCH', 'network.protocol.version': '2', 'http.response.status_code': 200, 'server.address': '127.0.0.1' });
    const relist = all.find((s) => s.name === 'runtime.v1.RuntimeService/ListPodSandbox' && s.resource['service.name'] === 'kubelet') as ReceivedSpan;
    expect(relist.parentSpanId).toBe('');
    // A later sync of a running pod has nothing to do in the runtime.
    const later = all.find((s) => s.name === 'syncPod' && s.attributes['k8s.pod.update_type'] === 'sync') as ReceivedSpan;
    expect(all.filter((s) => s.parentSpanId === later.spanId)).toEqual([]);
  });

  it('records a failed sync as an exception event and an Error status', async () => {
    k.api.put('pods/default/never', boundPod('never', 'node-1', { containers: [{ name: 'main', image: 'redis:7', imagePullPolicy: 'Never' }] }));
    const all = await receiver.waitForSpans((spans) => spans.some((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === 'never' && s.status.code === 2), 15_000);
    const sync = all.find((s) => s.name === 'syncPod' && s.attributes['k8s.pod.name'] === 'never' && s.status.code === 2) as ReceivedSpan;
    const message = 'failed to "StartContainer" for "main" with ErrImageNeverPull: "Container image \\"redis:7\\" is not present with pull policy of Never"';
    expect(sync.status).toEqual({ code: 2, message });
    expect(sync.events.map((e) => [e.name, e.attributes])).toEqual([['exception', { 'exception.type': 'errors.aggregate', 'exception.message': message }]]);
  });
});
