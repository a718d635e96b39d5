import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseApiserverConfig, parseEtcdServers, parseWebhookServiceAddresses } from '../src/config.js';
import { parseTracingConfiguration } from '../src/tracing-config.js';

const file = (name: string, text: string): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'apiserver-config-')), name);
  writeFileSync(p, text);
  return p;
};

describe('flags', () => {
  it('defaults: 127.0.0.1:6443, etcd at 127.0.0.1:2379 under /registry, story mode, tracing off', () => {
    const c = parseApiserverConfig([]);
    expect(c).toMatchObject({
      bindAddress: '127.0.0.1',
      securePort: 6443,
      etcd: { host: '127.0.0.1', port: 2379 },
      etcdPrefix: '/registry',
      maxRequestBytes: 3145728,
      traceMode: 'story',
      anonymousAuth: true,
      tracing: undefined,
      tls: undefined,
    });
  });

  it('reads the real kube-apiserver flag names', () => {
    const cert = file('tls.crt', 'CERT');
    const key = file('tls.key', 'KEY');
    const ca = file('ca.crt', 'CA');
    const tracing = file('tracing.yaml', 'apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nendpoint: localhost:4317\nsamplingRatePerMillion: 1000000\n');
    const c = parseApiserverConfig([
      '--secure-port=7443',
      '--bind-address',
      '0.0.0.0',
      `--tls-cert-file=${cert}`,
      `--tls-private-key-file=${key}`,
      `--client-ca-file=${ca}`,
      '--etcd-servers=http://10.0.0.1:2379,http://10.0.0.2:2379',
      '--etcd-prefix=/kubernetes/',
      `--tracing-config-file=${tracing}`,
      '--trace-mode=faithful',
      '--webhook-service-address=default/wh=127.0.0.1:9443',
      '--webhook-service-address=kube-system/other=[::1]:443',
      '-v=2',
    ]);
    expect(c).toMatchObject({
      securePort: 7443,
      bindAddress: '0.0.0.0',
      tls: { cert: 'CERT', key: 'KEY' },
      clientCa: 'CA',
      etcd: { host: '10.0.0.1', port: 2379 },
      etcdPrefix: '/kubernetes',
      traceMode: 'faithful',
      tracing: { endpoint: 'localhost:4317', samplingRatePerMillion: 1000000 },
    });
    expect([...c.webhookServiceAddresses]).toEqual([
      ['default/wh', { host: '127.0.0.1', port: 9443 }],
      ['kube-system/other', { host: '::1', port: 443 }],
    ]);
  });

  it.each([
    [['--trace-mode=loud'], 'invalid argument "loud" for "--trace-mode" flag'],
    [['--etcd-servers=127.0.0.1:2379'], 'invalid --etcd-servers'],
    [['--etcd-servers=https://127.0.0.1:2379'], 'does not support'],
    [['--storage-media-type=application/vnd.kubernetes.protobuf'], 'only application/json is simulated'],
    [['--authorization-mode=RBAC'], 'only AlwaysAllow is simulated'],
    [['--webhook-service-address=wh=1.2.3.4:443'], 'want NAMESPACE/NAME=HOST:PORT'],
    [['--tls-cert-file=/nope'], '--tls-cert-file and --tls-private-key-file go together'],
    [['--frobnicate'], 'unknown flag: --frobnicate'],
    [['--tracing-config-file=/does/not/exist'], 'failed to read tracing config: tracing-config-file /does/not/exist does not exist'],
  ])('%j fails: %s', (argv, message) => {
    expect(() => parseApiserverConfig(argv)).toThrow(message);
  });

  it('etcd servers and service addresses parse strictly', () => {
    expect(parseEtcdServers('http://[::1]:2379')).toEqual({ host: '::1', port: 2379 });
    expect(() => parseWebhookServiceAddresses(['a/b=host'])).toThrow();
  });
});

describe('TracingConfiguration', () => {
  it.each([
    ['apiVersion: apiserver.config.k8s.io/v1beta1\nkind: TracingConfiguration\n', { endpoint: undefined, samplingRatePerMillion: undefined }],
    ['{"apiVersion":"apiserver.config.k8s.io/v1alpha1","kind":"TracingConfiguration","samplingRatePerMillion":0}', { endpoint: undefined, samplingRatePerMillion: 0 }],
    ['apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nendpoint: collector:4317\n', { endpoint: 'collector:4317', samplingRatePerMillion: undefined }],
  ])('%j', (text, want) => {
    expect(parseTracingConfiguration(text)).toEqual(want);
  });

  it.each([
    ['kind: TracingConfiguration\napiVersion: v1\n', 'no kind "TracingConfiguration" is registered for version "v1"'],
    ['apiVersion: apiserver.config.k8s.io/v1\n', "Object 'Kind' is missing"],
    [
      'apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nsamplingRatePerMillion: 2000000\n',
      'samplingRatePerMillion: Invalid value: 2000000: sampling rate per million must be less than or equal to one million',
    ],
    ['apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nsamplingRatePerMillion: -1\n', 'sampling rate must be positive'],
    ['- not a map', "Object 'Kind' is missing"],
  ])('%j is rejected with %s', (text, message) => {
    expect(() => parseTracingConfiguration(text)).toThrow(message);
  });
});
