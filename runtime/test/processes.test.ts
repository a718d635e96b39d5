import { describe, expect, it } from 'vitest';
import { imageProfile } from '../src/images.js';
import { effectiveArgv, parseSleep, planProcess, runScript, tokenizeScript, type CommandLine } from '../src/processes.js';

const cl = (command: string[], args: string[] = [], extra: Partial<CommandLine> = {}): CommandLine => ({
  command,
  args,
  stdin: false,
  tty: false,
  ...extra,
});
const busybox = imageProfile('docker.io/library/busybox');
const nginx = imageProfile('docker.io/library/nginx');
const redis = imageProfile('docker.io/library/redis');
const pause = imageProfile('registry.k8s.io/pause');

describe('effectiveArgv (command/args over ENTRYPOINT/CMD)', () => {
  it.each([
    ['image defaults', cl([]), nginx, ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']],
    ['args replace CMD only', cl([], ['nginx', '-T']), nginx, ['/docker-entrypoint.sh', 'nginx', '-T']],
    ['command drops CMD', cl(['sleep', '10']), nginx, ['sleep', '10']],
    ['command and args', cl(['sh', '-c'], ['echo hi']), busybox, ['sh', '-c', 'echo hi']],
  ])('%s', (_n, line, image, argv) => {
    expect(effectiveArgv(line, image)).toEqual(argv);
  });
});

describe('planProcess', () => {
  it.each([
    ['echo hi', cl(['echo', 'hi']), busybox, { kind: 'exits', afterMs: 0, exitCode: 0 }],
    ['true', cl(['true']), busybox, { kind: 'exits', afterMs: 0, exitCode: 0 }],
    ['false', cl(['false']), busybox, { kind: 'exits', afterMs: 0, exitCode: 1 }],
    ['sleep 1', cl(['sleep', '1']), busybox, { kind: 'exits', afterMs: 1000, exitCode: 0 }],
    ['sleep 1m 30', cl(['sleep', '1m', '30']), busybox, { kind: 'exits', afterMs: 90_000, exitCode: 0 }],
    ['sleep infinity', cl(['sleep', 'infinity']), busybox, { kind: 'runs' }],
    ['sh -c "exit 3"', cl(['sh', '-c', 'exit 3']), busybox, { kind: 'exits', afterMs: 0, exitCode: 3 }],
    ['/bin/sh -c in args', cl(['/bin/sh', '-c'], ['sleep 2; exit 7']), busybox, { kind: 'exits', afterMs: 2000, exitCode: 7 }],
    ['sh -c loop', cl(['sh', '-c', 'while true; do echo tick; sleep 1; done']), busybox, { kind: 'runs' }],
    ['sh -c tail -f', cl(['sh', '-c', 'tail -f /dev/null']), busybox, { kind: 'runs' }],
    ['sh -c false && ...', cl(['sh', '-c', 'false && sleep 100']), busybox, { kind: 'exits', afterMs: 0, exitCode: 1 }],
    ['sh -c false || ...', cl(['sh', '-c', 'false || echo recovered']), busybox, { kind: 'exits', afterMs: 0, exitCode: 0 }],
    ['sh -c quoted ;', cl(['sh', '-c', 'echo "a; exit 9"; sleep 0.5']), busybox, { kind: 'exits', afterMs: 500, exitCode: 0 }],
    ['busybox default sh with stdin closed', cl([]), busybox, { kind: 'exits', afterMs: 0, exitCode: 0 }],
    ['busybox default sh with a tty', cl([], [], { stdin: true, tty: true }), busybox, { kind: 'runs' }],
    ['nginx default', cl([]), nginx, { kind: 'runs' }],
    ['redis via its entrypoint', cl([]), redis, { kind: 'runs' }],
    ['pause', cl([]), pause, { kind: 'runs' }],
    ['an unknown server binary', cl(['/app/server', '--port=8080']), busybox, { kind: 'runs' }],
    ['tini -- echo', cl(['tini', '--', 'echo', 'x']), busybox, { kind: 'exits', afterMs: 0, exitCode: 0 }],
    ['env VAR=1 sleep 2', cl(['env', 'VAR=1', 'sleep', '2']), busybox, { kind: 'exits', afterMs: 2000, exitCode: 0 }],
    ['sleep with a bad argument', cl(['sleep', 'soon']), busybox, { kind: 'exits', afterMs: 0, exitCode: 1 }],
  ])('%s', (_n, line, image, lifetime) => {
    expect(planProcess(line, image).lifetime).toEqual(lifetime);
  });

  it.each([
    ['nginx obeys its stop signal', cl([]), nginx, { kind: 'exits', exitCode: 0 }],
    ['pause exits 0 on SIGTERM', cl([]), pause, { kind: 'exits', exitCode: 0 }],
    ['sleep as PID 1 ignores SIGTERM', cl(['sleep', 'infinity']), busybox, { kind: 'ignores' }],
    ['a shell script ignores SIGTERM', cl(['sh', '-c', 'while true; do sleep 1; done']), busybox, { kind: 'ignores' }],
    ['tail -f ignores SIGTERM', cl(['tail', '-f', '/dev/null']), busybox, { kind: 'ignores' }],
  ])('%s', (_n, line, image, onStop) => {
    expect(planProcess(line, image).onStop).toEqual(onStop);
  });
});

describe('script helpers', () => {
  it('tokenizes operators and keeps quoted text together', () => {
    expect(tokenizeScript(`echo 'a b'&&sleep 1;exit 2 || true`)).toEqual(['echo', 'a b', '&&', 'sleep', '1', ';', 'exit', '2', '||', 'true']);
  });
  it('stops at exit', () => {
    expect(runScript('exit 4; sleep 100')).toEqual({ kind: 'exits', afterMs: 0, exitCode: 4 });
  });
  it('wraps exit codes at 256', () => {
    expect(runScript('exit 257')).toEqual({ kind: 'exits', afterMs: 0, exitCode: 1 });
  });
  it.each([
    [['5'], 5000],
    [['0.5'], 500],
    [['2m'], 120_000],
    [['1h'], 3_600_000],
    [['infinity'], 'forever'],
    [[], undefined],
    [['x'], undefined],
  ])('parseSleep(%j) = %j', (args, want) => {
    expect(parseSleep(args)).toEqual(want);
  });
});
