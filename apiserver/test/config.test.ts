import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseApiserverConfig, parseEtcdServers, parseWebhookServiceAddresses } from '../src/config.js';
import { parseFeatureGates } from '../src/feature-gates.js';
import { PROFILES, PROFILE_1_27, PROFILE_1_35 } from '../src/profile.js';
import { parseTracingConfiguration, validateTracingConfiguration } from '../src/tracing-config.js';

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
  ])('%j fails: %s', (argv, message) => {
    expect(() => parseApiserverConfig(argv)).toThrow(message);
  });

  it('etcd servers and service addresses parse strictly', () => {
    expect(parseEtcdServers('http://[::1]:2379')).toEqual({ host: '::1', port: 2379 });
    expect(() => parseWebhookServiceAddresses(['a/b=host'])).toThrow();
  });
});

const TC = (apiVersion: string, rest = ''): string => `apiVersion: apiserver.config.k8s.io/${apiVersion}\nkind: TracingConfiguration\n${rest}`;

describe('TracingConfiguration by release', () => {
  it.each([
    ['1.27', TC('v1beta1'), { endpoint: undefined, samplingRatePerMillion: undefined }],
    ['1.27', '{"apiVersion":"apiserver.config.k8s.io/v1alpha1","kind":"TracingConfiguration","samplingRatePerMillion":0}', { endpoint: undefined, samplingRatePerMillion: 0 }],
    ['1.27', TC('v1beta1', 'endpoint: unix:///run/otel.sock\nsamplingRatePerMillion: 1000000\n'), { endpoint: 'unix:///run/otel.sock', samplingRatePerMillion: 1000000 }],
    ['1.35', TC('v1', 'endpoint: collector:4317\n'), { endpoint: 'collector:4317', samplingRatePerMillion: undefined }],
    ['1.35', TC('v1alpha1'), { endpoint: undefined, samplingRatePerMillion: undefined }],
    // The universal decoder defaults a missing kind, and a missing apiVersion to the internal version.
    ['1.35', 'apiVersion: apiserver.config.k8s.io/v1\nsamplingRatePerMillion: 5\n', { endpoint: undefined, samplingRatePerMillion: 5 }],
    ['1.27', 'samplingRatePerMillion: 5\n', { endpoint: undefined, samplingRatePerMillion: 5 }],
    ['1.27', '', { endpoint: undefined, samplingRatePerMillion: undefined }],
  ] as const)('%s accepts %j', (version, text, want) => {
    expect(parseTracingConfiguration(PROFILES[version], text)).toEqual(want);
  });

  const decode = 'failed to read tracing config: unable to decode tracing configuration data: ';
  it.each([
    ['1.27', TC('v1'), `${decode}no kind "TracingConfiguration" is registered for version "apiserver.config.k8s.io/v1" in scheme "pkg/runtime/scheme.go:100"`],
    ['1.27', 'apiVersion: apiserver.config.k8s.io/v1\n', 'no kind "TracingConfiguration" is registered for version "apiserver.config.k8s.io/v1"'],
    ['1.35', 'kind: TracingConfiguration\napiVersion: v1\n', `${decode}no kind "TracingConfiguration" is registered for version "v1" in scheme "pkg/server/options/tracing.go:49"`],
    ['1.35', TC('v2'), 'no kind "TracingConfiguration" is registered for version "apiserver.config.k8s.io/v2"'],
    ['1.35', 'apiVersion: apiserver.config.k8s.io/v1\nkind: KubeletConfiguration\n', 'no kind "KubeletConfiguration" is registered for version "apiserver.config.k8s.io/v1"'],
    ['1.35', 'kind: Foo\n', 'no kind "Foo" is registered for the internal version of group "apiserver.config.k8s.io" in scheme'],
    ['1.35', '- not a map', `${decode}couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct`],
    ['1.27', TC('v1beta1', 'samplingRatePerMillion: 1.5\n'), `${decode}json: cannot unmarshal number 1.5 into Go struct field TracingConfiguration.samplingRatePerMillion of type int32`],
    ['1.27', TC('v1beta1', 'samplingRatePerMillion: "all"\n'), 'json: cannot unmarshal string into Go struct field TracingConfiguration.samplingRatePerMillion of type int32'],
    ['1.35', TC('v1', 'endpoint: 4317\n'), 'json: cannot unmarshal number 4317 into Go struct field TracingConfiguration.endpoint of type string'],
    [
      '1.35',
      TC('v1', 'samplingRatePerMillion: 2000000\n'),
      'failed to validate tracing configuration: samplingRatePerMillion: Invalid value: 2000000: sampling rate per million must be less than or equal to one million',
    ],
    ['1.27', TC('v1beta1', 'samplingRatePerMillion: -1\n'), 'failed to validate tracing configuration: samplingRatePerMillion: Invalid value: -1: sampling rate must be positive'],
    [
      '1.27',
      TC('v1beta1', 'endpoint: http://collector:4317\n'),
      'failed to validate tracing configuration: endpoint: Invalid value: "http://collector:4317": unsupported scheme: http.  Options are none, dns, unix, or unix-abstract.  See https://github.com/grpc/grpc/blob/master/doc/naming.md',
    ],
    [
      '1.35',
      TC('v1', 'endpoint: https://collector:4317\nsamplingRatePerMillion: -5\n'),
      'failed to validate tracing configuration: [samplingRatePerMillion: Invalid value: -5: sampling rate must be positive, endpoint: Invalid value: "https://collector:4317": unsupported scheme: https.',
    ],
  ] as const)('%s rejects %j: %s', (version, text, message) => {
    expect(() => parseTracingConfiguration(PROFILES[version], text)).toThrow(message);
  });

  it('validation alone: in range and gRPC-target endpoints pass', () => {
    expect(validateTracingConfiguration({ endpoint: 'localhost:4317', samplingRatePerMillion: 0 })).toEqual([]);
    expect(validateTracingConfiguration({ endpoint: 'dns:///collector:4317', samplingRatePerMillion: 1_000_000 })).toEqual([]);
    expect(validateTracingConfiguration({ endpoint: undefined, samplingRatePerMillion: 1_000_001 })).toHaveLength(1);
  });
});

