import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdServer, type RunningEtcd } from '../src/server.js';
import { EtcdClient, kvs, type Msg } from './etcd-client.js';

let etcd: RunningEtcd;
let c: EtcdClient;
beforeAll(async () => {
  etcd = await startEtcdServer({ dataDir: mkdtempSync(join(tmpdir(), 'etcd-sim-kv-')), maxRequestBytes: 64 * 1024 });
  c = new EtcdClient(`127.0.0.1:${etcd.port}`);
});
afterAll(async () => {
  c.close();
  await etcd.close();
});

const B = (s: string): Buffer => Buffer.from(s);
const rev = (res: Msg): number => Number((res['header'] as Msg)['revision']);
let n = 0;
/** A fresh key prefix per test, so tests do not see each other's keys. */
const fresh = (): string => `/t${n++}/`;

describe('KV over gRPC', () => {
  it('every response carries the full header: cluster, member, current revision, raft term', async () => {
    const put = await c.put('/hdr', 'v');
    const got = await c.range('/hdr');
    expect(got['header']).toEqual({ clusterId: '14841639068965178418', memberId: '10276657743932975437', revision: String(rev(put)), raftTerm: '2' });
    const status = await c.call('Maintenance', 'Status');
    expect(status['header']).toEqual(got['header']);
  });

  it('Range paging: limit returns the first keys, more and count tell the rest', async () => {
    const p = fresh();
    for (const k of ['a', 'b', 'c', 'd']) await c.put(p + k, k.toUpperCase());
    const page = await c.range(p, { rangeEnd: B(p.slice(0, -1) + '0'), limit: 3 });
    expect([kvs(page), page['more'], page['count']]).toEqual([[`${p}a=A`, `${p}b=B`, `${p}c=C`], true, '4']);
    const next = await c.range(p + 'c\0', { rangeEnd: B(p.slice(0, -1) + '0'), limit: 3 });
    expect([kvs(next), next['more'], next['count']]).toEqual([[`${p}d=D`], false, '1']);
    const keysOnly = await c.range(p, { rangeEnd: B(p.slice(0, -1) + '0'), keysOnly: true, limit: 1 });
    expect(kvs(keysOnly)).toEqual([`${p}a=`]);
    const counted = await c.range(p, { rangeEnd: B(p.slice(0, -1) + '0'), countOnly: true });
    expect([kvs(counted), counted['count']]).toEqual([[], '4']);
  });

  it('reads at an older revision, and reports compacted and future revisions like etcd', async () => {
    const p = fresh();
    const r1 = rev(await c.put(p + 'k', 'one'));
    const r2 = rev(await c.put(p + 'k', 'two'));
    expect(kvs(await c.range(p + 'k', { revision: r1 }))).toEqual([`${p}k=one`]);
    expect(kvs(await c.range(p + 'k', { revision: r1 - 1 }))).toEqual([]);
    expect(await c.try('KV', 'Range', { key: B(p + 'k'), revision: r2 + 100 })).toEqual({
      code: status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision is a future revision',
    });
    await c.call('KV', 'Compact', { revision: r2 });
    expect(await c.try('KV', 'Range', { key: B(p + 'k'), revision: r1 })).toEqual({
      code: status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
    expect(kvs(await c.range(p + 'k', { revision: r2 }))).toEqual([`${p}k=two`]);
    expect(await c.try('KV', 'Compact', { revision: r2 })).toMatchObject({ code: status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' });
    expect(await c.try('KV', 'Compact', { revision: r2 + 1000 })).toMatchObject({ code: status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision is a future revision' });
  });

  it('DeleteRange returns deleted and prev_kvs; deleting nothing keeps the revision', async () => {
    const p = fresh();
    await c.put(p + 'a', '1');
    const last = rev(await c.put(p + 'b', '2'));
    const none = await c.call('KV', 'DeleteRange', { key: B(p + 'zz') });
    expect([none['deleted'], rev(none)]).toEqual(['0', last]);
    const del = await c.call('KV', 'DeleteRange', { key: B(p), rangeEnd: B(p + '\xff'), prevKv: true });
    expect([del['deleted'], kvs({ kvs: del['prevKvs'] }), rev(del)]).toEqual(['2', [`${p}a=1`, `${p}b=2`], last + 1]);
  });

  it("Txn: the apiserver's create, update and conflict, with one revision for all writes", async () => {
    const p = fresh();
    const key = B(p + 'pod');
    const create = { compare: [{ key, target: 2, result: 0, modRevision: 0 }], success: [{ requestPut: { key, value: B('v1') } }], failure: [{ requestRange: { key } }] };
    const created = await c.call('KV', 'Txn', create);
    expect(created['succeeded']).toBe(true);
    const again = await c.call('KV', 'Txn', create);
    expect(again['succeeded']).toBe(false);
    const failed = (again['responses'] as Msg[])[0]?.['responseRange'] as Msg;
    expect(kvs(failed)).toEqual([`${p}pod=v1`]);
    expect(failed['header']).toEqual({ clusterId: '0', memberId: '0', revision: String(rev(created)), raftTerm: '0' });

    const update = await c.call('KV', 'Txn', {
      compare: [{ key, target: 2, result: 0, modRevision: rev(created) }],
      success: [{ requestPut: { key, value: B('v2') } }, { requestPut: { key: B(p + 'other'), value: B('x') } }, { requestRange: { key: B(p), rangeEnd: B(p + '\xff') } }],
    });
    const inTxn = (update['responses'] as Msg[])[2]?.['responseRange'] as Msg;
    expect([update['succeeded'], rev(update), kvs(inTxn)]).toEqual([true, rev(created) + 1, [`${p}other=x`, `${p}pod=v2`]]);
    const stale = await c.call('KV', 'Txn', { compare: [{ key, target: 2, result: 0, modRevision: rev(created) }], success: [{ requestDeleteRange: { key } }] });
    expect([stale['succeeded'], rev(stale)]).toEqual([false, rev(update)]);
  });

  it('Txn compares on VALUE, VERSION, CREATE and LEASE with each result operator', async () => {
    const p = fresh();
    const key = B(p + 'k');
    const put = await c.put(p + 'k', 'b');
    const cases: [Msg, boolean][] = [
      [{ target: 3, result: 0, value: B('b') }, true],
      [{ target: 3, result: 1, value: B('a') }, true],
      [{ target: 3, result: 2, value: B('a') }, false],
      [{ target: 0, result: 0, version: 1 }, true],
      [{ target: 0, result: 3, version: 1 }, false],
      [{ target: 1, result: 0, createRevision: rev(put) }, true],
      [{ target: 4, result: 0, lease: 0 }, true],
    ];
    for (const [cmp, want] of cases) {
      const res = await c.call('KV', 'Txn', { compare: [{ key, ...cmp }] });
      expect([cmp, res['succeeded']]).toEqual([cmp, want]);
    }
  });
});

describe('Maintenance', () => {
  it('Status, Alarm and MemberList describe the one member; HashKV follows the data; Defragment keeps it', async () => {
    const st = await c.call('Maintenance', 'Status');
    expect([st['version'], st['leader'], st['raftIndex'] === st['raftAppliedIndex'], st['errors'], st['isLearner']]).toEqual(['3.5.21', '10276657743932975437', true, [], false]);
    expect(Number(st['dbSize'])).toBeGreaterThan(0);
    expect((await c.call('Maintenance', 'Alarm'))['alarms']).toEqual([]);
    const members = await c.call('Cluster', 'MemberList');
    expect(members['members']).toEqual([{ ID: '10276657743932975437', name: 'default', peerURLs: ['http://localhost:2380'], clientURLs: [`http://127.0.0.1:${etcd.port}`], isLearner: false }]);
    expect((members['header'] as Msg)['revision']).toBe('0');

    const before = await c.call('Maintenance', 'HashKV', { revision: 0 });
    expect(await c.call('Maintenance', 'Defragment')).toEqual({ header: null });
    expect((await c.call('Maintenance', 'HashKV', { revision: 0 }))['hash']).toBe(before['hash']);
    await c.put('/hash', 'changes it');
    expect((await c.call('Maintenance', 'HashKV', { revision: rev(before) }))['hash']).toBe(before['hash']);
    expect((await c.call('Maintenance', 'HashKV', { revision: 0 }))['hash']).not.toBe(before['hash']);
    expect(kvs(await c.range('/hdr'))).toEqual(['/hdr=v']);
  });
});

describe('bad input gets etcd’s code and message, and the server keeps serving', () => {
  const big = Buffer.alloc(70 * 1024, 1);
  const ops129 = Array.from({ length: 129 }, (_, i) => ({ requestRange: { key: B(`k${i}`) } }));
  it.each<[string, string, string, Msg, number, string]>([
    ['Range with no key', 'KV', 'Range', {}, status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
    ['Put with no key', 'KV', 'Put', { value: B('x') }, status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
    ['DeleteRange with no key', 'KV', 'DeleteRange', {}, status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
    ['Put ignore_value with a value', 'KV', 'Put', { key: B('k'), value: B('x'), ignoreValue: true }, status.INVALID_ARGUMENT, 'etcdserver: value is provided'],
    ['Put ignore_lease with a lease', 'KV', 'Put', { key: B('k'), lease: 5, ignoreLease: true }, status.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
    ['Put ignore_value on a missing key', 'KV', 'Put', { key: B('missing'), ignoreValue: true }, status.INVALID_ARGUMENT, 'etcdserver: key not found'],
    ['Put with an unknown lease', 'KV', 'Put', { key: B('k'), lease: 12345 }, status.NOT_FOUND, 'etcdserver: requested lease not found'],
    ['Put larger than --max-request-bytes', 'KV', 'Put', { key: B('k'), value: big }, status.INVALID_ARGUMENT, 'etcdserver: request is too large'],
    ['Txn compare with no key', 'KV', 'Txn', { compare: [{ target: 0 }] }, status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
    ['Txn with an empty op', 'KV', 'Txn', { success: [{}] }, status.INVALID_ARGUMENT, 'etcdserver: key not found'],
    ['Txn with 129 ops', 'KV', 'Txn', { success: ops129 }, status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
    ['Txn putting a key twice', 'KV', 'Txn', { success: [{ requestPut: { key: B('d') } }, { requestPut: { key: B('d') } }] }, status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
    ['Txn putting a key it deletes', 'KV', 'Txn', { success: [{ requestPut: { key: B('d') } }, { requestDeleteRange: { key: B('a'), rangeEnd: B('z') } }] }, status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
    ['nested Txn putting a key the outer one puts', 'KV', 'Txn', { success: [{ requestPut: { key: B('d') } }, { requestTxn: { success: [{ requestPut: { key: B('d') } }] } }] }, status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
    ['LeaseRevoke of an unknown lease', 'Lease', 'LeaseRevoke', { ID: 424242 }, status.NOT_FOUND, 'etcdserver: requested lease not found'],
    ['LeaseGrant with a TTL over 9e9 s', 'Lease', 'LeaseGrant', { TTL: '9000000001' }, status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
    ['an RPC the simulator does not model', 'Cluster', 'MemberAdd', { peerURLs: ['http://10.0.0.2:2380'] }, status.UNIMPLEMENTED, 'etcd-sim does not implement etcdserverpb.Cluster/MemberAdd'],
    ['raising an alarm', 'Maintenance', 'Alarm', { action: 1, alarm: 1 }, status.UNIMPLEMENTED, 'etcd-sim: activating or deactivating alarms is not supported'],
  ])('%s', async (_name, service, method, req, code, details) => {
    expect(await c.try(service, method, req)).toEqual({ code, details });
    expect(kvs(await c.range('/hdr'))).toEqual(['/hdr=v']);
  });

  it('a then/else pair putting the same key is allowed (only one branch runs)', async () => {
    const res = await c.call('KV', 'Txn', { success: [{ requestTxn: { success: [{ requestPut: { key: B('/both'), value: B('1') } }], failure: [{ requestPut: { key: B('/both'), value: B('2') } }] } }] });
    expect(res['succeeded']).toBe(true);
  });
});
