import type { Attributes } from '@opentelemetry/api';
import type { OtelHttpProfile } from '../../shared/src/index.js';

/**
 * The demo webhook is modelled as a controller-runtime server wrapped by
 * current otelhttp (kubernetes-traces.md §4): stable HTTP semconv, and the Go
 * SDK's default resource, which unlike the Kubernetes components' carries
 * telemetry.sdk.*.
 */
export const WEBHOOK_OTELHTTP: OtelHttpProfile = { version: '0.61.0', keys: 'v0.61' };

export function webhookResource(serviceName: string): Attributes {
  return {
    'service.name': serviceName,
    'telemetry.sdk.language': 'go',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': '1.36.0',
  };
}

/** otelhttp.NewHandler(mux, operation) names the span after the operation; the demo passes the path. */
export function webhookSpanName(path: string): string {
  return path;
}
