import { perMillionSampler, startOtlpReceiver, startTracing, type OtlpReceiver, type ReceivedSpan, type Tracing } from '../../shared/src/index.js';
import { expect } from 'vitest';
import { PROFILE_1_35, type ApiserverProfile } from '../src/profile.js';
import { apiserverResource } from '../src/spans.js';
import { request, startEtcd, startTestApiserver, type TestApiserver } from './harness.js';
import { startWebhook, type TestWebhook } from './webhook-server.js';

// What the trace tests share: an OTLP receiver, etcd-sim exporting to it,
// the in-process apiserver tracing every request (1.35 profile, story mode)
// with a mutating webhook on pods labelled traced=yes, and span lookups.

export const ETCD_ENV = { OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: '', OTEL_RESOURCE_ATTRIBUTES: '' };
/** The instrumentation scopes a release's apiserver reports (otelhttp and otelgrpc v0.35 version their tracers `semver:…`). */
export function scopesOf(profile: ApiserverProfile) {
  return {
    otelhttp: { name: 'go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp', version: profile.otelhttp.version },
    otelgrpc: { name: 'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc', version: profile.etcdGrpc.version },
    filter: { name: 'k8s.op/apiserver/pkg/endpoints/filterlatency', version: '' },
    component: { name: 'k8s.io/component-base/tracing', version: '' },
  };
}
export const SCOPE = scopesOf(PROFILE_1_35);
export const INTERNAL = 1;
export const SERVER = 2;
export const CLIENT = 3;

export interface TraceRig {
  readonly receiver: OtlpReceiver;
  readonly etcd: Awaited<ReturnType<typeof startEtcd>>;
  readonly tracing: Tracing;
  readonly api: TestApiserver;
  readonly wh: TestWebhook;
  stop(): Promise<void>;
}

/** The etcd release each apiserver profile ships with (k3s v1.27.1 bundles etcd 3.5.7, which has no sampling-rate flag). */
const ETCD_OF: Record<string, string[]> = {
  '1.27': ['--etcd-version', '3.5.7'],
  '1.35': ['--experimental-distributed-tracing-sampling-rate', '0'],
};

export async function startTraceRig(o: { profile?: ApiserverProfile; traceMode?: 'story' | 'faithful' } = {}): Promise<TraceRig> {
  const receiver = await startOtlpReceiver({ host: '127.0.0.1', port: 0 });
  const etcd = await startEtcd(
    ['--experimental-enable-distributed-tracing', '--experimental-distributed-tracing-address', receiver.endpoint, ...(ETCD_OF[(o.profile ?? PROFILE_1_35).name] ?? [])],
    ETCD_ENV,
  );
  const wh = await startWebhook();
  const tracing = startTracing({
    resource: apiserverResource('test-host'),
    enabled: true,
    endpoint: receiver.endpoint,
    sampler: perMillionSampler(1_000_000),
    processor: 'simple',
    env: {},
  });
  const api = await startTestApiserver(etcd.port, {
    tracing,
    config: {
      webhookServiceAddresses: new Map([['default/wh', { host: '127.0.0.1', port: wh.port }]]),
      ...(o.profile ? { profile: o.profile } : {}),
      ...(o.traceMode ? { traceMode: o.traceMode } : {}),
    },
  });
  const cfg = await request(api.url, 'POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', {
    body: {
      metadata: { name: 'label-pods' },
      webhooks: [
        {
          name: 'mpod.example.com',
          clientConfig: { service: { namespace: 'default', name: 'wh', path: '/mutate' }, caBundle: wh.caBundle },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          objectSelector: { matchLabels: { traced: 'yes' } },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    },
  });
  const rv = cfg.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
  await request(api.url, 'GET', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?resourceVersion=${rv}`);
  return {
    receiver,
    etcd,
    tracing,
    api,
    wh,
    async stop() {
      await api.close();
      await tracing.shutdown();
      await wh.close();
      etcd.client.close();
      await etcd.proc.stop();
      await receiver.close();
    },
  };
}

export const only = (spans: readonly ReceivedSpan[], pred: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan => {
  const found = spans.filter(pred);
  if (found.length !== 1) throw new Error(`${what}: want 1 span, have ${found.length}`);
  return found[0] as ReceivedSpan;
};
export const childOf = (spans: readonly ReceivedSpan[], parent: ReceivedSpan, name: string): ReceivedSpan =>
  only(spans, (s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId && s.name === name, `${name} under ${parent.name}`);
export const eventNames = (s: ReceivedSpan): string[] => s.events.map((e) => e.name);
export const within = (inner: ReceivedSpan, outer: ReceivedSpan): void => {
  expect(inner.startTimeUnixNano).toBeGreaterThanOrEqual(outer.startTimeUnixNano);
  expect(inner.endTimeUnixNano).toBeLessThanOrEqual(outer.endTimeUnixNano);
};
/**
 * Across processes the other side's SDK stamps starts with a millisecond
 * Date.now() (see shared/src/precise-clock.ts), so its span may poke out of
 * ours by less than a millisecond until it uses the same precise clock.
 */
export const withinAcross = (inner: ReceivedSpan, outer: ReceivedSpan): void => {
  expect(inner.startTimeUnixNano).toBeGreaterThanOrEqual(outer.startTimeUnixNano - 1_000_000n);
  expect(inner.endTimeUnixNano).toBeLessThanOrEqual(outer.endTimeUnixNano + 1_000_000n);
};
export const eventTime = (s: ReceivedSpan, name: string): bigint => s.events.find((e) => e.name === name)?.timeUnixNano ?? -1n;

/**
 * The SERVER span of a request: walk up from its SerializeObject (which
 * carries the audit ID in every release) through the handler and filter
 * spans. Undefined until all of them have arrived.
 */
export function serverOf(all: readonly ReceivedSpan[], auditId: string): ReceivedSpan | undefined {
  let s = all.find((x) => x.name === 'SerializeObject' && x.attributes['audit-id'] === auditId);
  for (let hops = 0; s && hops < 10; hops++) {
    if (s.kind === SERVER) return s;
    const parentId = s.parentSpanId;
    const traceId = s.traceId;
    s = parentId === '' ? undefined : all.find((x) => x.spanId === parentId && x.traceId === traceId);
  }
  return undefined;
}

/** Every span received once a request's SERVER span and SerializeObject (and what `extra` wants) are in. */
export async function requestSpans(receiver: OtlpReceiver, auditId: string, extra: (spans: ReceivedSpan[]) => boolean = () => true): Promise<ReceivedSpan[]> {
  return receiver.waitForSpans((all) => serverOf(all, auditId) !== undefined && extra(all));
}
