import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { DEFAULT_FILE_CONFIG, type ContainerdFileConfig } from './config-file.js';
import type { ContainerdProfile, LogEntry } from './spans.js';

/**
 * Whether and where containerd 2.x traces, from its environment
 * (pkg/tracing/plugin/otlp.go): the plugin is skipped unless an OTLP endpoint
 * variable is set, OTEL_SDK_DISABLED=true skips it, and an exporter or
 * protocol it does not know fails it (containerd then runs untraced).
 * `--otlp-endpoint` is ours and acts like OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
 */
export type TracingDecision =
  | { readonly enabled: true; readonly endpoint: string; readonly sampler: Sampler; readonly samplerName: string; readonly warnings: readonly string[] }
  | { readonly enabled: false; readonly reason: string };

/** strconv.ParseBool. */
export function goParseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/**
 * The Go SDK's sampler from OTEL_TRACES_SAMPLER/_ARG (sdk/trace/sampler_env.go).
 * A bad name or argument is reported and the default is used, as in Go.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): { sampler: Sampler; name: string; warning?: string } {
  const name = (env['OTEL_TRACES_SAMPLER'] ?? '').trim().toLowerCase();
  const arg = env['OTEL_TRACES_SAMPLER_ARG'];
  const ratio = (): { value: number; warning?: string } => {
    if (arg === undefined) return { value: 1 };
    const v = Number(arg.trim());
    if (arg.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) {
      return { value: 1, warning: `invalid OTEL_TRACES_SAMPLER_ARG "${arg}", using 1.0` };
    }
    return { value: v };
  };
  switch (name) {
    case '':
    case 'parentbased_always_on':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), name: 'parentbased_always_on' };
    case 'always_on':
      return { sampler: new AlwaysOnSampler(), name };
    case 'always_off':
      return { sampler: new AlwaysOffSampler(), name };
    case 'parentbased_always_off':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), name };
    case 'traceidratio': {
      const r = ratio();
      return { sampler: new TraceIdRatioBasedSampler(r.value), name, ...(r.warning ? { warning: r.warning } : {}) };
    }
    case 'parentbased_traceidratio': {
      const r = ratio();
      return {
        sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(r.value) }),
        name,
        ...(r.warning ? { warning: r.warning } : {}),
      };
    }
    default:
      return {
        sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
        name: 'parentbased_always_on',
        warning: `unsupported sampler "${name}", using parentbased_always_on`,
      };
  }
}

export function tracingDecision(env: NodeJS.ProcessEnv, flagEndpoint: string | undefined): TracingDecision {
  const disabled = env['OTEL_SDK_DISABLED'];
  if (disabled !== undefined && disabled !== '') {
    const v = goParseBool(disabled);
    if (v === undefined) {
      return {
        enabled: false,
        reason: `invalid value for OTEL_SDK_DISABLED: strconv.ParseBool: parsing ${JSON.stringify(disabled)}: invalid syntax: invalid argument`,
      };
    }
    if (v) return { enabled: false, reason: `skip plugin: tracing disabled by env OTEL_SDK_DISABLED=${disabled}` };
  }
  const endpoint = [flagEndpoint, env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'], env['OTEL_EXPORTER_OTLP_ENDPOINT']]
    .map((v) => v?.trim())
    .find((v): v is string => v !== undefined && v !== '');
  if (endpoint === undefined) return { enabled: false, reason: 'skip plugin: tracing endpoint not configured' };
  const exporter = env['OTEL_TRACES_EXPORTER'];
  if (exporter !== undefined && exporter !== '' && exporter !== 'otlp') {
    return { enabled: false, reason: `unsupported traces exporter ${JSON.stringify(exporter)}: invalid argument` };
  }
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'] || '';
  const warnings: string[] = [];
  if (protocol !== '' && protocol !== 'grpc' && protocol !== 'http/protobuf') {
    return { enabled: false, reason: `OpenTelemetry protocol ${JSON.stringify(protocol)} : not implemented` };
  }
  // containerd defaults to OTLP/HTTP; the simulator only has an OTLP/gRPC
  // exporter, so every endpoint is spoken to over gRPC. Say so when asked for HTTP.
  if (protocol === 'http/protobuf') warnings.push('OTLP protocol "http/protobuf" requested; exporting over OTLP/gRPC instead');
  const s = samplerFromEnv(env);
  if (s.warning) warnings.push(s.warning);
  return { enabled: true, endpoint, sampler: s.sampler, samplerName: s.name, warnings };
}

/**
 * What main needs to start tracing, for either release: whether and where to
 * export, the sampler, 1.7's configured service name, and the lines
 * containerd logs about its tracing plugins.
 */
export interface TracingSetup {
  readonly enabled: boolean;
  /** A URL (scheme says whether TLS) or host:port. */
  readonly endpoint?: string;
  readonly sampler: Sampler;
  readonly samplerName: string;
  /** 1.7's `service_name`; 2.x takes OTEL_SERVICE_NAME from the environment. */
  readonly serviceName?: string;
  readonly logs: readonly LogEntry[];
}

const OTLP_PLUGIN = { id: 'io.containerd.tracing.processor.v1.otlp', type: 'io.containerd.tracing.processor.v1' } as const;

