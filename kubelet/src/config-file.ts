import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { FeatureGateSpec } from './spans.js';

/**
 * The kubelet's --config file: a KubeletConfiguration
 * (kubelet.config.k8s.io/v1beta1) in YAML or JSON, decoded, defaulted and
 * validated the way pkg/kubelet/kubeletconfig and
 * pkg/kubelet/apis/config/validation do it, with their error texts. Only the
 * fields this simulator acts on are read; every other real field is
 * accepted and ignored, and a field the real type does not have is a strict
 * decoding error that the real kubelet forgives with a warning (lenient
 * decoding).
 */

export const KUBELET_CONFIG_API_VERSION = 'kubelet.config.k8s.io/v1beta1';

/** Where runtime.NewScheme was called, as the scheme names itself in decode errors (1.28+ builds, -trimpath). */
const SCHEME_SITE = 'pkg/kubelet/apis/config/scheme/scheme.go:33';

/** v1beta1 KubeletConfiguration's JSON field names, from k8s.io/kubelet config/v1beta1/types.go at v0.27.1. */
const FIELDS_1_27 =
  'enableServer staticPodPath syncFrequency fileCheckFrequency httpCheckFrequency staticPodURL staticPodURLHeader address port readOnlyPort tlsCertFile ' +
  'tlsPrivateKeyFile tlsCipherSuites tlsMinVersion rotateCertificates serverTLSBootstrap authentication authorization registryPullQPS registryBurst ' +
  'eventRecordQPS eventBurst enableDebuggingHandlers enableContentionProfiling healthzPort healthzBindAddress oomScoreAdj clusterDomain clusterDNS ' +
  'streamingConnectionIdleTimeout nodeStatusUpdateFrequency nodeStatusReportFrequency nodeLeaseDurationSeconds imageMinimumGCAge ' +
  'imageGCHighThresholdPercent imageGCLowThresholdPercent volumeStatsAggPeriod kubeletCgroups systemCgroups cgroupRoot cgroupsPerQOS cgroupDriver ' +
  'cpuManagerPolicy cpuManagerPolicyOptions cpuManagerReconcilePeriod memoryManagerPolicy topologyManagerPolicy topologyManagerScope ' +
  'topologyManagerPolicyOptions qosReserved runtimeRequestTimeout hairpinMode maxPods podCIDR podPidsLimit resolvConf runOnce cpuCFSQuota ' +
  'cpuCFSQuotaPeriod nodeStatusMaxImages maxOpenFiles contentType kubeAPIQPS kubeAPIBurst serializeImagePulls maxParallelImagePulls evictionHard ' +
  'evictionSoft evictionSoftGracePeriod evictionPressureTransitionPeriod evictionMaxPodGracePeriod evictionMinimumReclaim podsPerCore ' +
  'enableControllerAttachDetach protectKernelDefaults makeIPTablesUtilChains iptablesMasqueradeBit iptablesDropBit featureGates failSwapOn memorySwap ' +
  'containerLogMaxSize containerLogMaxFiles configMapAndSecretChangeDetectionStrategy systemReserved kubeReserved reservedSystemCPUs ' +
  'showHiddenMetricsForVersion systemReservedCgroup kubeReservedCgroup enforceNodeAllocatable allowedUnsafeSysctls volumePluginDir providerID ' +
  'kernelMemcgNotification logging enableSystemLogHandler enableSystemLogQuery shutdownGracePeriod shutdownGracePeriodCriticalPods ' +
  'shutdownGracePeriodByPodPriority reservedMemory enableProfilingHandler enableDebugFlagsHandler seccompDefault memoryThrottlingFactor ' +
  'registerWithTaints registerNode tracing localStorageCapacityIsolation containerRuntimeEndpoint imageServiceEndpoint';

/** The fields v0.35.0 adds to the 1.27 set. */
const ADDED_BY_1_35 =
  'podLogsDir imagePullCredentialsVerificationPolicy preloadedImagesVerificationAllowlist imageMaximumGCAge singleProcessOOMKill ' +
  'mergeDefaultEvictionSettings containerLogMaxWorkers containerLogMonitorInterval crashLoopBackOff failCgroupV1 userNamespaces';

export type ConfigFieldSet = '1.27' | '1.35';

const FIELD_SETS: Readonly<Record<ConfigFieldSet, ReadonlySet<string>>> = {
  '1.27': new Set(['apiVersion', 'kind', ...FIELDS_1_27.split(' ')]),
  '1.35': new Set(['apiVersion', 'kind', ...FIELDS_1_27.split(' '), ...ADDED_BY_1_35.split(' ')]),
};