describe('--kube-version and --feature-gates', () => {
  const tracingFile = (apiVersion: string): string => file('tracing.yaml', TC(apiVersion, 'endpoint: localhost:4317\nsamplingRatePerMillion: 1000000\n'));

  it('defaults to 1.35; 1.27 is the other release', () => {
    expect(parseApiserverConfig([]).profile).toBe(PROFILE_1_35);
    expect(parseApiserverConfig(['--kube-version', '1.27']).profile).toBe(PROFILE_1_27);
    expect(parseApiserverConfig(['--kube-version=1.35']).profile).toBe(PROFILE_1_35);
  });

  it.each([
    [['--kube-version=1.30'], 'invalid argument "1.30" for "--kube-version" flag: supported versions are 1.27, 1.35'],
    [['--kube-version=v1.27'], 'supported versions are 1.27, 1.35'],
    // 1.27: pflag wraps featureGate.Set's error.
    [['--kube-version=1.27', '--feature-gates=Foo=true'], 'invalid argument "Foo=true" for "--feature-gates" flag: unrecognized feature gate: Foo'],
    [['--kube-version=1.27', '--feature-gates=APIServerTracing'], 'invalid argument "APIServerTracing" for "--feature-gates" flag: missing bool value for APIServerTracing'],
    [['--kube-version=1.27', '--feature-gates=APIServerTracing=yes'], 'invalid value of APIServerTracing=yes, err: strconv.ParseBool: parsing "yes": invalid syntax'],
    // 1.35: the gate is GA and locked; the registry returns bare messages.
    [['--feature-gates=APIServerTracing=false'], /^cannot set feature gate APIServerTracing to false, feature is locked to true$/],
    [['--feature-gates=Foo=true'], /^unrecognized feature gate: Foo$/],
    [['--feature-gates=APIServerTracing=true,KubeletTracing=false'], /^cannot set feature gate KubeletTracing to false, feature is locked to true$/],
    [['--feature-gates=wardle:Foo=true'], /^component not registered: wardle$/],
    // Validate checks the file exists before ApplyTo looks at the gate.
    [['--kube-version=1.27', '--feature-gates=APIServerTracing=false', '--tracing-config-file=/does/not/exist'], /^tracing-config-file \/does\/not\/exist does not exist$/],
    [['--tracing-config-file=/does/not/exist'], /^tracing-config-file \/does\/not\/exist does not exist$/],
  ] as const)('%j fails: %s', (argv, message) => {
    expect(() => parseApiserverConfig(argv)).toThrow(message);
  });

  it.each([['1.27'], ['1.35']])('%s takes kind-style cluster-wide gates, KubeletTracing included', (v) => {
    expect(() => parseApiserverConfig([`--kube-version=${v}`, '--feature-gates=APIServerTracing=true,KubeletTracing=true'])).not.toThrow();
  });

  it('1.27 with APIServerTracing off refuses a tracing config file, as ApplyTo does', () => {
    const f = tracingFile('v1beta1');
    expect(() => parseApiserverConfig(['--kube-version=1.27', '--feature-gates=APIServerTracing=false', `--tracing-config-file=${f}`])).toThrow(
      /^APIServerTracing feature is not enabled, but tracing config file was provided$/,
    );
    // AllBeta=false turns off the beta gate too; an explicit setting wins over it.
    expect(() => parseApiserverConfig(['--kube-version=1.27', '--feature-gates=AllBeta=false', `--tracing-config-file=${f}`])).toThrow('APIServerTracing feature is not enabled');
    const on = parseApiserverConfig(['--kube-version=1.27', '--feature-gates=AllBeta=false,APIServerTracing=true', `--tracing-config-file=${f}`]);
    expect(on.tracing).toEqual({ endpoint: 'localhost:4317', samplingRatePerMillion: 1000000 });
    expect(on.featureGateWarnings).toEqual([]);
  });

  it('1.27 reads v1beta1 and rejects v1; 1.35 reads v1 and warns when the GA gate is set', () => {
    expect(parseApiserverConfig(['--kube-version=1.27', `--tracing-config-file=${tracingFile('v1beta1')}`]).tracing?.samplingRatePerMillion).toBe(1000000);
    expect(() => parseApiserverConfig(['--kube-version=1.27', `--tracing-config-file=${tracingFile('v1')}`])).toThrow(
      'failed to read tracing config: unable to decode tracing configuration data: no kind "TracingConfiguration" is registered for version "apiserver.config.k8s.io/v1"',
    );
    const c = parseApiserverConfig(['--feature-gates=kube:APIServerTracing=true', `--tracing-config-file=${tracingFile('v1')}`]);
    expect(c.tracing).toEqual({ endpoint: 'localhost:4317', samplingRatePerMillion: 1000000 });
    expect(c.featureGateWarnings).toEqual(['Setting GA feature gate APIServerTracing=true. It will be removed in a future release.']);
  });

  it.each([
    ['1.27', [], true],
    ['1.27', ['APIServerTracing=false'], false],
    ['1.27', ['AllBeta=false'], false],
    ['1.27', ['AllBeta=false', 'APIServerTracing=true'], true],
    ['1.27', ['AllAlpha=false'], true],
    ['1.27', ['APIServerTracing=false,APIServerTracing=t'], true],
    ['1.35', [], true],
    ['1.35', ['AllBeta=false'], true],
    ['1.35', ['APIServerTracing=true'], true],
  ] as const)('%s with %j: APIServerTracing=%s', (version, values, want) => {
    expect(parseFeatureGates(PROFILES[version], values).apiserverTracing).toBe(want);
  });
});