/** 2.x: tracingDecision, with the lines containerd's plugin loader writes for it. */
export function envTracingSetup(env: NodeJS.ProcessEnv, flagEndpoint: string | undefined): TracingSetup {
  const d = tracingDecision(env, flagEndpoint);
  if (d.enabled) {
    return {
      enabled: true,
      endpoint: d.endpoint,
      sampler: d.sampler,
      samplerName: d.samplerName,
      logs: d.warnings.map((message) => ({ level: 'warning', message })),
    };
  }
  const log: LogEntry = d.reason.startsWith('skip plugin')
    ? { level: 'info', message: 'skip loading plugin', error: d.reason, fields: { id: 'io.containerd.internal.v1.tracing', type: 'io.containerd.internal.v1' } }
    : { level: 'warning', message: 'failed to load plugin', error: d.reason, fields: { ...OTLP_PLUGIN } };
  return { enabled: false, sampler: new AlwaysOffSampler(), samplerName: 'always_off', logs: [log] };
}

/**
 * The host otlptracehttp is given: url.Parse(endpoint).Host. A bare
 * `host:port` parses as scheme `host` with no host at all (so the exporter's
 * default localhost:4318 is used); one starting with a digit fails to parse.
 */
export function httpEndpointHost(endpoint: string): { host: string; insecure: boolean } | { error: string } {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(endpoint);
  if (!scheme) {
    const firstSegment = endpoint.split('/')[0] ?? '';
    if (firstSegment.includes(':')) return { error: `parse ${JSON.stringify(endpoint)}: first path segment in URL cannot contain colon` };
    return { host: '', insecure: false };
  }
  const rest = scheme[2] ?? '';
  const host = rest.startsWith('//') ? (rest.slice(2).split(/[/?#]/)[0] ?? '') : '';
  return { host, insecure: (scheme[1] ?? '').toLowerCase() === 'http' };
}

/**
 * 1.7.1 (tracing/plugin/otlp.go): the otlp processor plugin is skipped when
 * its section has no endpoint; protocol "" or http/protobuf dials
 * url.Parse(endpoint).Host over HTTP, TLS unless the scheme is http; "grpc"
 * dials the endpoint as given, TLS unless `insecure`; anything else fails the
 * plugin. The tracer provider samples ParentBased(TraceIDRatioBased(
 * sampling_ratio)), default ratio 1.0, and ignores OTEL_TRACES_SAMPLER.
 * `--otlp-endpoint` (ours) stands for an otlp section with that endpoint,
 * protocol "grpc" and insecure = true.
 */
export function tomlTracingSetup(file: ContainerdFileConfig | undefined, flagEndpoint: string | undefined): TracingSetup {
  const cfg = file ?? DEFAULT_FILE_CONFIG;
  const otlp = flagEndpoint ? { endpoint: flagEndpoint, protocol: 'grpc', insecure: true } : cfg.otlp;
  const ratio = cfg.tracing.samplingRatio;
  const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  const base = { sampler, samplerName: `parentbased_traceidratio(${ratio})`, serviceName: cfg.tracing.serviceName };
  const failed = (error: string, skipped: boolean): TracingSetup => ({
    ...base,
    enabled: false,
    logs: skipped
      ? [
          { level: 'info', message: `skip loading plugin "${OTLP_PLUGIN.id}"...`, error, fields: { type: OTLP_PLUGIN.type } },
          { level: 'info', message: 'skipping tracing processor initialization (no tracing plugin)', error },
        ]
      : [
          { level: 'warning', message: `failed to load plugin ${OTLP_PLUGIN.id}`, error },
          { level: 'error', message: 'failed to initialize a tracing processor "otlp"', error },
        ],
  });
  if (otlp.endpoint === '') return failed('no OpenTelemetry endpoint: skip plugin', true);
  if (otlp.protocol === 'grpc') {
    return { ...base, enabled: true, endpoint: `${otlp.insecure ? 'http' : 'https'}://${otlp.endpoint}`, logs: [] };
  }
  if (otlp.protocol !== '' && otlp.protocol !== 'http/protobuf') {
    return failed(`OpenTelemetry protocol ${JSON.stringify(otlp.protocol)} : not implemented`, false);
  }
  const parsed = httpEndpointHost(otlp.endpoint);
  if ('error' in parsed) return failed(`OpenTelemetry endpoint ${JSON.stringify(otlp.endpoint)} invalid argument : ${parsed.error}`, false);
  const host = parsed.host === '' ? 'localhost:4318' : parsed.host;
  return {
    ...base,
    enabled: true,
    endpoint: `${parsed.insecure ? 'http' : 'https'}://${host}`,
    logs: [{ level: 'warning', message: 'OTLP protocol "http/protobuf" requested; exporting over OTLP/gRPC instead' }],
  };
}

/** The setup of one release: 1.7 from its config file, 2.x from the environment. */
export function tracingSetup(
  profile: ContainerdProfile,
  file: ContainerdFileConfig | undefined,
  env: NodeJS.ProcessEnv,
  flagEndpoint: string | undefined,
): TracingSetup {
  return profile.tracingConfig === 'toml' ? tomlTracingSetup(file, flagEndpoint) : envTracingSetup(env, flagEndpoint);
}
