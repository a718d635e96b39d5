import { describe, expect, it } from 'vitest';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { lookupError, notFound, plain, wrapError, wrapped } from '../src/errors.js';
import { LOG_LINES } from '../src/log-lines.js';
import {
  CONTAINERD_PROFILES,
  containerdResource,
  CONTAINERD_OTELGRPC,
  CRI_EVENTS,
  exceptionEvent,
  levelEnabled,
  logEvent,
  parseLogLevel,
  recordedError,
  sandboxPidAttribute,
} from '../src/spans.js';
import { goParseBool, samplerFromEnv, tracingDecision } from '../src/tracing-config.js';

const ID = 'ab'.repeat(32);

describe('containerd 2.1 span shape', () => {
  it('links otelgrpc 0.60.0 as a stats handler without message events', () => {
    expect(CONTAINERD_OTELGRPC).toEqual({ version: '0.60.0', keys: 'v0.42', messageEvents: 'none', serverErrors: 'server-fault' });
  });

  it.each([
    [{}, 'containerd'],
    [{ OTEL_SERVICE_NAME: 'containerd-node-1' }, 'containerd-node-1'],
    [{ OTEL_SERVICE_NAME: '  ' }, 'containerd'],
  ])('resource for env %j has service.name %s and the Go SDK attributes', (env, name) => {
    expect(containerdResource(CONTAINERD_PROFILES['2.1.4'], { env, hostName: 'node-1', serviceName: 'ignored' })).toEqual({
      'service.name': name,
      'telemetry.sdk.language': 'go',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '1.35.0',
    });
  });

  it('puts sandbox.pid through json.Marshal: a string', () => {
    expect(sandboxPidAttribute(4242)).toBe('4242');
  });

  it.each([
    [notFound(`an error occurred when try to find container "${ID}"`), '*status.Error', `rpc error: code = NotFound desc = an error occurred when try to find container "${ID}": not found`],
    [plain('sandbox config must include metadata'), '*errors.errorString', 'sandbox config must include metadata'],
    [wrapped('failed to set starting state for container "x"', 'container is in CONTAINER_RUNNING state'), '*fmt.wrapError', 'failed to set starting state for container "x": container is in CONTAINER_RUNNING state'],
  ])('records %s as RecordError sees it after ToGRPC', (err, type, message) => {
    expect(recordedError(err.code, err.message, err.goType)).toEqual({ type, message });
    expect(exceptionEvent({ type, message })).toEqual({ name: 'exception', attributes: { 'exception.type': type, 'exception.message': message } });
  });

  it.each([
    [GrpcStatus.ALREADY_EXISTS, 'AlreadyExists'],
    [GrpcStatus.FAILED_PRECONDITION, 'FailedPrecondition'],
    [GrpcStatus.INVALID_ARGUMENT, 'InvalidArgument'],
    [GrpcStatus.DEADLINE_EXCEEDED, 'DeadlineExceeded'],
  ])('prints code %i as %s in status errors', (code, name) => {
    expect(recordedError(code, 'm', '*fmt.wrapError').message).toBe(`rpc error: code = ${name} desc = m`);
  });

  it('maps lookup failures: only "not found" is NOT_FOUND', () => {
    expect(lookupError('p', 'not found')).toMatchObject({ code: GrpcStatus.NOT_FOUND, message: 'p: not found' });
    expect(lookupError('p', "prefix can't be empty")).toMatchObject({ code: GrpcStatus.UNKNOWN, message: "p: prefix can't be empty" });
    expect(wrapError('outer', notFound('inner'))).toMatchObject({ code: GrpcStatus.NOT_FOUND, message: 'outer: inner: not found' });
    const other = new Error('x');
    expect(wrapError('outer', other)).toBe(other);
  });

  it('turns log entries into events named after the message, error field "{}" and level last', () => {
    expect(logEvent({ level: 'info', message: 'StartContainer for "x"' })).toEqual({ name: 'StartContainer for "x"', attributes: { level: 'info' } });
    const ev = logEvent({ level: 'error', message: 'StartContainer for "x" failed', error: 'rpc error: code = NotFound desc = …' });
    expect(ev.attributes).toEqual({ error: '{}', level: 'error' });
    expect(Object.keys(ev.attributes).at(-1)).toBe('level');
  });

  it.each([
    ['info', 'info', true],
    ['error', 'info', true],
    ['debug', 'info', false],
    ['trace', 'info', false],
    ['info', 'warning', false],
    ['trace', 'trace', true],
  ] as const)('an entry at %s is recorded at daemon level %s: %s', (entry, daemon, want) => {
    expect(levelEnabled(entry, daemon)).toBe(want);
  });

  it.each([
    ['info', 'info'],
    ['WARN', 'warning'],
    ['warning', 'warning'],
    ['panic', undefined],
  ])('parseLogLevel(%s)', (s, want) => {
    expect(parseLogLevel(s)).toBe(want);
  });

  it('formats CRI events with Go duration strings', () => {
    expect(CRI_EVENTS.containerCreated(48_123_456n)).toEqual({ name: 'container created', attributes: { 'container.create.duration': '48.123456ms' } });
    expect(CRI_EVENTS.containerStarted(1_500_000_000n).attributes).toEqual({ 'container.start.duration': '1.5s' });
    expect(CRI_EVENTS.containerStopped('c', 20_000_000n)).toEqual({
      name: 'container stopped',
      attributes: { 'container.id': 'c', 'container.stop.duration': '20ms' },
    });
    expect(CRI_EVENTS.setupPodNetwork().name).toBe('setup pod network');
    expect(CRI_EVENTS.pullComplete().name).toBe('Pull and unpack image complete');
  });
});

