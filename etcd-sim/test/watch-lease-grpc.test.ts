import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdServer, type RunningEtcd } from '../src/server.js';
import { EtcdClient, kvs, str, type BidiStream, type Msg } from './etcd-client.js';

let etcd: RunningEtcd;
let c: EtcdClient;
const streams: BidiStream[] = [];
beforeAll(async () => {
  etcd = await startEtcdServer({ dataDir: mkdtempSync(join(tmpdir(), 'etcd-sim-watch-')), progressIntervalMs: 300 });
  c = new EtcdClient(`127.0.0.1:${etcd.port}`);
});
afterEach(() => {
  for (const s of streams.splice(0)) s.close();
});
afterAll(async () => {
  c.close();
  await etcd.close();
});

const B = (s: string): Buffer => Buffer.from(s);
const rev = (res: Msg): number => Number((res['header'] as Msg)['revision']);
const watch = (): BidiStream => {
  const s = c.stream('Watch', 'Watch');
  streams.push(s);
  return s;
};
/** Events of a WatchResponse as "PUT key=value (prev)" strings. */
const events = (res: Msg | undefined): string[] =>
  ((res?.['events'] as Msg[] | undefined) ?? []).map((e) => {
    const kv = e['kv'] as Msg;
    const prev = e['prevKv'] as Msg | null;
    return `${e['type'] === 0 ? 'PUT' : 'DELETE'} ${str(kv['key'])}=${str(kv['value'])}${prev ? ` (was ${str(prev['value'])})` : ''}`;
  });
const brief = (res: Msg | undefined): Msg => ({
  watchId: res?.['watchId'],
  created: res?.['created'],
  canceled: res?.['canceled'],
  rev: res ? rev(res) : undefined,
  compactRevision: res?.['compactRevision'],
  cancelReason: res?.['cancelReason'],
});

