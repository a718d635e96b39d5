import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { parentBasedAlwaysOn, startTracing } from '../../shared/src/index.js';
import { CLI, freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { splitHostPort } from '../src/collector.js';

const run = promisify(execFile);
let procs: RunningProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  procs = [];
});

describe('k8s-trace-sim CLI', () => {
  it('lists its commands and rejects an unknown one', async () => {
    const help = await run(process.execPath, [CLI, '--help']);
    for (const c of ['etcd', 'runtime', 'collector']) expect(help.stdout).toContain(c);
    const bad = await run(process.execPath, [CLI, 'etcdd']).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('unknown command "etcdd"');
  });

  it('rejects a bad flag with pflag wording and a non-zero exit', async () => {
    const bad = await run(process.execPath, [CLI, 'collector', '--max-spans', 'lots']).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('invalid argument "lots" for "--max-spans" flag');
  });

  it('runs the collector as a process that writes OTLP/JSON lines and refuses a busy port', async () => {
    const port = await freePort();
    const file = join(mkdtempSync(join(tmpdir(), 'collector-')), 'out', 'traces.jsonl');
    const p = startProcess(['collector', '--listen', `127.0.0.1:${port}`, '--traces-file', file]);
    procs.push(p);
    await waitForListen({ host: '127.0.0.1', port });
    const tracing = startTracing({
      enabled: true,
      resource: { 'service.name': 'kubelet', 'host.name': 'node-1' },
      endpoint: `127.0.0.1:${port}`,
      sampler: parentBasedAlwaysOn(),
      processor: 'simple',
      env: {},
    });
    tracing.tracer('k8s.io/kubernetes/pkg/kubelet').startSpan('syncPod', { kind: SpanKind.INTERNAL }).end();
    await tracing.shutdown();

    const busy = startProcess(['collector', '--listen', `127.0.0.1:${port}`]);
    expect(await busy.exited).toBe(1);
    expect(busy.output()).toContain('address already in use');

    expect(await p.stop('SIGTERM')).toBe(0);
    expect(p.output()).toContain('received 1 spans');
    const line = JSON.parse(readFileSync(file, 'utf8').trim()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; kind: number }> }> }> };
    expect(line.resourceSpans[0]!.scopeSpans[0]!.spans[0]).toMatchObject({ name: 'syncPod', kind: 1 });
  });
});

describe('splitHostPort', () => {
  it.each([
    ['127.0.0.1:4317', { host: '127.0.0.1', port: 4317 }],
    ['[::1]:4317', { host: '::1', port: 4317 }],
    [':4317', { host: '0.0.0.0', port: 4317 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('%s', (addr, want) => expect(splitHostPort(addr)).toEqual(want));
  it.each(['4317', 'host:', 'host:99999', 'a:b'])('rejects %s', (addr) => expect(() => splitHostPort(addr)).toThrow('invalid address'));
});
