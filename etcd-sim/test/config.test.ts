import { describe, expect, it } from 'vitest';
import { FlagError } from '../../shared/src/index.js';
import { parseCompaction, parseEtcdConfig, parseListenUrls, parseUrls } from '../src/config.js';

const message = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof FlagError ? e.message : `not a FlagError: ${String(e)}`;
  }
};

describe('etcd flags', () => {
  it('defaults are etcd’s', () => {
    const c = parseEtcdConfig([]);
    expect(c).toMatchObject({
      name: 'default',
      dataDir: 'default.etcd',
      listen: [{ host: 'localhost', port: 2379 }],
      advertiseClientUrls: ['http://localhost:2379'],
      peerUrls: ['http://localhost:2380'],
      clusterToken: 'etcd-cluster',
      fsync: true,
      snapshotCount: 100000,
      maxTxnOps: 128,
      maxRequestBytes: 1572864,
      compaction: undefined,
      tracing: { enabled: false, address: 'localhost:4317', serviceName: 'etcd', instanceId: '', samplingRate: 0 },
    });
  });

  it('data dir follows --name; listen URLs are advertised when no advertise URL is given', () => {
    const c = parseEtcdConfig(['--name', 'sim', '--listen-client-urls=http://127.0.0.1:1,http://[::1]:2', '--unsafe-no-fsync']);
    expect([c.dataDir, c.listen, c.advertiseClientUrls, c.fsync]).toEqual([
      'sim.etcd',
      [
        { host: '127.0.0.1', port: 1, url: 'http://127.0.0.1:1' },
        { host: '::1', port: 2, url: 'http://[::1]:2' },
      ],
      ['http://127.0.0.1:1', 'http://[::1]:2'],
      false,
    ]);
  });

  it.each([
    [['--listen-client-urls', 'https://127.0.0.1:2379'], /TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:\/\/127\.0\.0\.1:2379 with HTTPS scheme/],
    [['--listen-client-urls', 'http://example.com:2379'], /^expected IP in URL for binding \(http:\/\/example\.com:2379\)$/],
    [['--listen-client-urls', 'unix://etcd.sock'], /unix sockets/],
    [['--listen-client-urls', 'tcp://1.2.3.4:5'], /^URL scheme must be http, https, unix, or unixs: tcp:\/\/1\.2\.3\.4:5$/],
    [['--listen-client-urls', 'http://127.0.0.1'], /^URL address does not have the form "host:port": http:\/\/127\.0\.0\.1$/],
    [['--listen-client-urls', 'http://127.0.0.1:2379/x'], /^URL must not contain a path/],
    [['--experimental-distributed-tracing-sampling-rate', '-1'], /^tracing sampling rate must be positive$/],
    [['--experimental-distributed-tracing-sampling-rate', '1000001'], /^tracing sampling rate must be less than 1000000$/],
    [['--auto-compaction-mode', 'sometimes'], /^unsupported compaction mode sometimes$/],
    // etcd parses its flags with Go's flag package.
    [['--no-such-flag'], /^flag provided but not defined: -no-such-flag$/],
    [['stray'], /'stray' is not a valid flag/],
    [['--snapshot-count', '0'], /must be positive/],
    [['--log-level', 'loud'], /unknown log level/],
  ])('%j → %s', (argv, want) => {
    expect(message(() => parseEtcdConfig(argv))).toMatch(want);
  });

  it.each([
    [[], '3.5.21', 0],
    [['--etcd-version', '3.5.21', '--experimental-distributed-tracing-sampling-rate', '100'], '3.5.21', 100],
    [['--etcd-version=3.5.7'], '3.5.7', 0],
    [['--etcd-version', '3.5.7', '--experimental-enable-distributed-tracing'], '3.5.7', 0],
  ])('%j imitates etcd %s with sampling rate %i', (argv, version, rate) => {
    const c = parseEtcdConfig(argv);
    expect([c.profile.version, c.tracing.samplingRate]).toEqual([version, rate]);
  });

  it.each([
    // 3.5.7 has no sampling-rate flag: the real etcd stops at it, whatever its value.
    [['--etcd-version', '3.5.7', '--experimental-distributed-tracing-sampling-rate', '100'], /^flag provided but not defined: -experimental-distributed-tracing-sampling-rate$/],
    [['--experimental-distributed-tracing-sampling-rate=5', '--etcd-version=3.5.7'], /^flag provided but not defined: -experimental-distributed-tracing-sampling-rate$/],
    [['--etcd-version', '3.6.5'], /^invalid value "3\.6\.5" for flag -etcd-version: want 3\.5\.7 or 3\.5\.21$/],
    [['--etcd-version'], /^invalid value "" for flag -etcd-version/],
  ])('%j → %s', (argv, want) => {
    expect(message(() => parseEtcdConfig(argv))).toMatch(want);
  });

  it.each([
    ['periodic', '0', undefined],
    ['periodic', '1', { mode: 'periodic', periodMs: 3_600_000 }],
    ['periodic', '30m', { mode: 'periodic', periodMs: 1_800_000 }],
    ['periodic', '5s', { mode: 'periodic', periodMs: 5000 }],
    ['revision', '1000', { mode: 'revision', retention: 1000 }],
    ['revision', '0', undefined],
  ])('compaction %s %s', (mode, retention, want) => {
    expect(parseCompaction(mode, retention)).toEqual(want);
  });

  it('parses URL lists like types.NewURLs and keeps localhost bindable', () => {
    expect(parseUrls('http://a:1, https://b:2').map((u) => [u.scheme, u.host, u.port])).toEqual([
      ['http', 'a', 1],
      ['https', 'b', 2],
    ]);
    expect(parseListenUrls('http://localhost:2379')).toEqual([{ host: 'localhost', port: 2379, url: 'http://localhost:2379' }]);
  });
});
