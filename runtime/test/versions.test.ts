import { describe, expect, it } from 'vitest';
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_FILE_CONFIG, type ContainerdFileConfig } from '../src/config-file.js';
import { Runtime } from '../src/runtime.js';
import {
  CONTAINERD_OTELGRPC,
  CONTAINERD_PROFILES,
  CONTAINERD_VERSIONS,
  containerdResource,
  DEFAULT_CONTAINERD_VERSION,
  internalSpanEnd,
  internalSpanName,
  isContainerdVersion,
  type ContainerdVersion,
} from '../src/spans.js';
import { FAST } from '../src/timing.js';
import { envTracingSetup, httpEndpointHost, tomlTracingSetup, tracingSetup } from '../src/tracing-config.js';

// Every decision keyed by --containerd-version, as tables.

describe('containerd release profiles', () => {
  it.each([
    // v1.7.1 go.mod: otelgrpc v0.40.0 as interceptors (services/server/server.go).
    ['1.7.1', { version: 'semver:0.40.0', keys: 'v0.42', messageEvents: 'type-id', serverErrors: 'any' }],
    // v2.1.4: otelgrpc v0.60.0 as a stats handler without options.
    ['2.1.4', { version: '0.60.0', keys: 'v0.42', messageEvents: 'none', serverErrors: 'server-fault' }],
  ] as const)('%s serves CRI through otelgrpc %o', (v, otelgrpc) => {
    expect(CONTAINERD_PROFILES[v].otelgrpc).toEqual(otelgrpc);
  });

  it.each([
    ['version', 'v1.7.1', 'v2.1.4'],
    ['revision', '1677a17964311325ed1c31e2c0a3589ce6d5c30d', '75cb2b7193e4e490e9fbdc236c0e811ccaba3376'],
    ['tracing configured by', 'toml', 'env'],
    ['internal pkg.cri.server spans for', ['ImageFsInfo', 'ImageStatus', 'ListImages', 'PullImage', 'RemoveImage'], []],
    ['sandbox/container annotations on the server span', false, true],
    ['ImageStatus image.id / "not found"', true, false],
    ['"Forcibly stopping sandbox" as a span event', false, true],
  ])('%s: 1.7.1 %j, 2.1.4 %j', (what, v17, v21) => {
    const pick = (v: ContainerdVersion): unknown => {
      const p = CONTAINERD_PROFILES[v];
      switch (what) {
        case 'version':
          return p.runtimeVersion;
        case 'revision':
          return p.revision;
        case 'tracing configured by':
          return p.tracingConfig;
        case 'internal pkg.cri.server spans for':
          return [...p.internalSpanMethods].sort();
        case 'sandbox/container annotations on the server span':
          return p.serverSpanAnnotations;
        case 'ImageStatus image.id / "not found"':
          return p.imageStatusAnnotations;
        default:
          return p.forciblyStoppingSandboxEvent;
      }
    };
    expect([pick('1.7.1'), pick('2.1.4')]).toEqual([v17, v21]);
  });

  it('defaults to 2.1.4 and knows only the two releases', () => {
    expect(DEFAULT_CONTAINERD_VERSION).toBe('2.1.4');
    expect(CONTAINERD_OTELGRPC).toBe(CONTAINERD_PROFILES['2.1.4'].otelgrpc);
    expect(CONTAINERD_VERSIONS).toEqual(['1.7.1', '2.1.4']);
    expect(['1.7.1', '2.1.4', '1.7.0', 'v1.7.1', '2.1'].map(isContainerdVersion)).toEqual([true, true, false, false, false]);
  });

  it.each([
    ['1.7.1', {}, 'containerd', { 'host.name': 'node-1', 'service.name': 'containerd' }],
    // 1.7.1 takes service.name from its config; OTEL_SERVICE_NAME loses to it (resource.Environment() merges underneath).
    ['1.7.1', { OTEL_SERVICE_NAME: 'from-env' }, 'ctd-a', { 'host.name': 'node-1', 'service.name': 'ctd-a' }],
    [
      '2.1.4',
      { OTEL_SERVICE_NAME: 'from-env' },
      'ignored',
      { 'service.name': 'from-env', 'telemetry.sdk.language': 'go', 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.version': '1.35.0' },
    ],
  ] as const)('%s resource with env %j and config service_name %s', (v, env, serviceName, want) => {
    expect(containerdResource(CONTAINERD_PROFILES[v], { env, serviceName, hostName: 'node-1' })).toEqual(want);
  });

  it('names 1.7 internal spans with the pkg.cri.server prefix and ends them Ok, or Error with the exception', () => {
    expect(internalSpanName('PullImage')).toBe('pkg.cri.server.PullImage');
    expect(internalSpanEnd(undefined)).toEqual({ status: { code: 1 }, events: [] });
    const err = { type: '*status.Error', message: 'rpc error: code = NotFound desc = x: not found' };
    expect(internalSpanEnd(err)).toEqual({
      status: { code: 2, message: err.message },
      events: [{ name: 'exception', attributes: { 'exception.type': '*status.Error', 'exception.message': err.message } }],
    });
  });

  it.each([
    ['1.7.1', false],
    ['2.1.4', true],
  ] as const)('%s: the sandbox/container code annotates the server span: %s', (v, annotates) => {
    const rt = new Runtime({ timing: FAST, seed: 1, containerd: CONTAINERD_PROFILES[v] });
    const span = { isRecording: () => true } as unknown as Span;
    expect(rt.cri(span) === span).toBe(annotates);
    expect(rt.cri(span).isRecording()).toBe(annotates);
    rt.close();
  });
});

describe('tracing setup per release', () => {
  const file = (otlp: Partial<ContainerdFileConfig['otlp']>, tracing: Partial<ContainerdFileConfig['tracing']> = {}): ContainerdFileConfig => ({
    version: 2,
    otlp: { ...DEFAULT_FILE_CONFIG.otlp, ...otlp },
    tracing: { ...DEFAULT_FILE_CONFIG.tracing, ...tracing },
  });

  it.each([
    [
      'no file: the otlp plugin skips itself',
      undefined,
      undefined,
      {
        enabled: false,
        serviceName: 'containerd',
        logs: [
          { level: 'info', message: 'skip loading plugin "io.containerd.tracing.processor.v1.otlp"...', error: 'no OpenTelemetry endpoint: skip plugin', fields: { type: 'io.containerd.tracing.processor.v1' } },
          { level: 'info', message: 'skipping tracing processor initialization (no tracing plugin)', error: 'no OpenTelemetry endpoint: skip plugin' },
        ],
      },
    ],
    ['the tutorial: grpc, insecure', file({ endpoint: 'host.k3d.internal:4317', protocol: 'grpc', insecure: true }), undefined, { enabled: true, endpoint: 'http://host.k3d.internal:4317', logs: [] }],
    ['grpc without insecure dials TLS', file({ endpoint: 'collector:4317', protocol: 'grpc' }), undefined, { enabled: true, endpoint: 'https://collector:4317' }],
    ['--otlp-endpoint stands for a grpc, insecure section', file({ endpoint: 'elsewhere:1', protocol: 'http/protobuf' }), '127.0.0.1:4317', { enabled: true, endpoint: 'http://127.0.0.1:4317', logs: [] }],
    [
      'http/protobuf (the default) uses the URL host; http:// means insecure',
      file({ endpoint: 'http://collector:4318' }),
      undefined,
      { enabled: true, endpoint: 'http://collector:4318', logs: [{ level: 'warning', message: 'OTLP protocol "http/protobuf" requested; exporting over OTLP/gRPC instead' }] },
    ],
    ['http/protobuf with a bare host:port has no URL host: the exporter default, TLS', file({ endpoint: 'collector:4318', protocol: 'http/protobuf' }), undefined, { enabled: true, endpoint: 'https://localhost:4318' }],
    [
      'http/protobuf with an IP:port does not parse as a URL',
      file({ endpoint: '127.0.0.1:4318' }),
      undefined,
      {
        enabled: false,
        logs: [
          {
            level: 'warning',
            message: 'failed to load plugin io.containerd.tracing.processor.v1.otlp',
            error: 'OpenTelemetry endpoint "127.0.0.1:4318" invalid argument : parse "127.0.0.1:4318": first path segment in URL cannot contain colon',
          },
          {
            level: 'error',
            message: 'failed to initialize a tracing processor "otlp"',
            error: 'OpenTelemetry endpoint "127.0.0.1:4318" invalid argument : parse "127.0.0.1:4318": first path segment in URL cannot contain colon',
          },
        ],
      },
    ],
    ['an unknown protocol fails the plugin', file({ endpoint: 'c:1', protocol: 'http/json' }), undefined, { enabled: false, logs: [expect.objectContaining({ error: 'OpenTelemetry protocol "http/json" : not implemented' }), expect.anything()] }],
    ['service_name comes from the tracing section', file({ endpoint: 'c:1', protocol: 'grpc' }, { serviceName: 'ctd-node-1' }), undefined, { serviceName: 'ctd-node-1' }],
  ])('1.7.1: %s', (_, cfg, flag, want) => {
    expect(tomlTracingSetup(cfg, flag)).toMatchObject(want);
  });

  it.each([
    ['', { host: '', insecure: false }],
    ['host.k3d.internal:4317', { host: '', insecure: false }],
    ['http://collector:4318', { host: 'collector:4318', insecure: true }],
    ['https://collector:4318/v1/traces', { host: 'collector:4318', insecure: false }],
    ['10.0.0.1:4318', { error: 'parse "10.0.0.1:4318": first path segment in URL cannot contain colon' }],
  ])('url.Parse(%j).Host', (endpoint, want) => {
    expect(httpEndpointHost(endpoint)).toEqual(want);
  });

  const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
  const decide = (setup: ReturnType<typeof tracingSetup>, parent: 'none' | 'sampled' | 'unsampled'): SamplingDecision => {
    const ctx =
      parent === 'none'
        ? ROOT_CONTEXT
        : trace.setSpanContext(context.active(), {
            traceId: TRACE_ID,
            spanId: 'b7ad6b7169203331',
            traceFlags: parent === 'sampled' ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          });
    return setup.sampler.shouldSample(ctx, TRACE_ID, 'runtime.v1.RuntimeService/RunPodSandbox', SpanKind.SERVER, {}, []).decision;
  };
  const { RECORD_AND_SAMPLED: YES, NOT_RECORD: NO } = SamplingDecision;
  const grpcFile = (ratio: number): ContainerdFileConfig => file({ endpoint: 'c:1', protocol: 'grpc', insecure: true }, { samplingRatio: ratio });

  it.each([
    // 1.7.1: ParentBased(TraceIDRatioBased(sampling_ratio)), default ratio 1.0; OTEL_TRACES_SAMPLER is not read.
    ['1.7.1', grpcFile(1), {}, 'none', YES],
    ['1.7.1', grpcFile(1), {}, 'unsampled', NO],
    ['1.7.1', grpcFile(0), { OTEL_TRACES_SAMPLER: 'always_on' }, 'none', NO],
    ['1.7.1', grpcFile(0), {}, 'sampled', YES],
    // 2.1.4: the Go SDK's env sampler, ParentBased(AlwaysOn) by default; the file is not read.
    ['2.1.4', grpcFile(0), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, 'none', YES],
    ['2.1.4', grpcFile(1), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, 'unsampled', NO],
    ['2.1.4', grpcFile(1), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_TRACES_SAMPLER: 'always_off' }, 'sampled', NO],
  ] as const)('%s with %j and env %j samples a call with parent %s: %s', (v, cfg, env, parent, want) => {
    expect(decide(tracingSetup(CONTAINERD_PROFILES[v], cfg, env, undefined), parent)).toBe(want);
  });

  it('2.1.4 ignores the file: tracing comes from the environment only', () => {
    expect(tracingSetup(CONTAINERD_PROFILES['2.1.4'], grpcFile(1), {}, undefined)).toMatchObject({
      enabled: false,
      logs: [{ level: 'info', message: 'skip loading plugin', error: 'skip plugin: tracing endpoint not configured' }],
    });
    expect(envTracingSetup({ OTEL_EXPORTER_OTLP_ENDPOINT: 'x', OTEL_TRACES_EXPORTER: 'zipkin' }, undefined).logs).toEqual([
      {
        level: 'warning',
        message: 'failed to load plugin',
        error: 'unsupported traces exporter "zipkin": invalid argument',
        fields: { id: 'io.containerd.tracing.processor.v1.otlp', type: 'io.containerd.tracing.processor.v1' },
      },
    ]);
  });
});
