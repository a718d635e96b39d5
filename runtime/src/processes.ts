import type { ImageProfile } from './images.js';

/**
 * What a container's main process will do, decided once at CreateContainer
 * from the command line (Kubernetes' command/args over the image's
 * ENTRYPOINT/CMD). Nothing is executed: a few well-known programs and shell
 * forms are recognised from data below, everything else is assumed to be a
 * long-running server.
 */
export type Lifetime = { readonly kind: 'exits'; readonly afterMs: number; readonly exitCode: number } | { readonly kind: 'runs' };

/**
 * What the process does with its stop signal. As PID 1 in its namespace a
 * process without a handler ignores SIGTERM (the kernel drops default-action
 * signals to init), so a shell or `sleep` only goes on SIGKILL after the grace
 * period: exit code 137.
 */
export type OnStop = { readonly kind: 'exits'; readonly exitCode: number } | { readonly kind: 'ignores' };

export interface ProcessPlan {
  readonly argv: readonly string[];
  readonly lifetime: Lifetime;
  readonly onStop: OnStop;
}

export interface CommandLine {
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly stdin: boolean;
  readonly tty: boolean;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);
// Entrypoint wrappers that end by exec-ing their arguments.
const WRAPPERS = new Set(['docker-entrypoint.sh', 'tini', 'dumb-init', 'entrypoint.sh', 'env']);
// One-shot utilities: they print or change something and exit 0.
const ONE_SHOT = new Set([
  'echo', 'printf', 'true', ':', 'date', 'env', 'printenv', 'hostname', 'uname', 'ls', 'pwd', 'id', 'whoami',
  'cat', 'touch', 'mkdir', 'cp', 'mv', 'rm', 'chmod', 'chown', 'ln', 'nslookup', 'df', 'du', 'ps', 'free', 'uptime',
]);
// Programs that stay in the foreground until signalled, and ignore SIGTERM as PID 1.
const BLOCKING_NO_HANDLER = new Set(['tail', 'yes', 'top', 'watch']);
// Interpreters that, like a shell, exit at once when stdin is closed and no script is given.
const REPLS = new Set(['python', 'python3', 'node', 'irb']);

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** `sleep` arguments: seconds with optional s/m/h/d suffix, summed; `infinity` never ends. */
export function parseSleep(args: readonly string[]): number | 'forever' | undefined {
  if (args.length === 0) return undefined;
  let total = 0;
  for (const a of args) {
    if (a === 'infinity' || a === 'inf') return 'forever';
    const m = /^(\d+(?:\.\d+)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) return undefined;
    const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
    total += Number(m[1]) * unit * 1000;
  }
  return total;
}

type Step = { ms: number; code: number; final?: boolean } | 'forever';

/** One simple command inside a shell script or as the container's whole command. */
function simpleCommand(words: readonly string[], inScript: boolean): Step {
  const [cmd0, ...rest] = words;
  if (cmd0 === undefined) return { ms: 0, code: 0 };
  const cmd = base(cmd0);
  if (cmd === 'exit') return { ms: 0, code: rest[0] !== undefined && /^\d+$/.test(rest[0]) ? Number(rest[0]) % 256 : 0, final: true };
  if (cmd === 'false') return { ms: 0, code: 1 };
  if (cmd === 'sleep') {
    const d = parseSleep(rest);
    return d === 'forever' ? 'forever' : d === undefined ? { ms: 0, code: 1 } : { ms: d, code: 0 };
  }
  if (cmd === 'tail' && rest.some((a) => a === '-f' || a === '-F')) return 'forever';
  if (BLOCKING_NO_HANDLER.has(cmd) && cmd !== 'tail') return 'forever';
  if (ONE_SHOT.has(cmd) || cmd === 'tail') return { ms: 0, code: 0 };
  // A helper called from a script (cp, sed, wget…) usually finishes; a
  // binary the container execs directly is usually the service itself.
  return inScript ? { ms: 0, code: 0 } : 'forever';
}