describe('Watch', () => {
  it('acks with created and the current revision, then sends one response per revision with header', async () => {
    const w = watch();
    const start = rev(await c.range('/w1/x'));
    w.write({ createRequest: { key: B('/w1/'), rangeEnd: B('/w10'), prevKv: true } });
    const [created] = await w.until(1);
    expect(brief(created)).toEqual({ watchId: '0', created: true, canceled: false, rev: start, compactRevision: '0', cancelReason: '' });
    await c.put('/w1/a', '1');
    await c.put('/w1/a', '2');
    await c.call('KV', 'Txn', { success: [{ requestPut: { key: B('/w1/b'), value: B('3') } }, { requestDeleteRange: { key: B('/w1/a') } }] });
    await c.put('/elsewhere', 'x');
    const got = await w.until(4);
    expect(got.slice(1).map((r) => [rev(r), events(r)])).toEqual([
      [start + 1, ['PUT /w1/a=1']],
      [start + 2, ['PUT /w1/a=2 (was 1)']],
      [start + 3, ['PUT /w1/b=3', 'DELETE /w1/a= (was 2)']],
    ]);
  });

  it('replays history from a start revision in one response, and honours filters', async () => {
    const first = rev(await c.put('/w2/a', '1'));
    await c.put('/w2/b', '2');
    await c.call('KV', 'DeleteRange', { key: B('/w2/a') });
    const w = watch();
    w.write({ createRequest: { key: B('/w2/'), rangeEnd: B('/w20'), startRevision: first } });
    w.write({ createRequest: { key: B('/w2/'), rangeEnd: B('/w20'), startRevision: first, filters: [1], watchId: 7 } });
    const got = await w.until(4);
    expect(got.map((r) => [r['watchId'], r['created'], events(r)])).toEqual([
      ['0', true, []],
      ['0', false, ['PUT /w2/a=1', 'PUT /w2/b=2', 'DELETE /w2/a=']],
      ['7', true, []],
      ['7', false, ['PUT /w2/a=1', 'PUT /w2/b=2']],
    ]);
  });

  it('a compacted start revision: created, then canceled with compact_revision (header revision 0, as etcd)', async () => {
    const old = rev(await c.put('/w3/a', '1'));
    const now = rev(await c.put('/w3/a', '2'));
    await c.call('KV', 'Compact', { revision: now });
    const w = watch();
    w.write({ createRequest: { key: B('/w3/a'), startRevision: old } });
    const got = await w.until(2);
    expect(brief(got[1])).toEqual({ watchId: '0', created: false, canceled: true, rev: 0, compactRevision: String(now), cancelReason: '' });
    // The stream stays usable.
    w.write({ createRequest: { key: B('/w3/a'), startRevision: now } });
    const more = await w.until(4);
    expect([more[2]?.['watchId'], events(more[3])]).toEqual(['1', ['PUT /w3/a=2']]);
  });

  it('cancel, progress_request, bad ranges and duplicate IDs', async () => {
    const w = watch();
    w.write({ progressRequest: {} }); // no watchers: etcd says nothing
    w.write({ createRequest: { key: B('/w4/b'), rangeEnd: B('/w4/a') } });
    w.write({ createRequest: { key: B('/w4/a'), watchId: 5 } });
    w.write({ createRequest: { key: B('/w4/b'), watchId: 5 } });
    w.write({ progressRequest: {} });
    w.write({ cancelRequest: { watchId: 5 } });
    w.write({ cancelRequest: { watchId: 99 } }); // unknown: no answer
    const cur = rev(await c.range('/w4/a'));
    const got = await w.until(5);
    expect(got.map(brief)).toEqual([
      { watchId: '-1', created: true, canceled: true, rev: cur, compactRevision: '0', cancelReason: 'mvcc: watcher range is empty' },
      { watchId: '5', created: true, canceled: false, rev: cur, compactRevision: '0', cancelReason: '' },
      { watchId: '-1', created: true, canceled: true, rev: cur, compactRevision: '0', cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream' },
      { watchId: '-1', created: false, canceled: false, rev: cur, compactRevision: '0', cancelReason: '' },
      { watchId: '5', created: false, canceled: true, rev: cur, compactRevision: '0', cancelReason: '' },
    ]);
    await c.put('/w4/a', 'after-cancel');
    await new Promise((r) => setTimeout(r, 100));
    expect(w.received).toHaveLength(5);
  });

  it('progress_notify sends header-only responses while a watcher is quiet', async () => {
    const w = watch();
    w.write({ createRequest: { key: B('/w5/'), progressNotify: true } });
    const got = await w.until(2, 3000);
    expect([got[1]?.['watchId'], events(got[1]), rev(got[1] as Msg)]).toEqual(['0', [], rev(await c.range('/x'))]);
  });
});

describe('Lease', () => {
  it('grants with the minimum TTL and generated IDs, or the requested ID once', async () => {
    const short = await c.call('Lease', 'LeaseGrant', { TTL: 1 });
    expect(short['TTL']).toBe('2');
    // etcd's ID generator: the member ID's low 16 bits on top.
    expect(BigInt(short['ID'] as string) >> 48n).toBe(0x694dn);
    expect((await c.call('Lease', 'LeaseGrant', { TTL: 60, ID: 77 }))['ID']).toBe('77');
    expect(await c.try('Lease', 'LeaseGrant', { TTL: 60, ID: 77 })).toEqual({ code: 9, details: 'etcdserver: lease already exists' });
    const list = await c.call('Lease', 'LeaseLeases');
    expect((list['leases'] as Msg[]).map((l) => l['ID'])).toEqual([short['ID'], '77']);
  });

  it('TimeToLive lists attached keys; an unknown lease is TTL -1, not an error', async () => {
    await c.call('Lease', 'LeaseGrant', { TTL: 60, ID: 88 });
    await c.put('/l2/b', 'x', { lease: 88 });
    await c.put('/l2/a', 'y', { lease: 88 });
    const ttl = await c.call('Lease', 'LeaseTimeToLive', { ID: 88, keys: true });
    expect([ttl['grantedTTL'], Number(ttl['TTL']) >= 59, (ttl['keys'] as Buffer[]).map(str)]).toEqual(['60', true, ['/l2/a', '/l2/b']]);
    const unknown = await c.call('Lease', 'LeaseTimeToLive', { ID: 89, keys: true });
    expect([unknown['ID'], unknown['TTL'], unknown['grantedTTL']]).toEqual(['89', '-1', '0']);
  });

  it('revoke deletes the attached keys in one revision, which watchers see as DELETEs', async () => {
    await c.call('Lease', 'LeaseGrant', { TTL: 60, ID: 99 });
    await c.put('/l3/a', '1', { lease: 99 });
    await c.put('/l3/b', '2', { lease: 99 });
    await c.put('/l3/c', '3');
    const w = watch();
    w.write({ createRequest: { key: B('/l3/'), rangeEnd: B('/l30') } });
    await w.until(1);
    const revoked = await c.call('Lease', 'LeaseRevoke', { ID: 99 });
    const got = await w.until(2);
    expect([rev(got[1] as Msg), events(got[1])]).toEqual([rev(revoked), ['DELETE /l3/a=', 'DELETE /l3/b=']]);
    expect(kvs(await c.range('/l3/', { rangeEnd: B('/l30') }))).toEqual(['/l3/c=3']);
  });

  it('expiry deletes the keys; keep-alive renews a live lease and answers TTL 0 for a gone one', async () => {
    const granted = await c.call('Lease', 'LeaseGrant', { TTL: 2 });
    const id = granted['ID'] as string;
    await c.put('/l4/a', '1', { lease: id });
    const ka = c.stream('Lease', 'LeaseKeepAlive');
    streams.push(ka);
    ka.write({ ID: id });
    ka.write({ ID: '31337' });
    const [renewed, unknown] = await ka.until(2);
    expect([renewed?.['ID'], renewed?.['TTL'], unknown?.['ID'], unknown?.['TTL']]).toEqual([id, '2', '31337', '0']);
    const w = watch();
    w.write({ createRequest: { key: B('/l4/a') } });
    const got = await w.until(2, 5000);
    expect(events(got[1])).toEqual(['DELETE /l4/a=']);
    expect(kvs(await c.range('/l4/a'))).toEqual([]);
    ka.write({ ID: id });
    expect((await ka.until(3))[2]?.['TTL']).toBe('0');
  });
});
