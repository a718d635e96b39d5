import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForListen } from '../../shared/src/testing/index.js';
import { criClient, eventually } from './cri-client.js';

// `k8s-trace-sim runtime` as a command: flags, socket handling, log lines.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rt-main-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('runtime command', () => {
  it('prints its flags with --help', async () => {
    const p = startProcess(['runtime', '--help']);
    expect(await p.exited).toBe(0);
    for (const flag of ['--address', '--tcp-address', '--timing', '--seed', '--otlp-endpoint', '--log-level', '--containerd-version', '--config']) {
      expect(p.output()).toContain(flag);
    }
    expect(p.output()).toContain('/run/containerd/containerd.sock');
  });

  it.each([
    [['--timing', 'slow'], 'invalid argument "slow" for "--timing" flag: want realistic or fast'],
    [['--log-level', 'loud'], 'not a valid logrus Level: "loud"'],
    [['--pod-cidr', '10.0.0.0'], 'invalid argument "10.0.0.0" for "--pod-cidr" flag'],
    [['--bogus'], 'unknown flag: --bogus'],
    [['--containerd-version', '1.6.0'], 'invalid argument "1.6.0" for "--containerd-version" flag: want 1.7.1 or 2.1.4'],
  ])('rejects %j', async (args, message) => {
    const p = startProcess(['runtime', '--address', join(dir, 'c.sock'), ...args]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(message);
  });

  it.each([
    ['1.7.1', 'config.toml', 'version = 2\n[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = = 1\n', /Error: failed to load TOML: \S+config\.toml: \(3, \d+\): /],
    ['2.1.4', 'config.toml', 'version = 2\n[plugins\n', /Error: failed to unmarshal TOML at row 2 column \d+: toml: /],
    ['1.7.1', 'config.toml.tmpl', 'version = 2\n{{ if .DisableCgroup }}\n', /Error: template: compiled_template:3: unexpected EOF/],
    ['1.7.1', 'missing.toml', undefined, /Error: failed to load TOML: \S+missing\.toml: open \S+: no such file or directory/],
  ])('containerd %s exits on a bad %s', async (version, name, text, message) => {
    const config = join(dir, name);
    if (text !== undefined) writeFileSync(config, text);
    const p = startProcess(['runtime', '--containerd-version', version, '--config', config, '--address', join(dir, 'c.sock')]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(message);
    expect(p.output()).not.toContain('serving...');
  });

  it('containerd 1.7.1 takes a k3s config.toml.tmpl and logs as 1.7.1 does', async () => {
    const path = join(dir, 'containerd.sock');
    const template = new URL('./fixtures/k3s-containerd.toml.tmpl', import.meta.url).pathname;
    // collector.example does not resolve here: keep the final export attempt short.
    const p = startProcess(['runtime', '--containerd-version', '1.7.1', '--config', template, '--address', path, '--timing', 'fast'], {
      env: { OTEL_EXPORTER_OTLP_TIMEOUT: '500', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '500' },
    });
    try {
      await waitForListen({ path });
      const cri = criClient(path);
      expect(await cri.runtime('Version', {})).toMatchObject({ runtimeName: 'containerd', runtimeVersion: 'v1.7.1' });
      cri.close();
      const out = await eventually(async () => (p.output().includes('successfully booted') ? p.output() : undefined));
      expect(out).toMatch(/level=info msg="starting containerd" revision=1677a17964311325ed1c31e2c0a3589ce6d5c30d version=v1\.7\.1/);
      // The template's otlp section is complete: no "skip loading plugin".
      expect(out).not.toContain('skip loading plugin');
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });

  it('containerd 1.7.1 without tracing sections skips the otlp plugin the 1.7 way', async () => {
    const path = join(dir, 'containerd.sock');
    const p = startProcess(['runtime', '--containerd-version', '1.7.1', '--address', path, '--timing', 'fast']);
    try {
      await waitForListen({ path });
      const out = await eventually(async () => (p.output().includes('successfully booted') ? p.output() : undefined));
      expect(out).toContain(
        'level=info msg="skip loading plugin \\"io.containerd.tracing.processor.v1.otlp\\"..." error="no OpenTelemetry endpoint: skip plugin" type=io.containerd.tracing.processor.v1',
      );
      expect(out).toContain('level=info msg="skipping tracing processor initialization (no tracing plugin)" error="no OpenTelemetry endpoint: skip plugin"');
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });

  it('refuses to remove a file that is not a socket', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'keep me');
    const p = startProcess(['runtime', '--address', path, '--timing', 'fast']);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(`${path} exists and is not a socket; not removing it`);
    expect(existsSync(path)).toBe(true);
  });

  it('refuses a socket another process is serving on', async () => {
    const path = join(dir, 'busy.sock');
    const other = createServer().listen(path);
    await new Promise((r) => other.once('listening', r));
    try {
      const p = startProcess(['runtime', '--address', path, '--timing', 'fast']);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`another process is already serving on ${path}`);
    } finally {
      other.close();
    }
  });

  it('creates the socket directory, also serves TCP, and logs like containerd', async () => {
    const path = join(dir, 'deep', 'er', 'containerd.sock');
    const port = await freePort();
    const p = startProcess(['runtime', '--address', path, '--tcp-address', `127.0.0.1:${port}`, '--timing', 'fast', '--seed', '3']);
    try {
      await waitForListen({ path });
      await waitForListen({ host: '127.0.0.1', port });
      const tcp = criClient(`127.0.0.1:${port}`);
      expect((await tcp.runtime('Version', {})).runtimeName).toBe('containerd');
      tcp.close();
      const out = await eventually(async () => (p.output().includes('successfully booted') ? p.output() : undefined));
      expect(out).toMatch(/time="[^"]+" level=info msg="starting containerd" revision=[0-9a-f]{40} version=v2\.1\.4/);
      expect(out).toContain('level=info msg="skip loading plugin" error="skip plugin: tracing endpoint not configured"');
      expect(out).toContain('msg="simulated runtime" seed=3 timing=fast');
      expect(out).toContain(`level=info msg=serving... address=${path}`);
      // logrus quotes values with a ':'.
      expect(out).toContain(`level=info msg=serving... address="127.0.0.1:${port}"`);
      expect(out).toMatch(/level=info msg="containerd successfully booted in 0\.\d{6}s"/);
    } finally {
      expect(await p.stop()).toBe(0);
    }
    expect(existsSync(path)).toBe(false);
  });

  it('starts over a stale socket file left by a killed runtime', async () => {
    const path = join(dir, 'containerd.sock');
    const first = startProcess(['runtime', '--address', path, '--timing', 'fast']);
    await waitForListen({ path });
    await first.stop('SIGKILL');
    expect(existsSync(path)).toBe(true);
    const second = startProcess(['runtime', '--address', path, '--timing', 'fast']);
    try {
      await waitForListen({ path });
      const cri = criClient(path);
      expect((await cri.runtime('Version', {})).runtimeVersion).toBe('v2.1.4');
      cri.close();
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
