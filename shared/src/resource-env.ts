import type { Attributes } from '@opentelemetry/api';

/**
 * Parses OTEL_RESOURCE_ATTRIBUTES (`k=v,k2=v2`, values percent-encoded) the
 * way the Go SDK's resource.Environment() does. A malformed list yields no
 * attributes at all, as in Go, rather than a partial set.
 */
export function parseResourceAttributes(raw: string | undefined): Attributes {
  if (!raw || raw.trim() === '') return {};
  const out: Attributes = {};
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return {};
    const key = pair.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return {};
    }
    if (key === '') return {};
    out[key] = value;
  }
  return out;
}

/** Attributes the environment contributes: OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME over it. */
export function resourceAttributesFromEnv(env: NodeJS.ProcessEnv): Attributes {
  const attrs = parseResourceAttributes(env['OTEL_RESOURCE_ATTRIBUTES']);
  const serviceName = env['OTEL_SERVICE_NAME']?.trim();
  if (serviceName) attrs['service.name'] = serviceName;
  return attrs;
}

/**
 * The exporter URL for an OTLP/gRPC endpoint. Kubernetes components dial
 * their configured endpoint insecurely (component-base uses WithInsecure), so
 * a bare `host:port` becomes `http://host:port`; an explicit https:// keeps TLS.
 */
export function otlpGrpcUrl(endpoint: string): string {
  const e = endpoint.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(e)) return e;
  return `http://${e}`;
}

/**
 * Which endpoint a component exports to: its own configuration first, then
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, then the
 * default every Kubernetes component uses.
 */
export function resolveOtlpEndpoint(configured: string | undefined, env: NodeJS.ProcessEnv): string {
  const pick = [configured, env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'], env['OTEL_EXPORTER_OTLP_ENDPOINT']]
    .map((v) => v?.trim())
    .find((v) => v !== undefined && v !== '');
  return otlpGrpcUrl(pick ?? 'localhost:4317');
}
