import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTELGRPC_SCOPE, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../shared/src/index.js';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { EtcdClient, type Msg } from './etcd-client.js';

// etcd 3.5.7 (k3s v1.27.1's), as `--etcd-version 3.5.7`: otelgrpc v0.25.0
// interceptors, so message events with sizes, net.peer.ip and a string port,
// Error for any failed call; ParentBased(NeverSample) and no sampling-rate flag.

const ETCDCTL = '/usr/bin/etcdctl';

function callerContext(): { traceId: string; spanId: string; md: () => Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return {
    traceId,
    spanId,
    md: () => {
      const md = new Metadata();
      md.set('traceparent', `00-${traceId}-${spanId}-01`);
      return md;
    },
  };
}

let receiver: OtlpReceiver;
let etcd: RunningProcess;
let c: EtcdClient;
let endpoint = '';
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const port = await freePort();
  endpoint = `127.0.0.1:${port}`;
  etcd = startProcess(
    [
      'etcd',
      '--etcd-version', '3.5.7',
      '--listen-client-urls', `http://${endpoint}`,
      '--data-dir', mkdtempSync(join(tmpdir(), 'etcd-sim-357-')),
      '--experimental-enable-distributed-tracing',
      '--experimental-distributed-tracing-address', receiver.endpoint,
    ],
    { env: { OTEL_BSP_SCHEDULE_DELAY: '50' } },
  );
  await waitForListen({ host: '127.0.0.1', port });
  c = new EtcdClient(endpoint);
});
afterAll(async () => {
  c?.close();
  await etcd?.stop();
  await receiver?.close();
});

const waitFor = (traceId: string, names: string[]): Promise<ReceivedSpan[]> =>
  receiver
    .waitForSpans((all) => names.every((n) => all.some((s) => s.traceId === traceId && s.name === n)), 10_000)
    .then((all) => all.filter((s) => s.traceId === traceId));

describe('etcd 3.5.7 server spans', () => {
  it('one SERVER span per RPC with otelgrpc 0.25 keys, a RECEIVED then a SENT message event with sizes', async () => {
    await c.put('/untraced', 'x');
    const caller = callerContext();
    const key = Buffer.from('/registry/pods/default/a');
    await c.call('KV', 'Range', { key }, caller.md());
    await c.call('KV', 'Txn', { compare: [{ key, target: 2, result: 0, modRevision: 0 }], success: [{ requestPut: { key, value: Buffer.from('v') } }] }, caller.md());

    const spans = await waitFor(caller.traceId, ['etcdserverpb.KV/Range', 'etcdserverpb.KV/Txn']);
    expect(spans.map((s) => s.name).sort()).toEqual(['etcdserverpb.KV/Range', 'etcdserverpb.KV/Txn']);
    for (const s of spans) {
      const [service, method] = s.name.split('/');
      expect({ kind: s.kind, parent: s.parentSpanId, links: s.links, status: s.status }).toEqual({
        kind: 2,
        parent: caller.spanId,
        links: [],
        status: { code: 0, message: '' },
      });
      expect(s.attributes).toEqual({
        'rpc.system': 'grpc',
        'rpc.service': service,
        'rpc.method': method,
        'net.peer.ip': '127.0.0.1',
        'net.peer.port': expect.stringMatching(/^\d+$/) as string,
        'rpc.grpc.status_code': 0,
      });
      expect(s.events.map((e) => [e.name, Object.keys(e.attributes)])).toEqual([
        ['message', ['message.type', 'message.id', 'message.uncompressed_size']],
        ['message', ['message.type', 'message.id', 'message.uncompressed_size']],
      ]);
      expect(s.events.map((e) => [e.attributes['message.type'], e.attributes['message.id']])).toEqual([
        ['RECEIVED', 1],
        ['SENT', 1],
      ]);
      for (const e of s.events) expect(e.attributes['message.uncompressed_size']).toBeGreaterThan(0);
      expect(s.resource).toEqual({ 'service.name': 'etcd' });
      expect(s.scope).toEqual({ name: OTELGRPC_SCOPE, version: 'semver:0.25.0' });
    }
    // ParentBased(NeverSample): the unparented Put made nothing.
    expect(receiver.spans().filter((s) => s.traceId !== caller.traceId)).toEqual([]);
  });

  it('an OUT_OF_RANGE error marks the server span Error (any error code, before otelgrpc 0.42)', async () => {
    const first = await c.put('/compacted', '1');
    const second = await c.put('/compacted', '2');
    await c.call('KV', 'Compact', { revision: (second['header'] as Msg)['revision'] });
    const caller = callerContext();
    const err = await c.try('KV', 'Range', { key: Buffer.from('/compacted'), revision: (first['header'] as Msg)['revision'] }, caller.md());
    expect(err).toEqual({ code: status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' });
    const [span] = await waitFor(caller.traceId, ['etcdserverpb.KV/Range']);
    expect([span?.status, span?.attributes['rpc.grpc.status_code']]).toEqual([{ code: 2, message: 'etcdserver: mvcc: required revision has been compacted' }, 11]);
    expect(span?.events[0]?.attributes['message.type']).toBe('RECEIVED');
  });

  it('a Watch stream numbers its message events per direction', async () => {
    const caller = callerContext();
    const w = c.stream('Watch', 'Watch', caller.md());
    w.write({ createRequest: { key: Buffer.from('/w/a') } });
    await w.until(1);
    await c.put('/w/a', '1');
    await w.until(2);
    w.close();
    const [span] = await waitFor(caller.traceId, ['etcdserverpb.Watch/Watch']);
    expect(span?.events.map((e) => [e.attributes['message.type'], e.attributes['message.id']])).toEqual([
      ['RECEIVED', 1],
      ['SENT', 1],
      ['SENT', 2],
    ]);
  });

  it('Maintenance.Status reports 3.5.7', async () => {
    const st = await c.call('Maintenance', 'Status', {});
    expect(st['version']).toBe('3.5.7');
  });

  it.skipIf(!existsSync(ETCDCTL))('etcdctl endpoint status shows 3.5.7', async () => {
    const out = await new Promise<string>((resolve) => {
      const child = spawn(ETCDCTL, ['--endpoints', endpoint, 'endpoint', 'status', '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' } });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('close', () => resolve(text));
    });
    expect((JSON.parse(out) as [{ Status: { version: string } }])[0].Status.version).toBe('3.5.7');
  });
});

describe('etcd 3.5.7 command line', () => {
  it('refuses --experimental-distributed-tracing-sampling-rate, which 3.5.7 does not have', async () => {
    const p = startProcess(['etcd', '--etcd-version', '3.5.7', '--experimental-distributed-tracing-sampling-rate', '1000000']);
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('flag provided but not defined: -experimental-distributed-tracing-sampling-rate');
  });

  it('--help lists no sampling-rate flag for 3.5.7', async () => {
    const p = startProcess(['etcd', '--etcd-version', '3.5.7', '--help']);
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('etcd 3.5.7');
    expect(p.output()).toContain('--experimental-enable-distributed-tracing');
    expect(p.output()).not.toContain('sampling-rate');
  });
});
