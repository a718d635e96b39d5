import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ApiserverProfile } from './profile.js';

/**
 * --tracing-config-file: a TracingConfiguration (apiserver.config.k8s.io,
 * the apiVersions the release registers), YAML or JSON, with `endpoint` and
 * `samplingRatePerMillion`. Decoding and validation follow
 * server/options/tracing.go, the universal decoder and component-base's
 * ValidateTracingConfiguration, with their messages.
 */
export interface TracingConfiguration {
  readonly endpoint: string | undefined;
  readonly samplingRatePerMillion: number | undefined;
}

const KIND = 'TracingConfiguration';
const GROUP = 'apiserver.config.k8s.io';
const MAX_RATE = 1_000_000;
const INT32_MAX = 2 ** 31 - 1;
const FIND_KIND_TYPE = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

export class TracingConfigError extends Error {
  override name = 'TracingConfigError';
}

/** Go's name for a JSON value's type in an UnmarshalTypeError. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** The UnmarshalTypeError value: numbers show their literal. */
function jsonValue(v: unknown): string {
  return typeof v === 'number' ? `number ${String(v)}` : jsonKind(v);
}

/**
 * The universal decoder's steps: YAML to JSON, the apiVersion/kind probe, the
 * kind and version defaulted from the internal type when absent (so a file
 * without them decodes), then the registered versions, then the fields.
 */
function decode(profile: ApiserverProfile, text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new Error(`error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === undefined) doc = null;
  if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) {
    throw new Error(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind(doc)} into Go value of type ${FIND_KIND_TYPE}`);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  for (const k of ['apiVersion', 'kind'] as const) {
    if (d[k] !== undefined && d[k] !== null && typeof d[k] !== 'string') {
      throw new Error(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind(d[k])} into Go struct field .${k} of type string`);
    }
  }
  const kind = typeof d['kind'] === 'string' && d['kind'] !== '' ? d['kind'] : KIND;
  const apiVersion = typeof d['apiVersion'] === 'string' ? d['apiVersion'] : '';
  // No apiVersion: the internal version, which the decoder fills in and accepts.
  if (apiVersion !== '' || kind !== KIND) {
    const known = kind === KIND && profile.tracingApiVersions.includes(apiVersion);
    if (!known) {
      const scheme = JSON.stringify(profile.tracingSchemeName);
      if (apiVersion === '') throw new Error(`no kind ${JSON.stringify(kind)} is registered for the internal version of group "${GROUP}" in scheme ${scheme}`);
      throw new Error(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme ${scheme}`);
    }
  }
  const field = (name: string, goType: string, ok: (v: unknown) => boolean): void => {
    const v = d[name];
    if (v === undefined || v === null || ok(v)) return;
    throw new Error(`json: cannot unmarshal ${jsonValue(v)} into Go struct field ${KIND}.${name} of type ${goType}`);
  };
  field('samplingRatePerMillion', 'int32', (v) => typeof v === 'number' && Number.isInteger(v) && v >= -INT32_MAX - 1 && v <= INT32_MAX);
  field('endpoint', 'string', (v) => typeof v === 'string');
  return d;
}

/** component-base validateEndpoint: a gRPC target with scheme none, dns, unix or unix-abstract. */
function endpointErrors(endpoint: string): string[] {
  const target = endpoint.includes('//') ? endpoint : `dns://${endpoint}`;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(target);
  let parsed: URL | undefined;
  try {
    parsed = new URL(target);
  } catch {
    parsed = undefined;
  }
  if (!m || !parsed) return [`endpoint: Invalid value: ${JSON.stringify(target)}: parse ${JSON.stringify(target)}: invalid URI for request`];
  const scheme = (m[1] as string).toLowerCase();
  if (scheme === 'dns' || scheme === 'unix' || scheme === 'unix-abstract') return [];
  return [
    `endpoint: Invalid value: ${JSON.stringify(target)}: unsupported scheme: ${scheme}.  Options are none, dns, unix, or unix-abstract.  See https://github.com/grpc/grpc/blob/master/doc/naming.md`,
  ];
}

/** ValidateTracingConfiguration, each error as field.Error prints it. */
export function validateTracingConfiguration(c: TracingConfiguration): string[] {
  const errs: string[] = [];
  const rate = c.samplingRatePerMillion;
  if (rate !== undefined) {
    if (rate < 0) errs.push(`samplingRatePerMillion: Invalid value: ${rate}: sampling rate must be positive`);
    if (rate > MAX_RATE) errs.push(`samplingRatePerMillion: Invalid value: ${rate}: sampling rate per million must be less than or equal to one million`);
  }
  if (c.endpoint !== undefined) errs.push(...endpointErrors(c.endpoint));
  return errs;
}

/** utilerrors.Aggregate's Error(): one message alone, several in brackets. */
function aggregate(errs: readonly string[]): string {
  return errs.length === 1 ? (errs[0] as string) : `[${errs.join(', ')}]`;
}

/**
 * TracingOptions.ApplyTo after the gate check: ReadTracingConfiguration, then
 * validation. Errors carry upstream's wording.
 */
export function parseTracingConfiguration(profile: ApiserverProfile, text: string): TracingConfiguration {
  let d: Record<string, unknown>;
  try {
    d = decode(profile, text);
  } catch (e) {
    throw new TracingConfigError(`failed to read tracing config: unable to decode tracing configuration data: ${(e as Error).message}`);
  }
  const c: TracingConfiguration = {
    endpoint: typeof d['endpoint'] === 'string' ? d['endpoint'] : undefined,
    samplingRatePerMillion: typeof d['samplingRatePerMillion'] === 'number' ? d['samplingRatePerMillion'] : undefined,
  };
  const errs = validateTracingConfiguration(c);
  if (errs.length > 0) throw new TracingConfigError(`failed to validate tracing configuration: ${aggregate(errs)}`);
  return c;
}

/**
 * The whole --tracing-config-file path of kube-apiserver: Validate (the file
 * must exist), then ApplyTo (the gate must be on, the file must decode and
 * validate).
 */
export function readTracingConfiguration(profile: ApiserverProfile, path: string, gateEnabled: boolean): TracingConfiguration {
  if (!existsSync(path)) throw new TracingConfigError(`tracing-config-file ${path} does not exist`);
  if (!gateEnabled) throw new TracingConfigError('APIServerTracing feature is not enabled, but tracing config file was provided');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new TracingConfigError(`failed to read tracing config: unable to read tracing configuration from ${JSON.stringify(path)}: read ${path}: ${why}`);
  }
  return parseTracingConfiguration(profile, text);
}
