import { describe, expect, it } from 'vitest';
import { applyDeleteRange, applyPut, applyTxn } from '../src/apply.js';
import { Lessor } from '../src/leases.js';
import { CompareResult as CR, CompareTarget as CT, type Compare, type PutRequest, type RangeRequest, type TxnRequest } from '../src/requests.js';
import { MvccStore } from '../src/store.js';
import { brief, cmp, errKind, putReq, rangeReq, storeWith } from './store-fixtures.js';

describe('Put and DeleteRange', () => {
  const lessor = new Lessor(() => 0);
  lessor.grant(7n, 60);

  it.each<[string, PutRequest, string]>([
    ['ignore_value on a missing key', putReq('missing', '', { ignoreValue: true }), 'keyNotFound'],
    ['ignore_lease on a missing key', putReq('missing', 'x', { ignoreLease: true }), 'keyNotFound'],
    ['unknown lease', putReq('a', 'x', { lease: 99n }), 'leaseNotFound'],
    ['known lease', putReq('a', 'x', { lease: 7n }), 'ok'],
  ])('%s → %s', (_name, req, want) => {
    const s = storeWith(['a', '1']);
    const txn = s.write();
    expect(errKind(() => applyPut(txn, req, lessor))).toBe(want);
  });

  it('ignore_value keeps the value and prev_kv returns the old version', () => {
    const s = storeWith(['a', 'old']);
    const txn = s.write();
    const res = applyPut(txn, putReq('a', '', { ignoreValue: true, prevKv: true, lease: 7n }), lessor);
    txn.end();
    expect(brief(res.prevKv ? [res.prevKv] : [])).toEqual(['a=old@2/2/v1']);
    expect(res.revision).toBe(3);
    expect(s.get('a', 3)?.value.toString()).toBe('old');
    expect(s.get('a', 3)?.lease).toBe(7n);
  });

  it('DeleteRange reports deleted, prev_kvs and the revision (unchanged when nothing went)', () => {
    const s = storeWith(['a', '1'], ['b', '2']);
    let txn = s.write();
    expect(applyDeleteRange(txn, { key: 'x', rangeEnd: '', prevKv: true })).toEqual({ revision: 3, deleted: 0, prevKvs: [] });
    txn.end();
    txn = s.write();
    const res = applyDeleteRange(txn, { key: 'a', rangeEnd: 'c', prevKv: true });
    txn.end();
    expect([res.revision, res.deleted, brief(res.prevKvs)]).toEqual([4, 2, ['a=1@2/2/v1', 'b=2@3/3/v1']]);
    expect(s.eventsBetween(4, 4)[0]?.events.map((e) => [e.type, e.kv.key, e.kv.modRevision, e.kv.createRevision])).toEqual([
      ['delete', 'a', 4, 0],
      ['delete', 'b', 4, 0],
    ]);
  });
});

