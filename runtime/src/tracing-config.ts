import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';

/**
 * Whether and where containerd 2.x traces, from its environment
 * (pkg/tracing/plugin/otlp.go): the plugin is skipped unless an OTLP endpoint
 * variable is set, OTEL_SDK_DISABLED=true skips it, and an exporter or
 * protocol it does not know fails it (containerd then runs untraced).
 * `--otlp-endpoint` is ours and acts like OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
 * A containerd config.toml would be read here too once we have one.
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