describe('instrumented service log lines', () => {
  const meta = { name: 'nginx', uid: 'u1', namespace: 'default', attempt: 0 };
  const sandboxReq = { config: { metadata: meta } as never, runtimeHandler: '' };
  const createReq = { podSandboxId: ID, config: { metadata: { name: 'nginx', attempt: 0 } } as never, sandboxConfig: null };
  it.each([
    [LOG_LINES.RunPodSandbox.start(sandboxReq), 'RunPodSandbox for &PodSandboxMetadata{Name:nginx,Uid:u1,Namespace:default,Attempt:0,}'],
    [
      LOG_LINES.RunPodSandbox.ok(sandboxReq, { podSandboxId: ID }),
      `RunPodSandbox for &PodSandboxMetadata{Name:nginx,Uid:u1,Namespace:default,Attempt:0,} returns sandbox id "${ID}"`,
    ],
    [LOG_LINES.RunPodSandbox.fail({ config: null, runtimeHandler: '' }), 'RunPodSandbox for nil failed, error'],
    [LOG_LINES.CreateContainer.start(createReq), `CreateContainer within sandbox "${ID}" for container &ContainerMetadata{Name:nginx,Attempt:0,}`],
    [
      LOG_LINES.CreateContainer.ok(createReq, { containerId: 'c1' }),
      `CreateContainer within sandbox "${ID}" for &ContainerMetadata{Name:nginx,Attempt:0,} returns container id "c1"`,
    ],
    [LOG_LINES.StartContainer.start({ containerId: 'c1' }), 'StartContainer for "c1"'],
    [LOG_LINES.StartContainer.ok({ containerId: 'c1' }), 'StartContainer for "c1" returns successfully'],
    [LOG_LINES.StopContainer.start({ containerId: 'c1', timeout: '30' }), 'StopContainer for "c1" with timeout 30 (s)'],
    [LOG_LINES.RemovePodSandbox.ok({ podSandboxId: 's' }), 'RemovePodSandbox "s" returns successfully'],
    [LOG_LINES.PullImage.start({ image: { image: 'nginx' } as never, sandboxConfig: null }), 'PullImage "nginx"'],
    [
      LOG_LINES.PullImage.ok({ image: { image: 'nginx' } as never, sandboxConfig: null }, { imageRef: 'sha256:1' }),
      'PullImage "nginx" returns image reference "sha256:1"',
    ],
    [LOG_LINES.PullImage.fail({ image: null, sandboxConfig: null }), 'PullImage "" failed'],
    [LOG_LINES.ContainerStatus.fail({ containerId: 'c1' }), 'ContainerStatus for "c1" failed'],
  ])('%s', (got, want) => {
    expect(got).toBe(want);
  });

  it('records errors only on the methods that change state', () => {
    const recording = Object.entries(LOG_LINES).filter(([, l]) => l.recordsError).map(([m]) => m).sort();
    expect(recording).toEqual(
      ['CreateContainer', 'PullImage', 'RemoveContainer', 'RemovePodSandbox', 'RunPodSandbox', 'StartContainer', 'StopContainer', 'StopPodSandbox'].sort(),
    );
    expect(LOG_LINES.PodSandboxStatus.level).toBe('trace');
  });
});

