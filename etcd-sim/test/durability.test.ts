import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { EtcdClient, kvs, type Msg } from './etcd-client.js';

const procs: RunningProcess[] = [];
const clients: EtcdClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});

async function start(dir: string, extra: string[] = []): Promise<EtcdClient> {
  const port = await freePort();
  const p = startProcess(['etcd', '--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', dir, ...extra]);
  procs.push(p);
  await waitForListen({ host: '127.0.0.1', port });
  const c = new EtcdClient(`127.0.0.1:${port}`);
  clients.push(c);
  return c;
}

const rev = (res: Msg): number => Number((res['header'] as Msg)['revision']);

describe('durability across SIGKILL', () => {
  it.each([
    ['default settings', []],
    // Snapshots and WAL truncation happen while the writes run.
    ['a snapshot every 40 records', ['--snapshot-count', '40']],
  ])('keeps every acknowledged write and never goes back in revision (%s)', async (_name, extra) => {
    const dir = mkdtempSync(join(tmpdir(), 'etcd-sim-crash-'));
    const c = await start(dir, extra);
    const lease = await c.call('Lease', 'LeaseGrant', { TTL: 600 });
    await c.put('/leased', 'x', { lease: lease['ID'] });

    // 16 writers, each writing its own keys; only resolved calls count as acknowledged.
    const acked = new Map<string, { value: string; rev: number }>();
    const proc = procs[0] as RunningProcess;
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const key = `/crash/${w}/${i}`;
        // Big values make each flush take a while, so a server that answered before its
        // WAL write finished would lose acknowledged writes here.
        const value = `v-${w}-${i}-`.padEnd(32 * 1024, 'x');
        try {
          const res = i % 2 === 0 ? await c.put(key, value) : await c.call('KV', 'Txn', { success: [{ requestPut: { key: Buffer.from(key), value: Buffer.from(value) } }] });
          acked.set(key, { value, rev: rev(res) });
          // Kill right as an ack arrives, while other writes are still in flight.
          if (acked.size === 200) proc.child.kill('SIGKILL');
        } catch {
          return; // the server is gone
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    expect(await proc.exited).toBe('SIGKILL');
    stop = true;
    await Promise.all(writers);
    const maxAcked = Math.max(...[...acked.values()].map((a) => a.rev));

    const c2 = await start(dir, extra);
    // Page through (responses would pass gRPC's 4 MiB default), as the apiserver lists.
    const stored = new Map<string, { value: string; rev: number }>();
    let all: Msg = {};
    for (let from = '/crash/'; ; ) {
      all = await c2.range(from, { rangeEnd: Buffer.from('/crash0'), limit: 50 });
      const page = (all['kvs'] as Msg[]) ?? [];
      for (const kv of page) stored.set(String(kv['key']), { value: String(kv['value']), rev: Number(kv['modRevision']) });
      if (!all['more']) break;
      from = `${String(page[page.length - 1]?.['key'])}\0`;
    }
    const lost = [...acked].filter(([k, a]) => stored.get(k)?.value !== a.value || stored.get(k)?.rev !== a.rev);
    expect(lost).toEqual([]);
    expect(rev(all)).toBeGreaterThanOrEqual(maxAcked);
    const next = await c2.put('/after', 'restart');
    expect(rev(next)).toBeGreaterThan(rev(all));
    // The lease came back too (with a fresh TTL), still holding its key.
    const ttl = await c2.call('Lease', 'LeaseTimeToLive', { ID: lease['ID'], keys: true });
    expect([ttl['grantedTTL'], (ttl['keys'] as Buffer[]).map(String)]).toEqual(['600', ['/leased']]);
    expect(kvs(await c2.range('/leased'))).toEqual(['/leased=x']);
  });
});
