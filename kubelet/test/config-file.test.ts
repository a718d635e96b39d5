import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagError } from '../../shared/src/index.js';
import { decodeKubeletConfiguration, goParseDuration, validateKubeletConfiguration } from '../src/config-file.js';
import { parseKubeletFlags, type ParsedKubelet } from '../src/config.js';

// --config: a KubeletConfiguration file, decoded, merged under the command
// line and validated as the real kubelet does, with its error texts.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubelet-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const path = join(dir, `config-${++n}.yaml`);
  writeFileSync(path, text);
  return path;
}

const HEAD = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

/** The k3d tutorial's kubelet-tracing.yaml. */
const TUTORIAL = `${HEAD}featureGates:\n  KubeletTracing: true\ntracing:\n  endpoint: localhost:4317\n  samplingRatePerMillion: 1000000\n`;

function load(text: string, ...argv: string[]): ParsedKubelet {
  const r = parseKubeletFlags(['--kubeconfig', '/k', '--config', file(text), ...argv]);
  if (r.help) throw new Error('help');
  return r;
}

describe('good KubeletConfiguration files', () => {
  it.each(['1.27', '1.35'])('the k3d tutorial file turns tracing on at 100%% (%s)', (version) => {
    const { config, notices } = load(TUTORIAL, '--kube-version', version);
    expect(config.tracing).toEqual({ enabled: true, endpoint: 'localhost:4317', samplingRatePerMillion: 1_000_000 });
    expect(config.featureGates).toEqual({ KubeletTracing: true });
    expect(config.profile.name).toBe(version);
    // Setting a GA gate is warned about; a beta one is not.
    expect(notices.map((x) => x.msg)).toEqual(version === '1.35' ? ['Setting GA feature gate KubeletTracing=true. It will be removed in a future release.'] : []);
  });

  it.each([
    ['a tracing block with nothing in it: OTLP default endpoint, roots never sampled', `${HEAD}tracing: {}\n`, { enabled: true, samplingRatePerMillion: 0 }],
    ['no tracing block: off even with the gate on', `${HEAD}featureGates:\n  KubeletTracing: true\n`, { enabled: false, samplingRatePerMillion: 0 }],
    ['JSON works too', JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', tracing: { endpoint: 'unix:///run/otel.sock', samplingRatePerMillion: 500000 } }), { enabled: true, endpoint: 'unix:///run/otel.sock', samplingRatePerMillion: 500_000 }],
    ['null leaves a field unset', `${HEAD}tracing:\n  endpoint: ~\n  samplingRatePerMillion: 10\n`, { enabled: true, samplingRatePerMillion: 10 }],
  ])('%s', (_why, text, tracing) => {
    expect(load(text).config.tracing).toEqual(tracing);
  });

  it('the common fields map onto the kubelet, with v1beta1 defaults for the rest', () => {
    const c = load(
      `${HEAD}maxPods: 30\nsyncFrequency: 30s\nnodeStatusUpdateFrequency: 20s\nnodeLeaseDurationSeconds: 20\nruntimeRequestTimeout: 1m30s\n` +
        `eventRecordQPS: 0\neventBurst: 5\nhealthzPort: 0\nhealthzBindAddress: 0.0.0.0\ncontainerRuntimeEndpoint: unix:///run/k3s/containerd/containerd.sock\n` +
        `registerNode: false\nregisterWithTaints:\n- key: node-role.kubernetes.io/control-plane\n  effect: NoSchedule\n- {key: dedicated, value: gpu, effect: NoExecute}\n` +
        `clusterDNS: [10.96.0.10]\ncgroupDriver: systemd\nauthentication:\n  anonymous:\n    enabled: false\n`,
    ).config;
    expect(c).toMatchObject({
      maxPods: 30,
      syncFrequencyMs: 30_000,
      nodeStatusUpdateFrequencyMs: 20_000,
      // An unset report frequency follows an update frequency the file sets.
      nodeStatusReportFrequencyMs: 20_000,
      nodeLeaseDurationSeconds: 20,
      runtimeRequestTimeoutMs: 90_000,
      eventQps: 0,
      eventBurst: 5,
      healthz: { host: '0.0.0.0', port: 0 },
      runtimeEndpoint: 'unix:///run/k3s/containerd/containerd.sock',
      registerNode: false,
      taints: [
        { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
        { key: 'dedicated', value: 'gpu', effect: 'NoExecute' },
      ],
    });
  });

  it('without the file the flag defaults stand, and the report frequency is 5m', () => {
    const c = load(HEAD).config;
    expect(c).toMatchObject({ maxPods: 110, syncFrequencyMs: 60_000, nodeStatusUpdateFrequencyMs: 10_000, nodeStatusReportFrequencyMs: 300_000, eventQps: 50, healthz: { port: 10248 } });
    expect(load(`${HEAD}nodeStatusReportFrequency: 1m\n`).config.nodeStatusReportFrequencyMs).toBe(60_000);
  });

  it('flags given on the command line win over the file; gates merge per key', () => {
    const c = load(
      `${TUTORIAL}maxPods: 30\nsyncFrequency: 30s\nhealthzPort: 10249\nregisterNode: false\nregisterWithTaints:\n- {key: a, effect: NoSchedule}\nfeatureGates:\n  KubeletTracing: true\n  SomeOtherGate: true\n`,
      '--max-pods',
      '50',
      '--healthz-port=10300',
      '--register-node=true',
      '--register-with-taints',
      'b=c:NoExecute',
      '--tracing-endpoint',
      'collector:4317',
      '--tracing-sampling-rate-per-million',
      '0',
      '--feature-gates',
      'Other=false',
      '--kube-version',
      '1.27',
    ).config;
    expect(c).toMatchObject({ maxPods: 50, syncFrequencyMs: 30_000, healthz: { port: 10300 }, registerNode: true, taints: [{ key: 'b', value: 'c', effect: 'NoExecute' }] });
    expect(c.tracing).toEqual({ enabled: true, endpoint: 'collector:4317', samplingRatePerMillion: 0 });
    expect(c.featureGates).toEqual({ KubeletTracing: true, SomeOtherGate: true, Other: false });
  });

  it('1.27: KubeletTracing is beta and may be turned off; tracing is then off', () => {
    const c = load(`${HEAD}featureGates:\n  KubeletTracing: false\n`, '--kube-version', '1.27').config;
    expect(c.tracing.enabled).toBe(false);
    expect(c.featureGates['KubeletTracing']).toBe(false);
    const byFlag = parseKubeletFlags(['--kubeconfig', '/k', '--kube-version', '1.27', '--feature-gates', 'KubeletTracing=false']) as ParsedKubelet;
    expect(byFlag.config.tracing.enabled).toBe(false);
  });

  it('a field the type does not have is forgiven with lenient decoding, as the real kubelet logs it (in the sorted order YAMLToJSON leaves)', () => {
    const { config, notices } = load(`${HEAD}tracing:\n  endpoint: localhost:4317\n  rate: 5\nmaxPod: 3\n`, '--kube-version', '1.27');
    expect(config.maxPods).toBe(110);
    expect(notices).toEqual([
      { severity: 'I', source: 'codec.go:98', msg: 'Using lenient decoding as strict decoding failed', kv: { err: 'strict decoding error: unknown field "maxPod", unknown field "tracing.rate"' } },
    ]);
  });

  it('fields of a later release are unknown to 1.27 only', () => {
    expect(load(`${HEAD}podLogsDir: /var/log/pods\n`, '--kube-version', '1.27').notices).toHaveLength(1);
    expect(load(`${HEAD}podLogsDir: /var/log/pods\n`, '--kube-version', '1.35').notices).toHaveLength(0);
  });

  it('zero values of non-pointer fields take the v1beta1 defaults; pointer fields keep them', () => {
    const c = load(`${HEAD}maxPods: 0\nnodeLeaseDurationSeconds: 0\neventBurst: 0\nsyncFrequency: 0s\neventRecordQPS: 0\nhealthzPort: 0\n`).config;
    expect(c).toMatchObject({ maxPods: 110, nodeLeaseDurationSeconds: 40, eventBurst: 100, syncFrequencyMs: 60_000, eventQps: 0, healthz: { port: 0 } });
  });

  it('YAML 1.1 as go-yaml v2 reads it: yes is a boolean', () => {
    expect(load(`${HEAD}registerNode: no\n`).config.registerNode).toBe(false);
  });
});

describe('bad KubeletConfiguration files', () => {
  const SCHEME = 'in scheme "pkg/kubelet/apis/config/scheme/scheme.go:33"';
  it.each([
    ['wrong apiVersion', 'apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n', `failed to decode: no kind "KubeletConfiguration" is registered for version "kubelet.config.k8s.io/v1" ${SCHEME}`],
    ['a kubeconfig passed by mistake', 'apiVersion: v1\nkind: Config\n', `failed to decode: no kind "Config" is registered for version "v1" ${SCHEME}`],
    ['no kind', 'apiVersion: kubelet.config.k8s.io/v1beta1\nmaxPods: 3\n', "failed to decode: Object 'Kind' is missing in 'apiVersion: kubelet.config.k8s.io/v1beta1\nmaxPods: 3\n'"],
    ['no apiVersion', 'kind: KubeletConfiguration\n', "failed to decode: Object 'apiVersion' is missing in 'kind: KubeletConfiguration\n'"],
    ['only a comment', '# nothing\n', "failed to decode: Object 'Kind' is missing in '# nothing\n'"],
    ['a list', '- a\n', 'couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'],
    ['a three-part apiVersion', 'apiVersion: a/b/c\nkind: KubeletConfiguration\n', 'unexpected GroupVersion string: a/b/c'],
    ['bad YAML', `${HEAD}tracing: [1\n`, 'error converting YAML to JSON: yaml: line 4: '],
    ['bad JSON', '{"apiVersion": "kubelet.config.k8s.io/v1beta1",}', "couldn't get version/kind; json parse error: invalid character '}' looking for beginning of value"],
    ['maxPods a string', `${HEAD}maxPods: "30"\n`, 'failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.maxPods of type int32'],
    ['maxPods a fraction', `${HEAD}maxPods: 1.5\n`, 'failed to decode: json: cannot unmarshal number 1.5 into Go struct field KubeletConfiguration.maxPods of type int32'],
    ['registerNode a string', `${HEAD}registerNode: "true"\n`, 'failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.registerNode of type bool'],
    ['a gate that is not a boolean', `${HEAD}featureGates:\n  KubeletTracing: "on"\n`, 'failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.featureGates of type bool'],
    ['tracing a string', `${HEAD}tracing: localhost:4317\n`, 'failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.tracing of type v1.TracingConfiguration'],
    ['a rate in words', `${HEAD}tracing:\n  samplingRatePerMillion: all\n`, 'failed to decode: json: cannot unmarshal string into Go struct field TracingConfiguration.tracing.samplingRatePerMillion of type int32'],
    ['taints not a list', `${HEAD}registerWithTaints: a:NoSchedule\n`, 'failed to decode: json: cannot unmarshal string into Go struct field KubeletConfiguration.registerWithTaints of type []v1.Taint'],
    ['a duration that is a number', `${HEAD}syncFrequency: 10\n`, 'failed to decode: json: cannot unmarshal number into Go value of type string'],
    ['a duration without unit', `${HEAD}syncFrequency: "10"\n`, 'failed to decode: time: missing unit in duration "10"'],
    ['a duration in days', `${HEAD}syncFrequency: 1d\n`, 'failed to decode: time: unknown unit "d" in duration "1d"'],
    ['a duration in words', `${HEAD}runtimeRequestTimeout: soon\n`, 'failed to decode: time: invalid duration "soon"'],
  ])('%s', (_why, text, message) => {
    const path = file(text);
    const run = (version: string): (() => unknown) => () => parseKubeletFlags(['--kubeconfig', '/k', '--kube-version', version, '--config', path]);
    // 1.27 puts the path last, 1.28+ first; the loader's own wrapping is the same.
    expect(run('1.27')).toThrow(`failed to load kubelet config file, error: failed to load Kubelet config file ${path}, error ${message}`);
    expect(run('1.35')).toThrow(`failed to load kubelet config file, path: ${path}, error: failed to load Kubelet config file ${path}, error ${message}`);
    expect(run('1.35')).not.toThrow(FlagError);
  });

  it('a missing file and an empty one', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => parseKubeletFlags(['--kubeconfig', '/k', '--config', missing])).toThrow(
      `failed to load kubelet config file, path: ${missing}, error: failed to load Kubelet config file ${missing}, error failed to read kubelet config file "${missing}", error: open ${missing}: no such file or directory`,
    );
    const empty = file('');
    expect(() => parseKubeletFlags(['--kubeconfig', '/k', '--config', empty])).toThrow(`error kubelet config file "${empty}" was empty`);
  });

  const VALIDATION = (e: string): string => `failed to validate kubelet configuration, error: ${e}, path: &TypeMeta{Kind:,APIVersion:,}`;
  it.each([
    ['a rate over a million', `${HEAD}tracing:\n  samplingRatePerMillion: 2000000\n`, [], VALIDATION('tracing.samplingRatePerMillion: Invalid value: 2000000: sampling rate per million must be less than or equal to one million')],
    ['a negative rate', `${HEAD}tracing:\n  samplingRatePerMillion: -1\n`, [], VALIDATION('tracing.samplingRatePerMillion: Invalid value: -1: sampling rate must be positive')],
    [
      'an http endpoint',
      `${HEAD}tracing:\n  endpoint: http://collector:4318\n`,
      [],
      VALIDATION('tracing.endpoint: Invalid value: "http://collector:4318": unsupported scheme: http.  Options are none, dns, unix, or unix-abstract.  See https://github.com/grpc/grpc/blob/master/doc/naming.md'),
    ],
    ['a port that is not a number', `${HEAD}tracing:\n  endpoint: collector:otlp\n`, [], VALIDATION('tracing.endpoint: Invalid value: "dns://collector:otlp": parse "dns://collector:otlp": invalid port ":otlp" after host')],
    ['several at once, as an aggregate', `${HEAD}maxPods: -1\neventBurst: -2\nhealthzPort: 70000\n`, [], VALIDATION('[invalid configuration: eventBurst (--event-burst) -2 must not be a negative number, invalid configuration: healthzPort (--healthz-port) 70000 must be between 1 and 65535, inclusive, invalid configuration: maxPods (--max-pods) -1 must not be a negative number]')],
    ['a negative event QPS from the flag', HEAD, ['--event-qps', '-1'], VALIDATION('invalid configuration: eventRecordQPS (--event-qps) -1 must not be a negative number')],
    ['a bad taint effect', `${HEAD}registerWithTaints:\n- {key: a, value: b, effect: Sometimes}\n`, [], VALIDATION('invalid taint: {a b Sometimes <nil>}')],
    ['an empty runtime endpoint', HEAD, ['--container-runtime-endpoint='], VALIDATION('invalid configuration: the containerRuntimeEndpoint was not specified or empty')],
    [
      '1.27: tracing configured with the gate off',
      `${TUTORIAL}featureGates:\n  KubeletTracing: false\n`,
      ['--kube-version', '1.27'],
      VALIDATION('invalid configuration: tracing should not be configured if KubeletTracing feature flag is disabled.'),
    ],
    ['1.35: the gate is locked (file)', `${HEAD}featureGates:\n  KubeletTracing: false\n`, [], 'failed to set feature gates from initial flags-based config: cannot set feature gate KubeletTracing to false, feature is locked to true'],
    ['1.35: the gate is locked (flag)', HEAD, ['--feature-gates', 'KubeletTracing=false'], 'failed to set feature gates from initial flags-based config: cannot set feature gate KubeletTracing to false, feature is locked to true'],
  ] as const)('%s', (_why, text, argv, message) => {
    expect(() => parseKubeletFlags(['--kubeconfig', '/k', '--config', file(text), ...argv])).toThrow(message);
  });

  it('the locked gate fails even without a config file', () => {
    expect(() => parseKubeletFlags(['--kubeconfig', '/k', '--feature-gates', 'KubeletTracing=false'])).toThrow('cannot set feature gate KubeletTracing to false, feature is locked to true');
  });
});

describe('pieces', () => {
  it.each([
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['-2s', -2000],
    ['1µs', 0.001],
  ])('time.ParseDuration(%j) = %d ms', (s, ms) => {
    expect(goParseDuration(s)).toBe(ms);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['s', 'time: invalid duration "s"'],
    ['1', 'time: missing unit in duration "1"'],
    ['1x', 'time: unknown unit "x" in duration "1x"'],
  ])('time.ParseDuration(%j) fails: %s', (s, message) => {
    expect(() => goParseDuration(s)).toThrow(message);
  });

  it('decode returns only the fields that were set', () => {
    expect(decodeKubeletConfiguration(`${HEAD}maxPods: 7\n`, '1.35')).toEqual({ config: { maxPods: 7 }, notices: [] });
  });

  it('validation passes a good configuration', () => {
    expect(
      validateKubeletConfiguration({
        nodeLeaseDurationSeconds: 40,
        eventBurst: 100,
        eventRecordQPS: 50,
        healthzPort: 10248,
        maxPods: 110,
        registerWithTaints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
        tracingEnabledByGate: true,
        tracing: { endpoint: 'localhost:4317', samplingRatePerMillion: 1_000_000 },
        containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      }),
    ).toBeUndefined();
  });
});
