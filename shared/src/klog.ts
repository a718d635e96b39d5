/**
 * klog's text header and structured key/value form, which kube-scheduler and
 * kubelet write to stderr:
 * `I1121 08:49:00.123456   12345 kubelet.go:2486] "SyncLoop ADD" source="api" pods=["default/nginx"]`.
 */
export type KlogSeverity = 'I' | 'W' | 'E';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function value(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v === undefined ? '<nil>' : typeof v === 'string' ? v : v);
}

export function formatKlog(
  severity: KlogSeverity,
  at: Date,
  pid: number,
  source: string,
  msg: string,
  kv: Readonly<Record<string, unknown>> = {},
): string {
  const head =
    `${severity}${pad(at.getMonth() + 1)}${pad(at.getDate())} ` +
    `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}000 ` +
    `${String(pid).padStart(7)} ${source}]`;
  const pairs = Object.entries(kv)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${value(v)}`)
    .join('');
  return `${head} ${JSON.stringify(msg)}${pairs}`;
}

/** A logger writing klog lines up to a verbosity (`--v`), to stderr unless told otherwise. */
export interface Klog {
  info(source: string, msg: string, kv?: Record<string, unknown>): void;
  /** Written only when `--v` is at least `level`. */
  v(level: number, source: string, msg: string, kv?: Record<string, unknown>): void;
  error(source: string, msg: string, kv?: Record<string, unknown>): void;
  warn(source: string, msg: string, kv?: Record<string, unknown>): void;
}

export function klog(verbosity: number, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Klog {
  const out = (s: KlogSeverity, source: string, msg: string, kv?: Record<string, unknown>): void =>
    write(formatKlog(s, new Date(), process.pid, source, msg, kv));
  return {
    info: (source, msg, kv) => out('I', source, msg, kv),
    v: (level, source, msg, kv) => {
      if (verbosity >= level) out('I', source, msg, kv);
    },
    error: (source, msg, kv) => out('E', source, msg, kv),
    warn: (source, msg, kv) => out('W', source, msg, kv),
  };
}
