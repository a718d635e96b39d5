import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTELGRPC_SCOPE, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../shared/src/index.js';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { EtcdClient, type Msg } from './etcd-client.js';

/** A caller's span, as the apiserver's otelgrpc client would propagate it. */
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
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const port = await freePort();
  etcd = startProcess(
    [
      'etcd',
      '--listen-client-urls', `http://127.0.0.1:${port}`,
      '--data-dir', mkdtempSync(join(tmpdir(), 'etcd-sim-trace-')),
      '--experimental-enable-distributed-tracing',
      '--experimental-distributed-tracing-address', receiver.endpoint,
    ],
    { env: { OTEL_BSP_SCHEDULE_DELAY: '50' } },
  );
  await waitForListen({ host: '127.0.0.1', port });
  c = new EtcdClient(`127.0.0.1:${port}`);
});
afterAll(async () => {
  c?.close();
  await etcd?.stop();
  await receiver?.close();
});

const waitFor = (traceId: string, names: string[]): Promise<ReceivedSpan[]> =>
  receiver.waitForSpans((all) => names.every((n) => all.some((s) => s.traceId === traceId && s.name === n)), 10_000).then((all) => all.filter((s) => s.traceId === traceId));

describe('etcd 3.5.21 server spans', () => {
  it('one SERVER span per RPC, child of the caller, with exactly otelgrpc 0.46 attributes', async () => {
    // Unsampled by default (rate 0): a call without a parent must leave no span at all.
    await c.put('/untraced', 'x');
    const caller = callerContext();
    await c.call('KV', 'Range', { key: Buffer.from('/registry/pods/default/a') }, caller.md());
    const key = Buffer.from('/registry/pods/default/b');
    await c.call('KV', 'Txn', { compare: [{ key, target: 2, result: 0, modRevision: 0 }], success: [{ requestPut: { key, value: Buffer.from('v') } }] }, caller.md());
    await c.call('Lease', 'LeaseGrant', { TTL: 60 }, caller.md());

    const spans = await waitFor(caller.traceId, ['etcdserverpb.KV/Range', 'etcdserverpb.KV/Txn', 'etcdserverpb.Lease/LeaseGrant']);
    expect(spans.map((s) => s.name).sort()).toEqual(['etcdserverpb.KV/Range', 'etcdserverpb.KV/Txn', 'etcdserverpb.Lease/LeaseGrant']);
    for (const s of spans) {
      const [service, method] = s.name.split('/');
      expect({ kind: s.kind, parent: s.parentSpanId, events: s.events, links: s.links, status: s.status }).toEqual({
        kind: 2,
        parent: caller.spanId,
        events: [],
        links: [],
        status: { code: 0, message: '' },
      });
      expect(s.attributes).toEqual({
        'rpc.system': 'grpc',
        'rpc.service': service,
        'rpc.method': method,
        'net.sock.peer.addr': '127.0.0.1',
        'net.sock.peer.port': expect.any(Number) as number,
        'rpc.grpc.status_code': 0,
      });
      expect(s.attributes['net.sock.peer.port']).toBeGreaterThan(0);
      expect(s.resource).toEqual({ 'service.name': 'etcd' });
      expect(s.scope).toEqual({ name: OTELGRPC_SCOPE, version: '0.46.0' });
      expect(s.endTimeUnixNano).toBeGreaterThanOrEqual(s.startTimeUnixNano);
    }
    // Everything the receiver got belongs to the traced calls: the unparented Put made nothing.
    expect(receiver.spans().filter((s) => s.traceId !== caller.traceId)).toEqual([]);
  });

  it('an OUT_OF_RANGE error leaves the server span Unset with rpc.grpc.status_code 11', async () => {
    const first = await c.put('/compacted', '1');
    const second = await c.put('/compacted', '2');
    await c.call('KV', 'Compact', { revision: (second['header'] as Msg)['revision'] });
    const caller = callerContext();
    const err = await c.try('KV', 'Range', { key: Buffer.from('/compacted'), revision: (first['header'] as Msg)['revision'] }, caller.md());
    expect(err).toEqual({ code: status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' });
    const [span] = await waitFor(caller.traceId, ['etcdserverpb.KV/Range']);
    expect([span?.status, span?.attributes['rpc.grpc.status_code'], span?.events]).toEqual([{ code: 0, message: '' }, 11, []]);
  });

  it('an unsampled parent (flags 00) is followed: no span', async () => {
    const caller = callerContext();
    const md = new Metadata();
    md.set('traceparent', `00-${caller.traceId}-${caller.spanId}-00`);
    await c.call('KV', 'Range', { key: Buffer.from('/x') }, md);
    const marker = callerContext();
    await c.call('KV', 'Range', { key: Buffer.from('/x') }, marker.md());
    await waitFor(marker.traceId, ['etcdserverpb.KV/Range']);
    expect(receiver.trace(caller.traceId)).toEqual([]);
  });
});
