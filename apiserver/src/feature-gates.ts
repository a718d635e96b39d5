import { FlagError } from '../../shared/src/index.js';
import type { ApiserverProfile, FeatureSpec } from './profile.js';

/**
 * --feature-gates as component-base's featureGate.Set takes it (`A=true,B=false`,
 * repeatable) for the one gate the simulator models, APIServerTracing, plus
 * the AllAlpha/AllBeta switches every release knows. Any other name is
 * rejected as unrecognized, which a real apiserver would only do for names it
 * does not know either.
 */
export interface FeatureGates {
  readonly apiserverTracing: boolean;
  /** klog warnings upstream prints while setting gates (GA or deprecated ones). */
  readonly warnings: readonly string[];
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool */
function parseGoBool(v: string): boolean | undefined {
  if (GO_TRUE.has(v)) return true;
  if (GO_FALSE.has(v)) return false;
  return undefined;
}

/** featureGate.Set: the pairs of one flag value, or upstream's error for a malformed one. */
function parsePairs(value: string): Map<string, boolean> {
  const m = new Map<string, boolean>();
  for (const s of value.split(',')) {
    if (s.length === 0) continue;
    const eq = s.indexOf('=');
    const k = (eq < 0 ? s : s.slice(0, eq)).trim();
    if (eq < 0) throw new Error(`missing bool value for ${k}`);
    const v = s.slice(eq + 1).trim();
    const b = parseGoBool(v);
    if (b === undefined) throw new Error(`invalid value of ${k}=${v}, err: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
    m.set(k, b);
  }
  return m;
}

/**
 * 1.31+ takes `kube:Name=v` too (the component globals registry); the kube
 * apiserver registers only the `kube` component.
 */
function stripComponent(profile: ApiserverProfile, value: string): string {
  if (!profile.featureGatesViaRegistry) return value;
  return value
    .split(',')
    .map((s) => {
      const colon = s.indexOf(':');
      const eq = s.indexOf('=');
      if (colon < 0 || (eq >= 0 && colon > eq)) return s;
      const comp = s.slice(0, colon).trim();
      if (comp !== 'kube') throw new Error(`component not registered: ${comp}`);
      return s.slice(colon + 1);
    })
    .join(',');
}

function gateWarning(name: string, spec: FeatureSpec, v: boolean): string | undefined {
  return spec.preRelease === 'GA' ? `Setting GA feature gate ${name}=${v}. It will be removed in a future release.` : undefined;
}

/**
 * The gate state after every --feature-gates value, with the error text the
 * release prints: 1.27's pflag wraps it as `invalid argument … for
 * "--feature-gates" flag`; from 1.31 the registry applies the gates after
 * parsing and returns the bare message.
 */
export function parseFeatureGates(profile: ApiserverProfile, values: readonly string[]): FeatureGates {
  const spec = profile.tracingGate;
  const explicit = new Map<string, boolean>();
  const warnings: string[] = [];
  for (const value of values) {
    try {
      const pairs = parsePairs(stripComponent(profile, value));
      for (const [k, v] of pairs) {
        if (k === 'AllAlpha' || k === 'AllBeta') {
          explicit.set(k, v);
          continue;
        }
        // kube-apiserver registers every gate of pkg/features, so kind-style
        // cluster-wide gates (APIServerTracing and KubeletTracing together)
        // reach it; KubeletTracing has the same stages and does nothing here.
        if (k === 'KubeletTracing') {
          if (spec.lockToDefault && v !== spec.default) throw new Error(`cannot set feature gate ${k} to ${v}, feature is locked to ${spec.default}`);
          const w = gateWarning(k, spec, v);
          if (w) warnings.push(w);
          continue;
        }
        if (k !== 'APIServerTracing') throw new Error(`unrecognized feature gate: ${k}`);
        if (spec.lockToDefault && v !== spec.default) throw new Error(`cannot set feature gate ${k} to ${v}, feature is locked to ${spec.default}`);
        explicit.set(k, v);
        const w = gateWarning(k, spec, v);
        if (w) warnings.push(w);
      }
    } catch (e) {
      const msg = (e as Error).message;
      throw new FlagError(profile.featureGatesViaRegistry ? msg : `invalid argument ${JSON.stringify(value)} for "--feature-gates" flag: ${msg}`);
    }
  }
  // An explicit setting wins; AllAlpha/AllBeta set the unset gates of their stage.
  const all = spec.preRelease === 'Alpha' ? explicit.get('AllAlpha') : spec.preRelease === 'Beta' ? explicit.get('AllBeta') : undefined;
  const apiserverTracing = explicit.get('APIServerTracing') ?? (spec.lockToDefault ? spec.default : (all ?? spec.default));
  return { apiserverTracing, warnings };
}
