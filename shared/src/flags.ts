/**
 * Command-line flags the way Go's pflag (kube-*, etcd, containerd) takes them:
 * `--name value`, `--name=value`, booleans as `--name` or `--name=false`.
 * Each process declares a spec; parsing returns typed values or one error
 * naming the bad flag, in pflag's wording so users recognise it.
 */
export type FlagType = 'string' | 'int' | 'float' | 'bool' | 'duration' | 'stringArray';

export interface FlagSpec {
  readonly type: FlagType;
  readonly default?: string | number | boolean | readonly string[];
  readonly help: string;
  /** Placeholder shown in usage, e.g. URL or DIR. */
  readonly metavar?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S extends FlagSpec> = S['type'] extends 'bool'
  ? boolean
  : S['type'] extends 'int' | 'float' | 'duration'
    ? number
    : S['type'] extends 'stringArray'
      ? string[]
      : string;

export type ParsedFlags<T extends FlagSpecs> = {
  readonly [K in keyof T]: T[K]['default'] extends undefined ? ValueOf<T[K]> | undefined : ValueOf<T[K]>;
} & { readonly _: readonly string[] };

export class FlagError extends Error {
  override name = 'FlagError';
}

/** Go duration strings (`10s`, `1m30s`, `250ms`) in milliseconds; a bare number is taken as seconds. */
export function parseDuration(raw: string): number {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== s.length) throw new FlagError(`time: invalid duration "${raw}"`);
  return total;
}

function convert(name: string, spec: FlagSpec, raw: string): string | number | boolean {
  switch (spec.type) {
    case 'string':
    case 'stringArray':
      return raw;
    case 'bool':
      if (/^(1|t|true|TRUE|True)$/.test(raw)) return true;
      if (/^(0|f|false|FALSE|False)$/.test(raw)) return false;
      throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
    case 'int': {
      if (!/^-?\d+$/.test(raw)) {
        throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
      }
      return Number(raw);
    }
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) {
        throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: strconv.ParseFloat: parsing "${raw}": invalid syntax`);
      }
      return n;
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch (e) {
        throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: ${(e as Error).message}`);
      }
  }
}

export function parseFlags<T extends FlagSpecs>(argv: readonly string[], specs: T): ParsedFlags<T> {
  const out: Record<string, unknown> = {};
  const positional: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.default !== undefined) {
      out[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    }
  }
  const seenArrays = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = specs[name];
    if (!spec) throw new FlagError(`unknown flag: --${name}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (spec.type === 'bool') raw = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new FlagError(`flag needs an argument: --${name}`);
      raw = next;
      i++;
    }
    const value = convert(name, spec, raw);
    if (spec.type === 'stringArray') {
      if (!seenArrays.has(name)) {
        out[name] = [];
        seenArrays.add(name);
      }
      (out[name] as string[]).push(...String(value).split(',').filter((v) => v !== ''));
    } else {
      out[name] = value;
    }
  }
  out['_'] = positional;
  return Object.freeze(out) as ParsedFlags<T>;
}

/** Milliseconds as Go prints a time.Duration: `10m0s`, `1.5s`, `250ms`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/** Usage text listing every flag with its default, for `--help`. */
export function formatUsage(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [summary, '', `Usage:\n  k8s-trace-sim ${command} [flags]`, '', 'Flags:'];
  for (const [name, spec] of Object.entries(specs)) {
    const meta = spec.type === 'bool' ? '' : ` ${spec.metavar ?? spec.type}`;
    const shown =
      spec.type === 'duration' && typeof spec.default === 'number' ? formatGoDuration(spec.default) : JSON.stringify(spec.default);
    const def =
      spec.default === undefined ||
      spec.default === '' ||
      spec.default === false ||
      (Array.isArray(spec.default) && spec.default.length === 0)
        ? ''
        : ` (default ${shown})`;
    lines.push(`      --${name}${meta}`.padEnd(52) + ` ${spec.help}${def}`);
  }
  return lines.join('\n');
}
