import { describe, expect, it } from 'vitest';
import { FlagError } from '../../shared/src/index.js';
import { nodeIps, nodeNames, parseKubeletFlags, parseTaints, podCidr } from '../src/config.js';

const parse = (...argv: string[]) => {
  const r = parseKubeletFlags(['--kubeconfig', '/k', ...argv]);
  if (r.help) throw new Error('help');
  return r.config;
};

describe('kubelet flags', () => {
  it('defaults: one node-1 on containerd, 110 pods, tracing off, story mode, 1.35', () => {
    const c = parse();
    expect(c.nodes).toEqual([{ name: 'node-1', ip: '172.18.0.2', podCidr: '10.244.1.0/24' }]);
    expect(c.runtimeEndpoint).toBe('unix:///run/containerd/containerd.sock');
    expect(c.maxPods).toBe(110);
    expect(c.tracing).toEqual({ enabled: false, samplingRatePerMillion: 0 });
    expect(c.background).toBe('full');
    expect(c.featureGates).toEqual({ KubeletTracing: true });
    expect(c.traceMode).toBe('story');
    expect(c.profile.name).toBe('1.35');
    expect(c.syncFrequencyMs).toBe(60_000);
    expect(c.nodeStatusUpdateFrequencyMs).toBe(10_000);
    expect(c.nodeLeaseDurationSeconds).toBe(40);
  });

  it('many nodes, tracing, labels, taints', () => {
    const c = parse(
      '--nodes=3',
      '--node-name-prefix',
      'worker-',
      '--node-ip',
      '10.0.0.254',
      '--tracing-endpoint',
      'localhost:4317',
      '--tracing-sampling-rate-per-million',
      '1000000',
      '--node-labels',
      'tier=edge,zone=a',
      '--register-with-taints',
      'dedicated=gpu:NoSchedule',
      '--trace-mode',
      'faithful',
    );
    expect(c.nodes.map((n) => [n.name, n.ip, n.podCidr])).toEqual([
      ['worker-1', '10.0.0.254', '10.244.1.0/24'],
      ['worker-2', '10.0.1.1', '10.244.2.0/24'],
      ['worker-3', '10.0.1.2', '10.244.3.0/24'],
    ]);
    expect(c.tracing).toEqual({ enabled: true, endpoint: 'localhost:4317', samplingRatePerMillion: 1_000_000 });
    expect(c.labels).toEqual({ tier: 'edge', zone: 'a' });
    expect(c.taints).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    expect(c.traceMode).toBe('faithful');
  });

  it('--hostname-override names the single node', () => {
    expect(parse('--hostname-override', 'Kind-Worker').nodes[0]?.name).toBe('kind-worker');
    expect(nodeNames(2, 'n', undefined)).toEqual(['n1', 'n2']);
  });

  it.each([
    [[], '--kubeconfig is required'],
    [['--kubeconfig', '/k', '--nodes', '0'], '"--nodes" flag: must be at least 1'],
    [['--kubeconfig', '/k', '--nodes', '2', '--hostname-override', 'x'], 'cannot be used with --nodes greater than 1'],
    [['--kubeconfig', '/k', '--tracing-sampling-rate-per-million', '2000000'], 'must be between 0 and 1000000'],
    [['--kubeconfig', '/k', '--trace-mode', 'loud'], 'want story or faithful'],
    [['--kubeconfig', '/k', '--node-ip', 'nope'], 'not an IPv4 address'],
    [['--kubeconfig', '/k', '--node-name-prefix', 'Bad_'], 'invalid node name "Bad_1"'],
    [['--kubeconfig', '/k', '--register-with-taints', 'x:Sometimes'], 'invalid taint spec'],
    [['--kubeconfig', '/k', '--node-capacity', 'cpu=8'], 'needs a quantity for memory'],
    [['--kubeconfig', '/k', '--sync-frequency', 'soon'], 'time: invalid duration "soon"'],
    [['--kubeconfig', '/k', '--bogus'], 'unknown flag: --bogus'],
    [['--kubeconfig', '/k', '--kube-version', '1.30'], 'invalid argument "1.30" for "--kube-version" flag: want 1.27 or 1.35'],
    [['--kubeconfig', '/k', '--background-traffic', 'some'], 'invalid argument "some" for "--background-traffic" flag: want full, low or off'],
    [['--kubeconfig', '/k', '--feature-gates', 'KubeletTracing'], 'invalid argument "KubeletTracing" for "--feature-gates" flag: malformed pair, expect string=bool'],
    [
      ['--kubeconfig', '/k', '--feature-gates', 'KubeletTracing=maybe'],
      'invalid argument "KubeletTracing=maybe" for "--feature-gates" flag: invalid value of KubeletTracing: maybe, err: strconv.ParseBool: parsing "maybe": invalid syntax',
    ],
  ])('%j fails: %s', (argv, message) => {
    expect(() => parseKubeletFlags(argv)).toThrow(FlagError);
    expect(() => parseKubeletFlags(argv)).toThrow(message);
  });

  it('--help', () => {
    expect(parseKubeletFlags(['--help'])).toEqual({ help: true });
  });

  it('node IPs skip network and broadcast addresses; pod CIDRs are /24s', () => {
    expect(nodeIps('172.18.0.254', 3)).toEqual(['172.18.0.254', '172.18.1.1', '172.18.1.2']);
    expect(podCidr(0)).toBe('10.244.1.0/24');
    expect(podCidr(299)).toBe('10.245.44.0/24');
    expect(parseTaints(['a:NoExecute', 'b=c:PreferNoSchedule'])).toEqual([
      { key: 'a', effect: 'NoExecute' },
      { key: 'b', value: 'c', effect: 'PreferNoSchedule' },
    ]);
  });
});
