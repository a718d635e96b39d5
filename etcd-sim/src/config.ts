import { isIP } from 'node:net';
import { FlagError, parseDuration, parseFlags, type FlagSpecs } from '../../shared/src/index.js';
import { DEFAULT_ETCD_VERSION, ETCD_PROFILES, ETCD_VERSIONS, isEtcdVersion, samplingRateError, type EtcdProfile } from './spans.js';

/** etcd's own flag names and defaults (etcdmain/config.go); only those this simulator acts on. */
export const ETCD_FLAGS = {
  name: { type: 'string', default: 'default', help: 'Human-readable name for this member.' },
  'data-dir': { type: 'string', default: '', metavar: 'DIR', help: 'Path to the data directory (default "${name}.etcd").' },
  'listen-client-urls': { type: 'string', default: 'http://localhost:2379', metavar: 'URLS', help: 'List of URLs to listen on for client traffic (http:// only).' },
  'advertise-client-urls': { type: 'string', default: 'http://localhost:2379', metavar: 'URLS', help: "List of this member's client URLs to advertise to the public." },
  'initial-advertise-peer-urls': { type: 'string', default: 'http://localhost:2380', metavar: 'URLS', help: "This member's peer URLs; with the token they determine the member ID." },
  'initial-cluster-token': { type: 'string', default: 'etcd-cluster', help: 'Initial cluster token; with the peer URLs it determines the member and cluster IDs.' },
  'unsafe-no-fsync': { type: 'bool', default: false, help: 'Disables fsync, unsafe, will cause data loss.' },
  'snapshot-count': { type: 'int', default: 100000, help: 'Number of committed transactions to trigger a snapshot to disk.' },
  'max-txn-ops': { type: 'int', default: 128, help: 'Maximum number of operations permitted in a transaction.' },
  'max-request-bytes': { type: 'int', default: 1572864, help: 'Maximum client request size in bytes the server will accept.' },
  'auto-compaction-mode': { type: 'string', default: 'periodic', help: "Interpret 'auto-compaction-retention' one of: periodic|revision." },
  'auto-compaction-retention': { type: 'string', default: '0', help: 'Auto compaction retention for mvcc key value store. 0 means disable auto compaction.' },
  'experimental-enable-distributed-tracing': { type: 'bool', default: false, help: 'Enable experimental distributed tracing using OpenTelemetry Tracing.' },
  'experimental-distributed-tracing-address': { type: 'string', default: 'localhost:4317', help: 'Address for distributed tracing used for OpenTelemetry Tracing.' },
  'experimental-distributed-tracing-service-name': { type: 'string', default: 'etcd', help: 'Configures service name for distributed tracing to be used to define service name for OpenTelemetry Tracing.' },
  'experimental-distributed-tracing-instance-id': { type: 'string', default: '', help: 'Configures service instance ID for distributed tracing to be used to define service instance ID key for OpenTelemetry Tracing.' },
  'experimental-distributed-tracing-sampling-rate': { type: 'int', default: 0, help: 'Number of samples to collect per million spans for OpenTelemetry Tracing.' },
  'experimental-watch-progress-notify-interval': { type: 'duration', default: 600_000, help: 'Duration of periodic watch progress notifications, e.g. 10m.' },
  'log-level': { type: 'string', default: 'info', help: 'Configures log level. Only supports debug, info, warn, error.' },
  // Ours, not etcd's: which release to imitate.
  'etcd-version': { type: 'string', default: DEFAULT_ETCD_VERSION, help: `etcd release to imitate: ${ETCD_VERSIONS.join(' or ')}.` },
  help: { type: 'bool', default: false, help: 'Show this help.' },
} as const satisfies FlagSpecs;

export type CompactionPolicy = { readonly mode: 'periodic'; readonly periodMs: number } | { readonly mode: 'revision'; readonly retention: number };

export interface EtcdConfig {
  readonly help: boolean;
  readonly profile: EtcdProfile;
  readonly name: string;
  readonly dataDir: string;
  readonly listen: readonly { readonly host: string; readonly port: number; readonly url: string }[];
  readonly advertiseClientUrls: readonly string[];
  readonly peerUrls: readonly string[];
  readonly clusterToken: string;
  readonly fsync: boolean;
  readonly snapshotCount: number;
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly compaction: CompactionPolicy | undefined;
  readonly tracing: { readonly enabled: boolean; readonly address: string; readonly serviceName: string; readonly instanceId: string; readonly samplingRate: number };
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly watchProgressNotifyMs: number;
}

/** types.NewURLs: comma-separated http(s)/unix URLs of the form scheme://host:port, no path. */
export function parseUrls(raw: string): { scheme: string; host: string; port: number; url: string }[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (raw.trim() === '') throw new FlagError('no valid URLs given');
  return parts.map((url) => {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(url);
    const scheme = m?.[1]?.toLowerCase() ?? '';
    if (!m || !['http', 'https', 'unix', 'unixs'].includes(scheme)) throw new FlagError(`URL scheme must be http, https, unix, or unixs: ${url}`);
    const hp = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d*)$/.exec(m[2] ?? '');
    if (scheme.startsWith('unix')) return { scheme, host: m[2] ?? '', port: 0, url };
    if (!hp) throw new FlagError(`URL address does not have the form "host:port": ${url}`);
    if (m[3] !== '') throw new FlagError(`URL must not contain a path: ${url}`);
    return { scheme, host: hp[1] ?? hp[2] ?? '', port: Number(hp[3] || 0), url };
  });
}