export interface TaintSpec {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
}

/** The fields of a KubeletConfiguration this simulator acts on; absent when the file leaves them out. */
export interface KubeletConfigFile {
  readonly maxPods?: number;
  readonly syncFrequencyMs?: number;
  readonly nodeStatusUpdateFrequencyMs?: number;
  readonly nodeStatusReportFrequencyMs?: number;
  readonly nodeLeaseDurationSeconds?: number;
  readonly runtimeRequestTimeoutMs?: number;
  readonly eventRecordQPS?: number;
  readonly eventBurst?: number;
  readonly healthzPort?: number;
  readonly healthzBindAddress?: string;
  readonly containerRuntimeEndpoint?: string;
  readonly registerNode?: boolean;
  readonly registerWithTaints?: readonly TaintSpec[];
  readonly featureGates?: Readonly<Record<string, boolean>>;
  readonly tracing?: { readonly endpoint?: string; readonly samplingRatePerMillion?: number };
}

/** A klog line for main to write once logging is set up. */
export interface Notice {
  readonly severity: 'I' | 'W';
  readonly source: string;
  readonly msg: string;
  readonly kv?: Readonly<Record<string, unknown>>;
}

export interface Decoded {
  readonly config: KubeletConfigFile;
  /** What the decode logs (lenient decoding of unknown fields). */
  readonly notices: readonly Notice[];
}

const goQuote = (s: string): string => JSON.stringify(s);

/** Go's time.ParseDuration, in milliseconds, with its error texts. */
export function goParseDuration(orig: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    if (num[0] === '' || num[0] === '.') throw invalid();
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)?.[0] ?? '';
    if (unit === '') throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const scale = units[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`);
    total += Number(num[0]) * scale;
    s = s.slice(unit.length);
  }
  return sign * total;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function jsonKind(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** encoding/json's UnmarshalTypeError: the innermost struct, the whole field path, the Go type. */
class FieldDecoder {
  readonly unknown: string[] = [];

  private typeError(v: Json, struct: string, path: string, goType: string): Error {
    const what = typeof v === 'number' && goType !== 'string' && goType !== 'bool' ? `number ${v}` : jsonKind(v);
    return new Error(`json: cannot unmarshal ${what} into Go struct field ${struct}.${path} of type ${goType}`);
  }

  int32(v: Json, struct: string, path: string): number {
    if (typeof v !== 'number') throw this.typeError(v, struct, path, 'int32');
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw this.typeError(v, struct, path, 'int32');
    return v;
  }

  string(v: Json, struct: string, path: string): string {
    if (typeof v !== 'string') throw this.typeError(v, struct, path, 'string');
    return v;
  }

  bool(v: Json, struct: string, path: string): boolean {
    if (typeof v !== 'boolean') throw this.typeError(v, struct, path, 'bool');
    return v;
  }

  /** metav1.Duration.UnmarshalJSON: a JSON string through time.ParseDuration; its errors are returned as they are. */
  duration(v: Json): number {
    if (typeof v !== 'string') throw new Error(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
    return goParseDuration(v);
  }

  object(v: Json, struct: string, path: string, goType: string): Record<string, Json> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw this.typeError(v, struct, path, goType);
    return v;
  }

  /** Strict decoding reports fields the type does not have by their full path. */
  fields(obj: Record<string, Json>, known: readonly string[], prefix: string): void {
    for (const k of Object.keys(obj)) if (!known.includes(k)) this.unknown.push(`${prefix}${k}`);
  }
}

/** Non-pointer v1beta1 fields whose zero value SetDefaults_KubeletConfiguration replaces. */
const ZERO_MEANS_DEFAULT = [
  'maxPods',
  'nodeLeaseDurationSeconds',
  'eventBurst',
  'syncFrequencyMs',
  'nodeStatusUpdateFrequencyMs',
  'nodeStatusReportFrequencyMs',
  'runtimeRequestTimeoutMs',
  'healthzBindAddress',
  'containerRuntimeEndpoint',
] as const;

const TYPE_META_STRUCT = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/** The text as sigs.k8s.io/yaml would turn it into JSON, or the JSON itself when it is JSON. */
function toJson(text: string): Json {
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text) as Json;
    } catch (err) {
      const pos = /position (\d+)/.exec(String(err))?.[1];
      const ch = pos !== undefined ? text[Number(pos)] : undefined;
      const why = ch === undefined ? 'unexpected end of JSON input' : `invalid character '${ch}' looking for beginning of value`;
      throw new Error(`couldn't get version/kind; json parse error: ${why}`);
    }
  }
  // go-yaml v2 under sigs.k8s.io/yaml: YAML 1.1 scalars (yes/no/on/off are booleans), duplicate keys allowed.
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: false });
  const e = doc.errors[0];
  if (e) {
    const line = e.linePos?.[0].line ?? 1;
    throw new Error(`error converting YAML to JSON: yaml: line ${line}: ${e.message.split(' at line ')[0]}`);
  }
  return sortKeys((doc.toJS() ?? null) as Json);
}