describe('tracing configuration (containerd 2.x env)', () => {
  it.each([
    [{}, undefined, { enabled: false, reason: 'skip plugin: tracing endpoint not configured' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, undefined, { enabled: true, endpoint: 'http://c:4317' }],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4317', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, undefined, { enabled: true, endpoint: 'http://t:4317' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, '127.0.0.1:4317', { enabled: true, endpoint: '127.0.0.1:4317' }],
    [{}, '127.0.0.1:4317', { enabled: true, endpoint: '127.0.0.1:4317' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_SDK_DISABLED: 'true' }, undefined, { enabled: false, reason: 'skip plugin: tracing disabled by env OTEL_SDK_DISABLED=true' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_SDK_DISABLED: 'false' }, undefined, { enabled: true }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'x', OTEL_SDK_DISABLED: 'yes' }, undefined, { enabled: false, reason: 'invalid value for OTEL_SDK_DISABLED: strconv.ParseBool: parsing "yes": invalid syntax: invalid argument' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'x', OTEL_TRACES_EXPORTER: 'zipkin' }, undefined, { enabled: false, reason: 'unsupported traces exporter "zipkin": invalid argument' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, undefined, { enabled: false, reason: 'OpenTelemetry protocol "http/json" : not implemented' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, undefined, { enabled: true, warnings: ['OTLP protocol "http/protobuf" requested; exporting over OTLP/gRPC instead'] }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'x', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, undefined, { enabled: true, warnings: [] }],
  ])('env %j, flag %s', (env, flag, want) => {
    expect(tracingDecision(env, flag)).toMatchObject(want);
  });

  it.each([
    [{}, ParentBasedSampler, 'parentbased_always_on', undefined],
    [{ OTEL_TRACES_SAMPLER: 'always_on' }, AlwaysOnSampler, 'always_on', undefined],
    [{ OTEL_TRACES_SAMPLER: 'always_off' }, AlwaysOffSampler, 'always_off', undefined],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, TraceIdRatioBasedSampler, 'traceidratio', undefined],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, TraceIdRatioBasedSampler, 'traceidratio', 'invalid OTEL_TRACES_SAMPLER_ARG "2", using 1.0'],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }, ParentBasedSampler, 'parentbased_traceidratio', undefined],
    [{ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, ParentBasedSampler, 'parentbased_always_on', 'unsupported sampler "jaeger_remote", using parentbased_always_on'],
  ])('sampler for %j', (env, cls, name, warning) => {
    const s = samplerFromEnv(env);
    expect(s.sampler).toBeInstanceOf(cls);
    expect(s.name).toBe(name);
    expect(s.warning).toBe(warning);
  });

  it('samples roots by default (ParentBased(AlwaysOn))', () => {
    expect(samplerFromEnv({}).sampler.toString()).toMatch(/ParentBased\{root=AlwaysOnSampler/);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['T', true],
    ['False', false],
    ['0', false],
    ['yes', undefined],
    ['', undefined],
  ])('goParseBool(%j)', (s, want) => {
    expect(goParseBool(s)).toBe(want);
  });
});