/** What we can listen on: etcd's checks (IPs or localhost) plus ours (no TLS, no unix sockets). */
export function parseListenUrls(raw: string): EtcdConfig['listen'] {
  return parseUrls(raw).map((u) => {
    if (u.scheme === 'https' || u.scheme === 'unixs') {
      throw new FlagError(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${u.url} with HTTPS scheme; etcd-sim serves plain http:// only`);
    }
    if (u.scheme === 'unix') throw new FlagError(`etcd-sim serves TCP only, not unix sockets: ${u.url}`);
    if (u.host !== 'localhost' && isIP(u.host) === 0) throw new FlagError(`expected IP in URL for binding (${u.url})`);
    return { host: u.host, port: u.port, url: u.url };
  });
}

/** embed.parseCompactionRetention: a bare integer is hours (periodic) or revisions; else a Go duration. */
export function parseCompaction(mode: string, retention: string): CompactionPolicy | undefined {
  if (mode !== 'periodic' && mode !== 'revision') throw new FlagError(`unsupported compaction mode ${mode}`);
  const isInt = /^\d+$/.test(retention.trim());
  if (mode === 'revision') {
    if (!isInt) throw new FlagError(`invalid auto-compaction-retention "${retention}" for revision mode: expected a number of revisions`);
    const n = Number(retention);
    return n === 0 ? undefined : { mode, retention: n };
  }
  let periodMs: number;
  try {
    periodMs = isInt ? Number(retention) * 3_600_000 : parseDuration(retention);
  } catch {
    throw new FlagError(`error parsing CompactionRetention: time: invalid duration "${retention}"`);
  }
  return periodMs === 0 ? undefined : { mode, periodMs };
}

/** Whether a flag appears on the command line at all (as -f, --f, -f=v or --f=v). */
export function flagGiven(argv: readonly string[], name: string): boolean {
  return argv.some((a) => new RegExp(`^--?${name}(=|$)`).test(a));
}

/** The flags a release has: 3.5.7 has no sampling-rate flag yet (added in 3.5.11). */
export function etcdFlags(profile: EtcdProfile): FlagSpecs {
  if (profile.samplingRateFlag) return ETCD_FLAGS;
  const { 'experimental-distributed-tracing-sampling-rate': _, ...rest } = ETCD_FLAGS;
  return rest;
}

/** The value of --etcd-version (--etcd-version V or --etcd-version=V), read before the release's own flags are known. */
function requestedVersion(argv: readonly string[]): string {
  let v: string = DEFAULT_ETCD_VERSION;
  argv.forEach((a, i) => {
    const m = /^--?etcd-version(?:=(.*))?$/.exec(a);
    if (m) v = m[1] ?? argv[i + 1] ?? '';
  });
  return v;
}

export function parseEtcdConfig(argv: readonly string[]): EtcdConfig {
  const version = requestedVersion(argv);
  if (!isEtcdVersion(version)) throw new FlagError(`invalid value "${version}" for flag -etcd-version: want ${ETCD_VERSIONS.join(' or ')}`);
  const profile = ETCD_PROFILES[version];
  const known = etcdFlags(profile);
  let f: ReturnType<typeof parseFlags<typeof ETCD_FLAGS>>;
  try {
    const missing = Object.keys(ETCD_FLAGS).find((name) => !(name in known) && flagGiven(argv, name));
    if (missing) throw new FlagError(`unknown flag: --${missing}`);
    f = parseFlags(argv, ETCD_FLAGS);
  } catch (e) {
    // etcd parses with Go's flag package, not pflag: say it that way.
    const unknown = e instanceof FlagError ? /^unknown flag: --(.*)$/.exec(e.message) : null;
    if (unknown) throw new FlagError(`flag provided but not defined: -${unknown[1]}`);
    throw e;
  }
  if (f._.length > 0) throw new FlagError(`'${f._[0]}' is not a valid flag`);
  const samplingRate = f['experimental-distributed-tracing-sampling-rate'];
  const rateError = samplingRateError(samplingRate);
  if (rateError) throw new FlagError(rateError);
  const level = f['log-level'];
  if (level !== 'debug' && level !== 'info' && level !== 'warn' && level !== 'error') {
    throw new FlagError(`unknown log level "${level}" (debug, info, warn, error)`);
  }
  for (const n of ['snapshot-count', 'max-txn-ops', 'max-request-bytes', 'experimental-watch-progress-notify-interval'] as const) {
    if (f[n] <= 0) throw new FlagError(`--${n} must be positive`);
  }
  return {
    help: f.help,
    profile,
    name: f.name,
    dataDir: f['data-dir'] || `${f.name}.etcd`,
    listen: parseListenUrls(f['listen-client-urls']),
    // etcd refuses an explicit --listen-client-urls without --advertise-client-urls; we advertise what we listen on.
    advertiseClientUrls:
      flagGiven(argv, 'listen-client-urls') && !flagGiven(argv, 'advertise-client-urls')
        ? parseUrls(f['listen-client-urls']).map((u) => u.url)
        : parseUrls(f['advertise-client-urls']).map((u) => u.url),
    peerUrls: parseUrls(f['initial-advertise-peer-urls']).map((u) => u.url),
    clusterToken: f['initial-cluster-token'],
    fsync: !f['unsafe-no-fsync'],
    snapshotCount: f['snapshot-count'],
    maxTxnOps: f['max-txn-ops'],
    maxRequestBytes: f['max-request-bytes'],
    compaction: parseCompaction(f['auto-compaction-mode'], f['auto-compaction-retention']),
    tracing: {
      enabled: f['experimental-enable-distributed-tracing'],
      address: f['experimental-distributed-tracing-address'],
      serviceName: f['experimental-distributed-tracing-service-name'],
      instanceId: f['experimental-distributed-tracing-instance-id'],
      samplingRate,
    },
    logLevel: level,
    watchProgressNotifyMs: f['experimental-watch-progress-notify-interval'],
  };
}
