import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * --tracing-config-file: a TracingConfiguration (apiserver.config.k8s.io
 * v1alpha1, v1beta1 or v1), YAML or JSON, with `endpoint` and
 * `samplingRatePerMillion` (options/tracing.go, component-base validation).
 */
export interface TracingConfiguration {
  readonly endpoint: string | undefined;
  readonly samplingRatePerMillion: number | undefined;
}

const API_VERSIONS = ['apiserver.config.k8s.io/v1', 'apiserver.config.k8s.io/v1beta1', 'apiserver.config.k8s.io/v1alpha1'];
const MAX_RATE = 1_000_000;

export class TracingConfigError extends Error {
  override name = 'TracingConfigError';
}

/** Decodes and validates the file's text; errors carry upstream's wording. */
export function parseTracingConfiguration(text: string): TracingConfiguration {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new TracingConfigError(`unable to decode tracing configuration data: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new TracingConfigError("unable to decode tracing configuration data: Object 'Kind' is missing");
  }
  const d = doc as Record<string, unknown>;
  if (typeof d['kind'] !== 'string' || d['kind'] === '') throw new TracingConfigError("unable to decode tracing configuration data: Object 'Kind' is missing");
  if (typeof d['apiVersion'] !== 'string' || !API_VERSIONS.includes(d['apiVersion']) || d['kind'] !== 'TracingConfiguration') {
    throw new TracingConfigError(
      `unable to decode tracing configuration data: no kind "${d['kind']}" is registered for version "${String(d['apiVersion'] ?? '')}"`,
    );
  }
  const errs: string[] = [];
  const rate = d['samplingRatePerMillion'];
  if (rate !== undefined && rate !== null) {
    if (typeof rate !== 'number' || !Number.isInteger(rate)) errs.push(`samplingRatePerMillion: Invalid value: ${JSON.stringify(rate)}: must be an integer`);
    else if (rate < 0) errs.push(`samplingRatePerMillion: Invalid value: ${rate}: sampling rate must be positive`);
    else if (rate > MAX_RATE) errs.push(`samplingRatePerMillion: Invalid value: ${rate}: sampling rate per million must be less than or equal to one million`);
  }
  const endpoint = d['endpoint'];
  if (endpoint !== undefined && endpoint !== null) {
    if (typeof endpoint !== 'string' || endpoint.trim() === '') errs.push(`endpoint: Invalid value: ${JSON.stringify(endpoint)}: endpoint must not be empty`);
    else {
      try {
        new URL(endpoint.includes('//') ? endpoint : `dns://${endpoint}`);
      } catch {
        errs.push(`endpoint: Invalid value: "${endpoint}": parse "${endpoint}": invalid URI for request`);
      }
    }
  }
  if (errs.length > 0) throw new TracingConfigError(`failed to validate tracing configuration: ${errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`}`);
  return {
    endpoint: typeof endpoint === 'string' ? endpoint : undefined,
    samplingRatePerMillion: typeof rate === 'number' ? rate : undefined,
  };
}

export function readTracingConfiguration(path: string): TracingConfiguration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TracingConfigError(`tracing-config-file ${path} does not exist: ${(e as Error).message}`);
  }
  return parseTracingConfiguration(text);
}
