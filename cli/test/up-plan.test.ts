import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../shared/src/index.js';
import { apiserverTracingConfig, checkConfigDir, checkUpFlags, configDirFiles, planUp, UP_FLAGS } from '../src/up-plan.js';

const FILES = {
  pkiDir: '/d/pki',
  apiserverCert: '/d/pki/apiserver.crt',
  apiserverKey: '/d/pki/apiserver.key',
  webhookCertDir: '/d/webhook',
  schedulerKubeconfig: '/d/scheduler.kubeconfig',
  kubeletKubeconfig: '/d/kubelet.kubeconfig',
};
const READY = { check: async () => true, what: 'x' };

function plan(argv: string[], exists: (p: string) => boolean = () => false) {
  return planUp(parseFlags(['--data-dir', '/d', ...argv], UP_FLAGS), {}, FILES, READY, exists);
}
function argsOf(p: ReturnType<typeof plan>, name: string): string[] {
  const c = p.children.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name}`);
  return [...c.args];
}
/** The value after a flag, or undefined when the flag is absent. */
function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

describe('planUp: --kube-version picks each component of that release', () => {
  it.each([
    ['1.27', '3.5.7', '1.7.1'],
    ['1.35', '3.5.21', '2.1.4'],
  ])('%s → etcd %s, containerd %s', (kv, etcd, containerd) => {
    const p = plan(['--kube-version', kv]);
    expect(p.kubeVersion).toBe(kv);
    expect(flag(argsOf(p, 'apiserver'), '--kube-version')).toBe(kv);
    expect(flag(argsOf(p, 'kubelet'), '--kube-version')).toBe(kv);
    expect(flag(argsOf(p, 'etcd'), '--etcd-version')).toBe(etcd);
    expect(flag(argsOf(p, 'runtime'), '--containerd-version')).toBe(containerd);
  });

  it('defaults to 1.35', () => {
    expect(plan([]).kubeVersion).toBe('1.35');
  });

  it.each([
    [['--kube-version', '1.30'], 'invalid --kube-version "1.30": want one of 1.27, 1.35'],
    [['--background-traffic', 'some'], 'invalid --background-traffic "some": want full, low or off'],
    [['--mode', 'x'], 'invalid --mode "x": want story or faithful'],
  ])('refuses %j', (argv, msg) => {
    expect(() => checkUpFlags(parseFlags(argv, UP_FLAGS))).toThrow(msg);
  });

  it.each([
    ['/no/such/dir/anywhere', '--config-dir /no/such/dir/anywhere: no such directory'],
    ['/', '--config-dir / holds none of config/apiserver-tracing.yaml, config/kubelet-tracing.yaml, config.toml.tmpl, config.toml'],
  ])('refuses --config-dir %s', (dir, msg) => {
    expect(() => checkConfigDir(dir)).toThrow(msg);
  });

  it.each([
    ['1.27', 'apiVersion: apiserver.config.k8s.io/v1beta1'],
    ['1.35', 'apiVersion: apiserver.config.k8s.io/v1'],
  ] as const)('writes a TracingConfiguration %s reads', (kv, line) => {
    const text = apiserverTracingConfig('127.0.0.1:4317', kv);
    expect(text.split('\n')).toEqual([line, 'kind: TracingConfiguration', 'endpoint: 127.0.0.1:4317', 'samplingRatePerMillion: 1000000', '']);
  });
});

describe('planUp: tracing flags', () => {
  it('without --config-dir every component sends to the one endpoint', () => {
    const p = plan(['--otlp-listen', '127.0.0.1:5555']);
    expect(flag(argsOf(p, 'etcd'), '--experimental-distributed-tracing-address')).toBe('127.0.0.1:5555');
    expect(argsOf(p, 'etcd')).toContain('--experimental-enable-distributed-tracing');
    expect(flag(argsOf(p, 'runtime'), '--otlp-endpoint')).toBe('127.0.0.1:5555');
    expect(flag(argsOf(p, 'webhook'), '--otlp-endpoint')).toBe('127.0.0.1:5555');
    expect(flag(argsOf(p, 'apiserver'), '--tracing-config-file')).toBe('/d/config/apiserver-tracing.yaml');
    expect(flag(argsOf(p, 'kubelet'), '--tracing-endpoint')).toBe('127.0.0.1:5555');
    expect(flag(argsOf(p, 'kubelet'), '--tracing-sampling-rate-per-million')).toBe('1000000');
    expect(flag(argsOf(p, 'kubelet'), '--background-traffic')).toBe('full');
  });

  it('--config-dir hands each component its own file, as the k3d tutorial mounts them, and leaves the rest untraced', () => {
    const have = new Set(['/cfg', '/cfg/config/apiserver-tracing.yaml', '/cfg/config/kubelet-tracing.yaml', '/cfg/config.toml.tmpl']);
    const p = plan(['--config-dir', '/cfg', '--kube-version', '1.27', '--background-traffic', 'low'], (f) => have.has(f));
    expect(p.configDir).toBe('/cfg');
    const api = argsOf(p, 'apiserver');
    expect(flag(api, '--tracing-config-file')).toBe('/cfg/config/apiserver-tracing.yaml');
    expect(flag(api, '--feature-gates')).toBe('APIServerTracing=true');
    const kubelet = argsOf(p, 'kubelet');
    expect(flag(kubelet, '--config')).toBe('/cfg/config/kubelet-tracing.yaml');
    expect(kubelet).not.toContain('--tracing-endpoint');
    expect(flag(kubelet, '--background-traffic')).toBe('low');
    expect(flag(argsOf(p, 'runtime'), '--config')).toBe('/cfg/config.toml.tmpl');
    expect(argsOf(p, 'runtime')).not.toContain('--otlp-endpoint');
    expect(argsOf(p, 'etcd')).not.toContain('--experimental-enable-distributed-tracing');
    expect(argsOf(p, 'webhook')).not.toContain('--otlp-endpoint');
  });

  it('--config-dir without a kubelet file runs the kubelet untraced', () => {
    const p = plan(['--config-dir', '/cfg'], (f) => f === '/cfg' || f === '/cfg/config/apiserver-tracing.yaml');
    expect(argsOf(p, 'kubelet')).not.toContain('--config');
    expect(argsOf(p, 'kubelet')).not.toContain('--tracing-endpoint');
    expect(argsOf(p, 'runtime')).not.toContain('--config');
  });

  it.each([
    [['config.toml.tmpl', 'config.toml'], '/cfg/config.toml.tmpl'],
    [['config.toml'], '/cfg/config.toml'],
    [[], undefined],
  ])('containerd file among %j → %s', (names, want) => {
    const have = new Set(names.map((n) => `/cfg/${n}`));
    expect(configDirFiles('/cfg', (f) => have.has(f)).containerdConfig).toBe(want);
  });
});