describe('Txn', () => {
  const lessor = new Lessor(() => 0);
  lessor.grant(7n, 60);
  // a=1 created at 2, modified at 4 (version 2); b=x at 3 with lease 7.
  const build = (): MvccStore => {
    const s = new MvccStore(lessor);
    for (const [k, v, l] of [['a', '0', 0n], ['b', 'x', 7n], ['a', '1', 0n]] as const) {
      const t = s.write();
      t.put(k, Buffer.from(v), l);
      t.end();
    }
    return s;
  };
  const put = (k: string, v: string): TxnRequest['success'][number] => ({ put: putReq(k, v) });
  const get = (k: string, o: Partial<RangeRequest> = {}): TxnRequest['success'][number] => ({ range: rangeReq({ key: k, ...o }) });

  it.each<[string, Compare, boolean]>([
    ['mod = 4', cmp('a', CT.MOD, CR.EQUAL, 4), true],
    ['mod = 3', cmp('a', CT.MOD, CR.EQUAL, 3), false],
    ['mod of a missing key = 0 (the apiserver create)', cmp('nope', CT.MOD, CR.EQUAL, 0), true],
    ['version > 1', cmp('a', CT.VERSION, CR.GREATER, 1), true],
    ['version < 2', cmp('a', CT.VERSION, CR.LESS, 2), false],
    ['create != 2', cmp('a', CT.CREATE, CR.NOT_EQUAL, 2), false],
    ['value = "1"', cmp('a', CT.VALUE, CR.EQUAL, Buffer.from('1')), true],
    ['value > "0"', cmp('a', CT.VALUE, CR.GREATER, Buffer.from('0')), true],
    ['value of a missing key never matches, even ""', cmp('nope', CT.VALUE, CR.EQUAL, Buffer.alloc(0)), false],
    ['value != "" on a missing key fails too', cmp('nope', CT.VALUE, CR.NOT_EQUAL, Buffer.alloc(0)), false],
    ['lease = 7', cmp('b', CT.LEASE, CR.EQUAL, 7n), true],
    ['lease = 0 on a key without one', cmp('a', CT.LEASE, CR.EQUAL, 0n), true],
    ['no operand compares against 0', cmp('nope', CT.VERSION, CR.EQUAL, undefined), true],
    ['range_end: every key in [a, c) has version >= 1', cmp('a', CT.VERSION, CR.GREATER, 0, 'c'), true],
    ['range_end: not every key in [a, c) has mod > 3', cmp('a', CT.MOD, CR.GREATER, 3, 'c'), false],
  ])('compare %s → %s', (_name, c, want) => {
    const s = build();
    const { result } = applyTxn(s, s.rev, { compare: [c], success: [], failure: [] }, lessor);
    expect(result.succeeded).toBe(want);
  });

  it('runs the failure branch when any compare fails; reads in it see earlier writes of the same revision', () => {
    const s = build();
    const { result, write } = applyTxn(
      s,
      s.rev,
      { compare: [cmp('a', CT.MOD, CR.EQUAL, 4), cmp('a', CT.VALUE, CR.EQUAL, Buffer.from('no'))], success: [put('x', '1')], failure: [put('t', 'v'), get('t'), { deleteRange: { key: 'b', rangeEnd: '', prevKv: false } }, get('b')] },
      lessor,
    );
    write?.end();
    expect(result.succeeded).toBe(false);
    expect(result.revision).toBe(5);
    expect(result.responses.map((r) => ('range' in r ? `range@${r.range.revision}:${r.range.count}` : 'put' in r ? `put@${r.put.revision}` : 'deleteRange' in r ? `del@${r.deleteRange.revision}:${r.deleteRange.deleted}` : '?'))).toEqual([
      'put@5',
      'range@5:1',
      'del@5:1',
      'range@5:0',
    ]);
    expect(s.rev).toBe(5);
    expect(lessor.get(7n)?.keys.has('b')).toBe(false); // deleting b detached it from its lease
  });

  it('a read-only txn reads at the given current revision and writes nothing', () => {
    const s = build();
    const { result, write } = applyTxn(s, 3, { compare: [], success: [get('a')], failure: [] }, lessor);
    expect(write).toBeUndefined();
    expect(result.revision).toBe(3);
    const r = result.responses[0];
    expect(r && 'range' in r ? brief(r.range.kvs) : []).toEqual(['a=0@2/2/v1']);
  });

  it('nested txns: compares see the state before the outer writes; the nested header revision is 0', () => {
    const s = build();
    const nested: TxnRequest = { compare: [cmp('n', CT.VERSION, CR.EQUAL, 0)], success: [put('m', 'yes')], failure: [put('m', 'no')] };
    const { result, write } = applyTxn(s, s.rev, { compare: [], success: [put('n', '1'), { txn: nested }], failure: [] }, lessor);
    write?.end();
    expect(s.get('m', s.rev)?.value.toString()).toBe('yes');
    const inner = result.responses[1];
    expect(inner && 'txn' in inner ? [inner.txn.succeeded, inner.txn.revision] : []).toEqual([true, 0]);
  });

  it.each<[string, TxnRequest, string]>([
    ['put with an unknown lease', { compare: [], success: [{ put: putReq('a', 'x', { lease: 5n }) }], failure: [] }, 'leaseNotFound'],
    ['ignore_value on a missing key', { compare: [], success: [{ put: putReq('zz', '', { ignoreValue: true }) }], failure: [] }, 'keyNotFound'],
    ['a range at a future revision', { compare: [], success: [put('q', '1'), get('q', { revision: 99 })], failure: [] }, 'futureRev'],
    ['checks only the branch that runs', { compare: [cmp('a', CT.MOD, CR.EQUAL, 1)], success: [get('q', { revision: 99 })], failure: [] }, 'ok'],
  ])('%s → %s, and nothing is written', (_name, t, want) => {
    const s = build();
    expect(errKind(() => applyTxn(s, s.rev, t, lessor).write?.end())).toBe(want);
    expect(s.rev).toBe(4);
    expect(s.get('q', 5)).toBeUndefined();
  });
});
