import { standardNormal, type Rand } from './random.js';

/**
 * How long each simulated step of the runtime takes, as data (style P10).
 * Values are milliseconds unless the name says otherwise. `realistic` follows
 * kubernetes-traces.md §5/§7 (single-node kind/k3s-style cluster, all
 * estimates there unless a source is named); `fast` keeps the same shape in a
 * few milliseconds for tests and load runs.
 */
export interface Range {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export type Step =
  | 'version'
  | 'status'
  | 'sandboxStatus'
  | 'containerStatus'
  | 'imageStatus'
  | 'list'
  | 'imageFsInfo'
  | 'sandboxPrepare'
  | 'podNetwork'
  | 'sandboxStart'
  | 'pullResolve'
  | 'containerCreate'
  | 'containerStart'
  | 'processRun'
  | 'containerShutdown'
  | 'containerKill'
  | 'containerRemove'
  | 'sandboxStop'
  | 'networkTeardown'
  | 'sandboxRemove';

export interface TimingTable {
  readonly name: 'realistic' | 'fast';
  readonly steps: Readonly<Record<Step, Range>>;
  /** Registry download speed, MiB/s, for image layers not on the node yet. */
  readonly downloadMiBps: Range;
  /** Unpacking into the overlayfs snapshotter, MiB/s of compressed layers. */
  readonly unpackMiBps: Range;
  /**
   * Multiplies the container's own run time (`sleep 5` runs 5 s × this) and the
   * stop grace period, so `fast` does not wait out a 30 s termination grace.
   */
  readonly processScale: number;
}

export const REALISTIC: TimingTable = {
  name: 'realistic',
  steps: {
    // CRI status calls: "1–5 ms" (§7 Flow A); Version/Status/lists read in-memory stores.
    version: { min: 0.2, median: 0.6, max: 2 },
    status: { min: 0.5, median: 1.5, max: 5 },
    sandboxStatus: { min: 1, median: 2, max: 5 },
    containerStatus: { min: 1, median: 2, max: 5 },
    imageStatus: { min: 1, median: 2, max: 5 },
    // PLEG relist every second lists everything; cheap in-memory walks (est.).
    list: { min: 0.3, median: 1, max: 4 },
    imageFsInfo: { min: 0.5, median: 1.5, max: 5 },
    // RunPodSandbox 0.3–1.5 s in total (§7), split into its three phases:
    // name/lease/metadata bookkeeping (est.), CNI ADD (est. for bridge/ptp with
    // host-local IPAM), shim start plus the pause task (the bulk, est.).
    sandboxPrepare: { min: 10, median: 30, max: 100 },
    podNetwork: { min: 50, median: 150, max: 500 },
    sandboxStart: { min: 150, median: 400, max: 900 },
    // Manifest resolve and auth against the registry: a pull of an image
    // already on the node takes 0.3–2 s (§7, pull policy Always).
    pullResolve: { min: 300, median: 700, max: 2000 },
    // CreateContainer 20–150 ms, StartContainer 50–300 ms (§7).
    containerCreate: { min: 20, median: 60, max: 150 },
    containerStart: { min: 50, median: 120, max: 300 },
    // From task start until a one-shot command such as `echo hi` exits (est.).
    processRun: { min: 2, median: 10, max: 50 },
    // A process that handles its stop signal (nginx on SIGQUIT) winds down (est.).
    containerShutdown: { min: 20, median: 120, max: 1000 },
    // SIGKILL until the exit event reaches the CRI plugin (est.).
    containerKill: { min: 5, median: 20, max: 80 },
    // Snapshot and container-root removal (est.).
    containerRemove: { min: 10, median: 30, max: 120 },
    // Shim shutdown of the pause task; CNI DEL; sandbox metadata removal (est.).
    sandboxStop: { min: 30, median: 80, max: 300 },
    networkTeardown: { min: 20, median: 60, max: 300 },
    sandboxRemove: { min: 10, median: 40, max: 150 },
  },
  // A cold pull is 3–30 s (§7): nginx (~69 MiB compressed) at ~20 MiB/s plus
  // unpacking lands near 5 s.
  downloadMiBps: { min: 5, median: 20, max: 60 },
  unpackMiBps: { min: 30, median: 80, max: 200 },
  processScale: 1,
};

const ms = (median: number): Range => ({ min: median / 2, median, max: median * 2 });

export const FAST: TimingTable = {
  name: 'fast',
  steps: {
    version: ms(0.05),
    status: ms(0.05),
    sandboxStatus: ms(0.1),
    containerStatus: ms(0.1),
    imageStatus: ms(0.1),
    list: ms(0.05),
    imageFsInfo: ms(0.05),
    sandboxPrepare: ms(0.5),
    podNetwork: ms(1),
    sandboxStart: ms(2),
    pullResolve: ms(2),
    containerCreate: ms(1),
    containerStart: ms(1.5),
    processRun: ms(1),
    containerShutdown: ms(1),
    containerKill: ms(0.5),
    containerRemove: ms(0.5),
    sandboxStop: ms(0.5),
    networkTeardown: ms(0.5),
    sandboxRemove: ms(0.5),
  },
  downloadMiBps: ms(50_000),
  unpackMiBps: ms(100_000),
  processScale: 0.01,
};

export const TIMING_TABLES: Readonly<Record<TimingTable['name'], TimingTable>> = { realistic: REALISTIC, fast: FAST };

/**
 * A log-normal draw around the median, clamped to [min, max]: most samples sit
 * near the median, a few reach out to the edges, as latencies do. The spread
 * puts `max` about two standard deviations above the median.
 */
export function sampleRange(range: Range, rand: Rand): number {
  if (range.max <= range.median || range.median <= 0) return range.median;
  const sigma = Math.log(range.max / range.median) / 2;
  const v = range.median * Math.exp(sigma * standardNormal(rand));
  return Math.min(range.max, Math.max(range.min, v));
}

/** Milliseconds one step takes this time. */
export function stepDuration(table: TimingTable, step: Step, rand: Rand): number {
  return sampleRange(table.steps[step], rand);
}

const MiB = 1024 * 1024;

/**
 * Milliseconds a PullImage spends resolving, downloading and unpacking. An
 * image already on the node only resolves (its layers are there).
 */
export function pullDuration(table: TimingTable, compressedBytes: number, cached: boolean, rand: Rand): number {
  const resolve = stepDuration(table, 'pullResolve', rand);
  if (cached) return resolve;
  const mib = compressedBytes / MiB;
  const download = (mib / sampleRange(table.downloadMiBps, rand)) * 1000;
  const unpack = (mib / sampleRange(table.unpackMiBps, rand)) * 1000;
  return resolve + download + unpack;
}