/** YAMLToJSON goes through a Go map, and json.Marshal writes map keys sorted. */
function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k] as Json)]),
  );
}

/**
 * DecodeKubeletConfiguration: the universal decoder's checks (kind, then
 * apiVersion, then whether the scheme knows the kind), then the fields.
 * Throws with the decoder's text, to be wrapped as the loader wraps it.
 */
export function decodeKubeletConfiguration(text: string, fieldSet: ConfigFieldSet): Decoded {
  const raw = toJson(text);
  if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new Error(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind(raw)} into Go value of type ${TYPE_META_STRUCT}`);
  }
  const obj: Record<string, Json> = raw ?? {};
  for (const k of ['apiVersion', 'kind'] as const) {
    const v = obj[k];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw new Error(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind(v)} into Go struct field .${k} of type string`);
    }
  }
  const apiVersion = (obj['apiVersion'] as string | null | undefined) ?? '';
  const kind = (obj['kind'] as string | null | undefined) ?? '';
  if (apiVersion.split('/').length > 2) throw new Error(`unexpected GroupVersion string: ${apiVersion}`);
  if (kind === '') throw new Error(`failed to decode: Object 'Kind' is missing in '${text}'`);
  if (apiVersion === '') throw new Error(`failed to decode: Object 'apiVersion' is missing in '${text}'`);
  if (apiVersion !== KUBELET_CONFIG_API_VERSION || kind !== 'KubeletConfiguration') {
    throw new Error(`failed to decode: no kind ${goQuote(kind)} is registered for version ${goQuote(apiVersion)} in scheme ${goQuote(SCHEME_SITE)}`);
  }
  const d = new FieldDecoder();
  const K = 'KubeletConfiguration';
  const out: Record<string, unknown> = {};
  try {
    for (const [field, v] of Object.entries(obj)) {
      // encoding/json leaves a field alone for null.
      if (v === null) continue;
      switch (field) {
        case 'maxPods':
        case 'nodeLeaseDurationSeconds':
        case 'eventRecordQPS':
        case 'eventBurst':
        case 'healthzPort':
          out[field] = d.int32(v, K, field);
          break;
        case 'syncFrequency':
        case 'nodeStatusUpdateFrequency':
        case 'nodeStatusReportFrequency':
        case 'runtimeRequestTimeout':
          out[`${field}Ms`] = d.duration(v);
          break;
        case 'healthzBindAddress':
        case 'containerRuntimeEndpoint':
          out[field] = d.string(v, K, field);
          break;
        case 'registerNode':
          out[field] = d.bool(v, K, field);
          break;
        case 'featureGates': {
          const gates = d.object(v, K, field, 'map[string]bool');
          out[field] = Object.fromEntries(Object.entries(gates).map(([g, b]) => [g, d.bool(b, K, field)]));
          break;
        }
        case 'tracing': {
          const t = d.object(v, K, field, 'v1.TracingConfiguration');
          d.fields(t, ['endpoint', 'samplingRatePerMillion'], 'tracing.');
          const endpoint = t['endpoint'] ?? null;
          const rate = t['samplingRatePerMillion'] ?? null;
          out[field] = {
            ...(endpoint !== null ? { endpoint: d.string(endpoint, 'TracingConfiguration', 'tracing.endpoint') } : {}),
            ...(rate !== null ? { samplingRatePerMillion: d.int32(rate, 'TracingConfiguration', 'tracing.samplingRatePerMillion') } : {}),
          };
          break;
        }
        case 'registerWithTaints': {
          if (!Array.isArray(v)) throw new Error(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${K}.${field} of type []v1.Taint`);
          out[field] = v.map((item, i) => {
            const t = d.object(item, K, field, 'v1.Taint');
            d.fields(t, ['key', 'value', 'effect', 'timeAdded'], `registerWithTaints[${i}].`);
            const str = (name: string): string => (t[name] === undefined || t[name] === null ? '' : d.string(t[name] as Json, 'Taint', `registerWithTaints.${name}`));
            const value = str('value');
            return { key: str('key'), ...(value !== '' ? { value } : {}), effect: str('effect') };
          });
          break;
        }
        default:
          if (!FIELD_SETS[fieldSet].has(field)) d.unknown.push(field);
      }
    }
  } catch (err) {
    throw new Error(`failed to decode: ${err instanceof Error ? err.message : String(err)}`);
  }
  // v1beta1 defaulting: a non-pointer field left at its zero value takes the default.
  for (const k of ZERO_MEANS_DEFAULT) if (out[k] === 0 || out[k] === '') delete out[k];
  const notices: Notice[] =
    d.unknown.length > 0
      ? [
          {
            severity: 'I',
            source: 'codec.go:98',
            msg: 'Using lenient decoding as strict decoding failed',
            kv: { err: `strict decoding error: ${d.unknown.map((f) => `unknown field ${goQuote(f)}`).join(', ')}` },
          },
        ]
      : [];
  return { config: out as KubeletConfigFile, notices };
}

/**
 * fsLoader.Load with loadConfigFile's wrapping, and server.go's around it
 * (whose order changed in 1.28).
 */
export function loadKubeletConfigFile(path: string, fieldSet: ConfigFieldSet, pathFirst: boolean, cwd: string = process.cwd()): Decoded {
  const abs = resolve(cwd, path);
  const wrap = (inner: string): Error => {
    const loader = `failed to load Kubelet config file ${path}, error ${inner}`;
    return new Error(pathFirst ? `failed to load kubelet config file, path: ${path}, error: ${loader}` : `failed to load kubelet config file, error: ${loader}, path: ${path}`);
  };
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(err);
    throw wrap(`failed to read kubelet config file ${goQuote(abs)}, error: open ${abs}: ${why}`);
  }
  if (text.length === 0) throw wrap(`kubelet config file ${goQuote(abs)} was empty`);
  try {
    return decodeKubeletConfiguration(text, fieldSet);
  } catch (err) {
    throw wrap(err instanceof Error ? err.message : String(err));
  }
}

/** Go's ParseBool as pflag and the feature-gate flag use it. */
function parseGoBool(v: string): boolean | undefined {
  if (/^(1|t|T|true|TRUE|True)$/.test(v)) return true;
  if (/^(0|f|F|false|FALSE|False)$/.test(v)) return false;
  return undefined;
}

/**
 * --feature-gates as cliflag.MapStringBool reads it into the config's
 * featureGates: `A=true,B=false`, repeated flags adding up. Throws with the
 * flag value's error text.
 */
export function parseFeatureGatesFlag(items: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const s of items) {
    const eq = s.indexOf('=');
    if (eq < 0) throw new Error('malformed pair, expect string=bool');
    const k = s.slice(0, eq).trim();
    const v = s.slice(eq + 1).trim();
    const b = parseGoBool(v);
    if (b === undefined) throw new Error(`invalid value of ${k}: ${v}, err: strconv.ParseBool: parsing ${goQuote(v)}: invalid syntax`);
    out[k] = b;
  }
  return out;
}

/** The gates this simulator knows; any other name is accepted and has no effect here. */
export interface KnownGates {
  readonly KubeletTracing: FeatureGateSpec;
}

/**
 * featureGate.SetFromMap: the effective gates, or the first error. Returns
 * the klog warnings for GA and deprecated gates that are set.
 */
export function setFeatureGates(known: KnownGates, gates: Readonly<Record<string, boolean>>): { enabled: Record<string, boolean>; notices: Notice[] } {
  const enabled: Record<string, boolean> = Object.fromEntries(Object.entries(known).map(([k, s]) => [k, (s as FeatureGateSpec).default]));
  const notices: Notice[] = [];
  for (const [k, v] of Object.entries(gates)) {
    const spec = (known as unknown as Record<string, FeatureGateSpec | undefined>)[k];
    if (spec) {
      if (spec.lockToDefault && spec.default !== v) throw new Error(`cannot set feature gate ${k} to ${v}, feature is locked to ${spec.default}`);
      if (spec.preRelease === 'GA') notices.push({ severity: 'W', source: 'feature_gate.go:410', msg: `Setting GA feature gate ${k}=${v}. It will be removed in a future release.` });
    }
    enabled[k] = v;
  }
  return { enabled, notices };
}

/** The merged configuration ValidateKubeletConfiguration looks at (the fields modelled here). */
export interface ValidationInput {
  readonly nodeLeaseDurationSeconds: number;
  readonly eventBurst: number;
  readonly eventRecordQPS: number;
  readonly healthzPort: number;
  readonly maxPods: number;
  readonly registerWithTaints: readonly TaintSpec[];
  readonly tracingEnabledByGate: boolean;
  readonly tracing: { readonly endpoint?: string; readonly samplingRatePerMillion?: number } | undefined;
  readonly containerRuntimeEndpoint: string;
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function taintValid(t: TaintSpec): boolean {
  return QUALIFIED_NAME.test(t.key) && LABEL_VALUE.test(t.value ?? '') && ['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect);
}

/** component-base tracing/api/v1 validateEndpoint: the gRPC target schemes otlptracegrpc can dial. */
function endpointErrors(endpoint: string): string[] {
  const withScheme = endpoint.includes('//') ? endpoint : `dns://${endpoint}`;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(withScheme)?.[1]?.toLowerCase() ?? '';
  // url.Parse's one complaint a host:port target commonly meets: a port that is not a number.
  const authority = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/([^/?#]*)/.exec(withScheme)?.[1] ?? '';
  const port = /^(?:\[[^\]]*\]|[^:\[]*)(:.*)$/.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[1];
  if (port !== undefined && !/^:\d*$/.test(port)) {
    return [`tracing.endpoint: Invalid value: ${goQuote(withScheme)}: parse ${goQuote(withScheme)}: invalid port ${goQuote(port)} after host`];
  }
  if (['dns', 'unix', 'unix-abstract'].includes(scheme)) return [];
  return [
    `tracing.endpoint: Invalid value: ${goQuote(withScheme)}: unsupported scheme: ${scheme}.  Options are none, dns, unix, or unix-abstract.  See https://github.com/grpc/grpc/blob/master/doc/naming.md`,
  ];
}

/** ValidateKubeletConfiguration's checks on these fields, in its order; the aggregate's text, or undefined. */
export function validateKubeletConfiguration(c: ValidationInput): string | undefined {
  const errs: string[] = [];
  if (c.nodeLeaseDurationSeconds <= 0) errs.push('invalid configuration: nodeLeaseDurationSeconds must be greater than 0');
  if (c.eventBurst < 0) errs.push(`invalid configuration: eventBurst (--event-burst) ${c.eventBurst} must not be a negative number`);
  if (c.eventRecordQPS < 0) errs.push(`invalid configuration: eventRecordQPS (--event-qps) ${c.eventRecordQPS} must not be a negative number`);
  if (c.healthzPort !== 0 && (c.healthzPort < 1 || c.healthzPort > 65535)) {
    errs.push(`invalid configuration: healthzPort (--healthz-port) ${c.healthzPort} must be between 1 and 65535, inclusive`);
  }
  if (c.maxPods < 0) errs.push(`invalid configuration: maxPods (--max-pods) ${c.maxPods} must not be a negative number`);
  for (const t of c.registerWithTaints) {
    // %v of a v1.Taint value: its fields in order, TimeAdded nil.
    if (!taintValid(t)) errs.push(`invalid taint: {${t.key} ${t.value ?? ''} ${t.effect} <nil>}`);
  }
  if (c.tracingEnabledByGate) {
    const rate = c.tracing?.samplingRatePerMillion;
    if (rate !== undefined && rate < 0) errs.push(`tracing.samplingRatePerMillion: Invalid value: ${rate}: sampling rate must be positive`);
    if (rate !== undefined && rate > 1_000_000) {
      errs.push(`tracing.samplingRatePerMillion: Invalid value: ${rate}: sampling rate per million must be less than or equal to one million`);
    }
    if (c.tracing?.endpoint !== undefined) errs.push(...endpointErrors(c.tracing.endpoint));
  } else if (c.tracing !== undefined) {
    errs.push('invalid configuration: tracing should not be configured if KubeletTracing feature flag is disabled.');
  }
  if (c.containerRuntimeEndpoint === '') errs.push('invalid configuration: the containerRuntimeEndpoint was not specified or empty');
  if (errs.length === 0) return undefined;
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}
