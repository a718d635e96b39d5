import { trace, INVALID_SPAN_CONTEXT, type Span } from '@opentelemetry/api';
import { exited, type Container } from './containers.js';
import { addImage, imageFor, PAUSE_IMAGE, type ImageRecord } from './images.js';
import { parseDockerRef } from './image-refs.js';
import { newId, nextPid, resolvePrefix } from './ids.js';
import { allocateIp, DEFAULT_POD_CIDR, parseCidr, type PodCidr } from './network.js';
import { randomInt, seededRandom, type Rand } from './random.js';
import type { Sandbox } from './sandboxes.js';
import { CONTAINERD_PROFILES, DEFAULT_CONTAINERD_VERSION, levelEnabled, logEvent, type ContainerdProfile, type LogEntry, type LogLevel } from './spans.js';
import { stepDuration, type Step, type TimingTable } from './timing.js';

export interface RuntimeOptions {
  readonly timing: TimingTable;
  readonly seed: number;
  /** The daemon's log level: entries below it are neither written nor recorded as span events. */
  readonly logLevel?: LogLevel;
  /** Where log lines go (the process's stderr in main.ts); nowhere by default. */
  readonly writeLog?: (entry: LogEntry) => void;
  readonly podCidr?: string;
  /** The containerd release imitated; 2.1.4 by default. */
  readonly containerd?: ContainerdProfile;
}

/** Where annotations of a release without them go: a span that records nothing. */
const NOWHERE: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The runtime's state and its clock: the stores, name reservations, pod IPs,
 * pids and the timers that make containers exit. The CRI handlers change
 * records only through the pure transitions in sandboxes.ts/containers.ts.
 */
export class Runtime {
  readonly sandboxes = new Map<string, Sandbox>();
  readonly containers = new Map<string, Container>();
  images: ImageRecord[] = [];
  /** Reserved names (name → id), held from the start of a create until removal. */
  readonly sandboxNames = new Map<string, string>();
  readonly containerNames = new Map<string, string>();
  readonly timing: TimingTable;
  readonly cidr: PodCidr;
  readonly profile: ContainerdProfile;
  private readonly ipsInUse = new Set<string>();
  private lastIp: string | undefined;
  private pid: number;
  // Separate streams, so a change in how often jitter is drawn does not change the ids of a seeded run.
  private readonly idRand: Rand;
  readonly jitter: Rand;
  private readonly logLevel: LogLevel;
  private readonly writeLog: (entry: LogEntry) => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly exitWaiters = new Map<string, Set<() => void>>();
  private readonly clockBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

  constructor(opts: RuntimeOptions) {
    this.timing = opts.timing;
    this.profile = opts.containerd ?? CONTAINERD_PROFILES[DEFAULT_CONTAINERD_VERSION];
    this.idRand = seededRandom(opts.seed);
    this.jitter = seededRandom(opts.seed ^ 0x5bd1e995);
    this.logLevel = opts.logLevel ?? 'info';
    this.writeLog = opts.writeLog ?? (() => {});
    const cidr = parseCidr(opts.podCidr ?? DEFAULT_POD_CIDR);
    if (!cidr) throw new Error(`invalid pod CIDR "${opts.podCidr}"`);
    this.cidr = cidr;
    this.pid = randomInt(this.idRand, 1000, 3000);
    // The sandbox image is on every node before the first pod (kubeadm/kind preload it), pinned.
    const pause = parseDockerRef(PAUSE_IMAGE);
    if ('ref' in pause) this.images = addImage([], imageFor(pause.ref, true));
  }

  /** Unix nanoseconds, monotonic within the process. */
  now(): bigint {
    return this.clockBase + process.hrtime.bigint();
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  /** Waits the simulated time of one step; returns it in milliseconds. */
  async delay(step: Step): Promise<number> {
    const ms = stepDuration(this.timing, step, this.jitter);
    await this.sleep(ms);
    return ms;
  }

  newId(): string {
    let id = newId(this.idRand);
    while (this.sandboxes.has(id) || this.containers.has(id)) id = newId(this.idRand);
    return id;
  }

  nextPid(): number {
    this.pid = nextPid(this.pid, this.idRand);
    return this.pid;
  }

  allocateIp(): string | undefined {
    const ip = allocateIp(this.cidr, this.ipsInUse, this.lastIp);
    if (ip !== undefined) {
      this.ipsInUse.add(ip);
      this.lastIp = ip;
    }
    return ip;
  }

  releaseIp(ip: string): void {
    this.ipsInUse.delete(ip);
  }

  // A full id (what kubelet always sends) is a map hit; only short prefixes walk the ids.
  findSandbox(prefix: string): ReturnType<typeof resolvePrefix> {
    return this.sandboxes.has(prefix) ? { id: prefix } : resolvePrefix(this.sandboxes.keys(), prefix);
  }

  findContainer(prefix: string): ReturnType<typeof resolvePrefix> {
    return this.containers.has(prefix) ? { id: prefix } : resolvePrefix(this.containers.keys(), prefix);
  }

  /**
   * The span the sandbox and container code annotates (attributes and its own
   * events): the server span in 2.x; nowhere in 1.7, whose code there has no
   * tracing calls. Log lines are not annotations: they use `log`.
   */
  cri(span: Span): Span {
    return this.profile.serverSpanAnnotations ? span : NOWHERE;
  }

  /** A log entry, the way logrus with containerd's hook handles it: written, and an event on the span. */
  log(span: Span | undefined, entry: LogEntry): void {
    if (!levelEnabled(entry.level, this.logLevel)) return;
    this.writeLog(entry);
    if (span?.isRecording()) {
      const ev = logEvent(entry);
      span.addEvent(ev.name, ev.attributes);
    }
  }

  /** The task exits with `code` after `ms`, unless it has exited by then. */
  scheduleExit(id: string, ms: number, code: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      const c = this.containers.get(id);
      if (!c) return;
      const next = exited(c, code, this.now());
      if (next === c) return;
      this.containers.set(id, next);
      const waiters = this.exitWaiters.get(id);
      this.exitWaiters.delete(id);
      for (const w of waiters ?? []) w();
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  /** Resolves true once the container is no longer running, false if `timeoutMs` passes first. */
  waitExit(id: string, timeoutMs: number): Promise<boolean> {
    const c = this.containers.get(id);
    if (!c || c.finishedAt !== 0n || c.startedAt === 0n) return Promise.resolve(true);
    return new Promise((resolve) => {
      let set = this.exitWaiters.get(id);
      if (!set) this.exitWaiters.set(id, (set = new Set()));
      const done = (): void => {
        if (timer) {
          clearTimeout(timer);
          this.timers.delete(timer);
        }
        resolve(true);
      };
      set.add(done);
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            this.timers.delete(timer as NodeJS.Timeout);
            set.delete(done);
            resolve(false);
          }, Math.max(0, timeoutMs))
        : undefined;
      if (timer) this.timers.add(timer);
    });
  }

  /** Stops every pending timer: nothing runs after the server closed. */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ws of this.exitWaiters.values()) for (const w of ws) w();
    this.exitWaiters.clear();
  }
}