/** Splits a `sh -c` script into words and the operators between commands. Quotes group words; nothing else is expanded. */
export function tokenizeScript(script: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  const flush = (): void => {
    if (has) out.push(cur);
    cur = '';
    has = false;
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === ' ' || ch === '\t') flush();
    else if (ch === ';' || ch === '\n') {
      flush();
      out.push(';');
    } else if ((ch === '&' || ch === '|') && script[i + 1] === ch) {
      flush();
      out.push(ch + ch);
      i++;
    } else {
      cur += ch;
      has = true;
    }
  }
  flush();
  return out;
}

/** How a `sh -c` script ends: sleeps add up, `&&`/`||` short-circuit, `exit N` ends it, a `while` loop never does. */
export function runScript(script: string): Lifetime {
  const tokens = tokenizeScript(script);
  if (tokens.some((t) => t === 'while' || t === 'until')) return { kind: 'runs' };
  let ms = 0;
  let code = 0;
  let words: string[] = [];
  let skip = false;
  for (const t of [...tokens, ';']) {
    if (t !== ';' && t !== '&&' && t !== '||') {
      words.push(t);
      continue;
    }
    if (!skip && words.length > 0) {
      const step = simpleCommand(words, true);
      if (step === 'forever') return { kind: 'runs' };
      ms += step.ms;
      code = step.code;
      if (step.final) return { kind: 'exits', afterMs: ms, exitCode: code };
    }
    words = [];
    skip = (t === '&&' && code !== 0) || (t === '||' && code === 0);
  }
  return { kind: 'exits', afterMs: ms, exitCode: code };
}

/** The argv Kubernetes hands the runtime: command replaces ENTRYPOINT and drops CMD; args alone replace CMD. */
export function effectiveArgv(cl: CommandLine, image: Pick<ImageProfile, 'entrypoint' | 'cmd'>): string[] {
  if (cl.command.length > 0) return [...cl.command, ...cl.args];
  return [...image.entrypoint, ...(cl.args.length > 0 ? cl.args : image.cmd)];
}

export function planProcess(cl: CommandLine, image: Pick<ImageProfile, 'entrypoint' | 'cmd'>): ProcessPlan {
  const argv = effectiveArgv(cl, image);
  let words = argv;
  while (words.length > 1 && WRAPPERS.has(base(words[0] as string))) {
    words = words.slice(1);
    while (words[0] === '--' || /^\w+=/.test(words[0] ?? '')) words = words.slice(1);
  }
  const cmd = base(words[0] ?? '');
  const interactive = cl.stdin || cl.tty;
  if (SHELLS.has(cmd) || REPLS.has(cmd)) {
    const c = words.indexOf('-c');
    const script = c >= 0 ? words[c + 1] : undefined;
    if (SHELLS.has(cmd) && script !== undefined) {
      return { argv, lifetime: runScript(script), onStop: { kind: 'ignores' } };
    }
    if (words.length > 1 && REPLS.has(cmd)) {
      return { argv, lifetime: { kind: 'runs' }, onStop: { kind: 'exits', exitCode: 0 } };
    }
    // No script: reads commands from stdin, which is closed unless stdin/tty is set.
    return { argv, lifetime: interactive ? { kind: 'runs' } : { kind: 'exits', afterMs: 0, exitCode: 0 }, onStop: { kind: 'ignores' } };
  }
  const step = simpleCommand(words, false);
  if (step === 'forever') {
    const handles = !(cmd === 'sleep' || BLOCKING_NO_HANDLER.has(cmd));
    return { argv, lifetime: { kind: 'runs' }, onStop: handles ? { kind: 'exits', exitCode: 0 } : { kind: 'ignores' } };
  }
  return { argv, lifetime: { kind: 'exits', afterMs: step.ms, exitCode: step.code }, onStop: { kind: 'ignores' } };
}
