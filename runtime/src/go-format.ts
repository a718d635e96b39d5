/**
 * How containerd's Go code prints values into its log lines, which become the
 * names of span events: time.Duration.String, strconv.Quote (%q) and the
 * String() methods cri-api v0.32 generates for the metadata messages (%+v).
 * Matching these byte for byte is what makes an event name look real.
 */

const NS_PER_S = 1_000_000_000n;

function frac(v: bigint, prec: number): { int: bigint; text: string } {
  const div = 10n ** BigInt(prec);
  let digits = (v % div).toString().padStart(prec, '0').replace(/0+$/, '');
  if (prec === 0) digits = '';
  return { int: v / div, text: digits === '' ? '' : `.${digits}` };
}

/** Go's time.Duration.String for a count of nanoseconds: "48.123456ms", "1.5s", "2m3.000000001s". */
export function goDuration(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u === 0n) return '0s';
  if (u < NS_PER_S) {
    const [prec, unit] = u < 1_000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
    const f = frac(u, prec);
    out = `${f.int}${f.text}${unit}`;
  } else {
    const f = frac(u, 9);
    u = f.int;
    out = `${u % 60n}${f.text}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** A duration in (fractional) milliseconds as Go prints it. */
export function goDurationMs(ms: number): string {
  return goDuration(BigInt(Math.round(ms * 1e6)));
}

const ESCAPES: Readonly<Record<string, string>> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/** strconv.Quote: what `%q` prints. Control characters become \xNN; printable Unicode stays as it is. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = ESCAPES[ch];
    if (esc) out += esc;
    else {
      const cp = ch.codePointAt(0) as number;
      if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else out += ch;
    }
  }
  return `${out}"`;
}

export interface SandboxMetadataLike {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt: number;
}

/** `%+v` of a *PodSandboxMetadata: the gogo-generated String(); "nil" for a nil pointer. */
export function formatSandboxMetadata(m: SandboxMetadataLike | null | undefined): string {
  if (!m) return 'nil';
  return `&PodSandboxMetadata{Name:${m.name},Uid:${m.uid},Namespace:${m.namespace},Attempt:${m.attempt},}`;
}

/** `%+v` of a *ContainerMetadata. */
export function formatContainerMetadata(m: { readonly name: string; readonly attempt: number } | null | undefined): string {
  if (!m) return 'nil';
  return `&ContainerMetadata{Name:${m.name},Attempt:${m.attempt},}`;
}

// syscall.Signal.String() on Linux (Go's zerrors signal table).
const SIGNAL_TEXT: Readonly<Record<string, string>> = {
  SIGHUP: 'hangup',
  SIGINT: 'interrupt',
  SIGQUIT: 'quit',
  SIGKILL: 'killed',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
  SIGTERM: 'terminated',
  SIGWINCH: 'window changed',
  SIGSTOP: 'stopped (signal)',
};

/** `%v` of a syscall.Signal, e.g. "terminated" for SIGTERM. */
export function goSignalText(signal: string): string {
  return SIGNAL_TEXT[signal] ?? `signal ${signal}`;
}
