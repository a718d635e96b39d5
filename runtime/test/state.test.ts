import { describe, expect, it } from 'vitest';
import {
  beginRemove,
  beginStart,
  containerState,
  exitReason,
  exited,
  filterContainers,
  startFailed,
  started,
  type Container,
} from '../src/containers.js';
import { toCriContainerStatus, toCriSandboxStatus } from '../src/cri-messages.js';
import { ContainerState, SandboxState, type ContainerConfig, type PodSandboxConfig } from '../src/cri-types.js';
import { nextPid, resolvePrefix } from '../src/ids.js';
import { allocateIp, isHostNetwork, parseCidr } from '../src/network.js';
import { seededRandom } from '../src/random.js';
import { containerName, filterSandboxes, newSandbox, sandboxIp, sandboxName, stoppedSandbox } from '../src/sandboxes.js';

const sbConfig = (name: string, labels: Record<string, string> = {}, network = 0): PodSandboxConfig => ({
  metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
  hostname: name,
  logDirectory: '',
  dnsConfig: null,
  portMappings: [],
  labels,
  annotations: {},
  linux: { cgroupParent: '', securityContext: { namespaceOptions: { network, pid: 0, ipc: 0, targetId: '' } } },
});

const cConfig = (labels: Record<string, string> = {}): ContainerConfig => ({
  metadata: { name: 'app', attempt: 0 },
  image: { image: 'nginx', annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' },
  command: [],
  args: [],
  workingDir: '',
  envs: [],
  mounts: [],
  labels,
  annotations: {},
  logPath: '',
  stdin: false,
  stdinOnce: false,
  tty: false,
});

const created = (id: string, sandboxId = 'sb1', labels: Record<string, string> = {}): Container => ({
  id,
  name: `app_${id}`,
  sandboxId,
  config: cConfig(labels),
  imageId: 'sha256:x',
  logPath: '',
  createdAt: 100n,
  startedAt: 0n,
  finishedAt: 0n,
  exitCode: 0,
  reason: '',
  message: '',
  pid: 0,
  starting: false,
  removing: false,
  plan: { argv: [], lifetime: { kind: 'runs' }, onStop: { kind: 'ignores' } },
  stopSignal: 'SIGTERM',
});
const running = (id: string, sandboxId = 'sb1', labels: Record<string, string> = {}) => started(created(id, sandboxId, labels), 42, 200n);

describe('container transitions', () => {
  it('walks CREATED → RUNNING → EXITED', () => {
    const c = created('c1');
    expect(containerState(c)).toBe(ContainerState.CREATED);
    const s = beginStart(c);
    if ('error' in s) throw new Error(s.error);
    expect(s.starting).toBe(true);
    const r = started(s, 42, 200n);
    expect([containerState(r), r.starting, r.pid]).toEqual([ContainerState.RUNNING, false, 42]);
    const e = exited(r, 3, 300n);
    expect([containerState(e), e.exitCode, e.finishedAt, e.pid, exitReason(e)]).toEqual([ContainerState.EXITED, 3, 300n, 0, 'Error']);
    expect(exitReason(exited(r, 0, 300n))).toBe('Completed');
    expect(exitReason(r)).toBe('');
  });

  it('ignores a second exit', () => {
    const e = exited(running('c1'), 0, 300n);
    expect(exited(e, 137, 400n)).toBe(e);
    expect(exited(created('c2'), 1, 1n)).toEqual(created('c2'));
  });

  it.each([
    ['running', running('c'), 'container is in CONTAINER_RUNNING state'],
    ['exited', exited(running('c'), 0, 300n), 'container is in CONTAINER_EXITED state'],
    ['already starting', { ...created('c'), starting: true }, 'container is already in starting state'],
    ['being removed', { ...created('c'), removing: true }, "container is in removing state, can't be started"],
  ])('refuses to start a container that is %s', (_n, c, error) => {
    expect(beginStart(c)).toEqual({ error });
  });

  it('a failed start leaves 128/StartError with the message', () => {
    const f = startFailed({ ...created('c'), starting: true }, 'sandbox container "x" is not running', 500n);
    expect([containerState(f), f.exitCode, f.reason, f.message, f.starting]).toEqual([
      ContainerState.EXITED,
      128,
      'StartError',
      'sandbox container "x" is not running',
      false,
    ]);
    expect(exitReason(f)).toBe('StartError');
  });

  it.each([
    ['running', running('c'), 'container is still running, to stop first'],
    ['starting', { ...created('c'), starting: true }, "container is in starting state, can't be removed"],
    ['being removed', { ...created('c'), removing: true }, 'container is already in removing state'],
    ['unknown', { ...created('c'), createdAt: 0n }, 'container state is unknown, to stop first'],
  ])('refuses to remove a container that is %s', (_n, c, error) => {
    expect(beginRemove(c)).toEqual({ error });
  });

  it.each([created('c'), exited(running('c'), 0, 300n)])('removes created and exited containers', (c) => {
    expect(beginRemove(c)).toMatchObject({ removing: true });
  });

  it('reports start and finish times only in the states that have them', () => {
    const c = created('c');
    expect(toCriContainerStatus(c, undefined)).toMatchObject({ startedAt: '0', finishedAt: '0', reason: '', imageRef: 'sha256:x' });
    expect(toCriContainerStatus(running('c'), undefined)).toMatchObject({ startedAt: '200', finishedAt: '0' });
    expect(toCriContainerStatus(exited(running('c'), 0, 300n), undefined)).toMatchObject({
      state: ContainerState.EXITED,
      startedAt: '200',
      finishedAt: '300',
      reason: 'Completed',
    });
  });
});

describe('sandboxes', () => {
  it('names sandboxes and containers as containerd does', () => {
    const meta = { name: 'nginx', uid: 'u1', namespace: 'default', attempt: 1 };
    expect(sandboxName(meta)).toBe('nginx_default_u1_1');
    expect(containerName({ name: 'web', attempt: 0 }, meta)).toBe('web_nginx_default_u1_0');
    expect(containerName({ name: 'web', attempt: 2 }, null)).toBe('web____2');
  });

  it('drops the IP once stopped, and has none on the node network', () => {
    const sb = newSandbox({ id: 'a', name: 'n', config: sbConfig('n'), runtimeHandler: '', ip: '10.244.0.2', pid: 7, now: 1n });
    expect([sb.state, sandboxIp(sb), sb.hostNetwork]).toEqual([SandboxState.READY, '10.244.0.2', false]);
    const stopped = stoppedSandbox(sb);
    expect([stopped.state, sandboxIp(stopped), stopped.pid]).toEqual([SandboxState.NOTREADY, '', 0]);
    expect(stoppedSandbox(stopped)).toEqual(stopped);
    const host = newSandbox({ id: 'b', name: 'h', config: sbConfig('h', {}, 2), runtimeHandler: '', ip: '', pid: 8, now: 1n });
    expect([host.hostNetwork, sandboxIp(host)]).toEqual([true, '']);
    expect(toCriSandboxStatus(host).linux.namespaces.options).toMatchObject({ network: 2 });
  });

  it.each([
    [null, false],
    [sbConfig('a'), false],
    [sbConfig('a', {}, 2), true],
    [{ ...sbConfig('a'), linux: null }, false],
  ])('isHostNetwork %#', (config, want) => {
    expect(isHostNetwork(config)).toBe(want);
  });

  const sbs = [
    newSandbox({ id: 'aaa1', name: 'a', config: sbConfig('a', { app: 'web', tier: 'fe' }), runtimeHandler: '', ip: '', pid: 1, now: 1n }),
    stoppedSandbox(newSandbox({ id: 'bbb2', name: 'b', config: sbConfig('b', { app: 'web' }), runtimeHandler: '', ip: '', pid: 2, now: 2n })),
    newSandbox({ id: 'ccc3', name: 'c', config: sbConfig('c', { app: 'db' }), runtimeHandler: '', ip: '', pid: 3, now: 3n }),
  ];
  it.each([
    ['no filter', null, '', ['aaa1', 'bbb2', 'ccc3']],
    ['by id', { id: 'aaa1', state: null, labelSelector: {} }, 'aaa1', ['aaa1']],
    ['by an unknown id', { id: 'zzz', state: null, labelSelector: {} }, 'zzz', []],
    ['ready', { id: '', state: { state: SandboxState.READY }, labelSelector: {} }, '', ['aaa1', 'ccc3']],
    ['not ready', { id: '', state: { state: SandboxState.NOTREADY }, labelSelector: {} }, '', ['bbb2']],
    ['by label', { id: '', state: null, labelSelector: { app: 'web' } }, '', ['aaa1', 'bbb2']],
    ['by two labels', { id: '', state: null, labelSelector: { app: 'web', tier: 'fe' } }, '', ['aaa1']],
    ['label and state', { id: '', state: { state: SandboxState.READY }, labelSelector: { app: 'web' } }, '', ['aaa1']],
  ])('filters sandboxes: %s', (_n, filter, fullId, ids) => {
    expect(filterSandboxes(sbs, filter, fullId).map((s) => s.id)).toEqual(ids);
  });

  const cs = [running('c1', 'aaa1', { role: 'web' }), created('c2', 'aaa1'), exited(running('c3', 'ccc3', { role: 'web' }), 0, 9n)];
  it.each([
    ['no filter', null, { id: '', podSandboxId: '' }, ['c1', 'c2', 'c3']],
    ['by sandbox', { id: '', state: null, podSandboxId: 'aaa', labelSelector: {} }, { id: '', podSandboxId: 'aaa1' }, ['c1', 'c2']],
    ['running', { id: '', state: { state: ContainerState.RUNNING }, podSandboxId: '', labelSelector: {} }, { id: '', podSandboxId: '' }, ['c1']],
    ['exited', { id: '', state: { state: ContainerState.EXITED }, podSandboxId: '', labelSelector: {} }, { id: '', podSandboxId: '' }, ['c3']],
    ['by label', { id: '', state: null, podSandboxId: '', labelSelector: { role: 'web' } }, { id: '', podSandboxId: '' }, ['c1', 'c3']],
    ['by id', { id: 'c2', state: null, podSandboxId: '', labelSelector: {} }, { id: 'c2', podSandboxId: '' }, ['c2']],
  ])('filters containers: %s', (_n, filter, full, ids) => {
    expect(filterContainers(cs, filter, full).map((c) => c.id)).toEqual(ids);
  });
});

describe('ids', () => {
  const ids = ['3f2a00', '3f2b11', '9c0d22'];
  it.each([
    ['3f2a00', { id: '3f2a00' }],
    ['3f2a', { id: '3f2a00' }],
    ['9', { id: '9c0d22' }],
    ['3f2', { failure: 'Multiple IDs found with provided prefix: 3f2' }],
    ['', { failure: "prefix can't be empty" }],
    ['ffff', { failure: 'not found' }],
  ])('resolvePrefix(%j)', (prefix, want) => {
    expect(resolvePrefix(ids, prefix)).toEqual(want);
  });

  it('hands out increasing pids', () => {
    const rand = seededRandom(5);
    let pid = 1000;
    for (let i = 0; i < 100; i++) {
      const next = nextPid(pid, rand);
      expect(next).toBeGreaterThan(pid);
      pid = next;
    }
  });
});

describe('pod IPs (host-local)', () => {
  const cidr = parseCidr('10.244.0.0/16');
  if (!cidr) throw new Error('cidr');
  it('skips the network and gateway addresses', () => {
    expect(allocateIp(cidr, new Set(), undefined)).toBe('10.244.0.2');
  });
  it('goes round-robin after the last one given out', () => {
    expect(allocateIp(cidr, new Set(['10.244.0.2']), '10.244.0.2')).toBe('10.244.0.3');
    expect(allocateIp(cidr, new Set(), '10.244.0.255')).toBe('10.244.1.0');
  });
  it('wraps to the start and skips addresses in use', () => {
    const small = parseCidr('10.0.0.0/29');
    if (!small) throw new Error('cidr');
    // .2–.6 usable
    expect(allocateIp(small, new Set(['10.0.0.2']), '10.0.0.6')).toBe('10.0.0.3');
    expect(allocateIp(small, new Set(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']), '10.0.0.4')).toBeUndefined();
  });
  it.each(['10.244.0.0', '10.244.0.0/33', '300.1.1.1/16', 'x/8', '10.0.0.0/31'])('rejects the CIDR %s', (c) => {
    expect(parseCidr(c)).toBeUndefined();
  });
  it('normalises the base address', () => {
    expect(parseCidr('10.244.7.9/16')).toEqual({ base: parseCidr('10.244.0.0/16')?.base, bits: 16 });
  });
});
