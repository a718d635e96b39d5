import { describe, expect, it } from 'vitest';
import { applyDeleteRange, applyPut, applyRange, applyTxn, sortKvs } from '../src/apply.js';
import { EtcdError } from '../src/errors.js';
import { spanOf } from '../src/key-span.js';
import { Lessor } from '../src/leases.js';
import { CompareResult as CR, CompareTarget as CT, SortOrder, SortTarget } from '../src/requests.js';
import type { Compare, PutRequest, RangeRequest, TxnRequest } from '../src/requests.js';
import { MvccStore, type KeyValue } from '../src/store.js';

const rangeReq = (o: Partial<RangeRequest> & { key: string }): RangeRequest => ({
  rangeEnd: '',
  limit: 0,
  revision: 0,
  sortOrder: 0,
  sortTarget: 0,
  keysOnly: false,
  countOnly: false,
  minModRevision: 0,
  maxModRevision: 0,
  minCreateRevision: 0,
  maxCreateRevision: 0,
  ...o,
});
const putReq = (key: string, value: string, o: Partial<PutRequest> = {}): PutRequest => ({
  key,
  value: Buffer.from(value),
  lease: 0n,
  prevKv: false,
  ignoreValue: false,
  ignoreLease: false,
  ...o,
});
const cmp = (key: string, target: number, result: number, operand: Compare['operand'], rangeEnd = ''): Compare => ({
  key,
  target,
  result,
  operand,
  rangeEnd,
});

/** Runs puts (one revision each) and returns the store: revisions go 2, 3, 4… */
function storeWith(...writes: ([string, string] | ['del', string])[]): MvccStore {
  const s = new MvccStore();
  for (const w of writes) {
    const txn = s.write();
    if (w[0] === 'del') txn.deleteRange({ key: w[1] });
    else txn.put(w[0], Buffer.from(w[1]), 0n);
    txn.end();
  }
  return s;
}

const brief = (kvs: readonly KeyValue[]): string[] => kvs.map((kv) => `${kv.key}=${kv.value.toString()}@${kv.createRevision}/${kv.modRevision}/v${kv.version}`);
const errKind = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof EtcdError ? e.kind : String(e);
  }
};

describe('MVCC revisions', () => {
  it('starts at revision 1 and gives every write transaction the next revision', () => {
    const s = storeWith(['a', '1'], ['b', '2'], ['a', '3']);
    expect(s.rev).toBe(4);
    expect(brief(s.range(spanOf('a', '\0'), 4).kvs)).toEqual(['a=3@2/4/v2', 'b=2@3/3/v1']);
  });

  it('keeps history: reads at an older revision see the older value, before creation nothing', () => {
    const s = storeWith(['a', '1'], ['a', '2'], ['del', 'a'], ['a', '3']);
    expect([1, 2, 3, 4, 5].map((rev) => brief(s.range(spanOf('a', ''), rev).kvs).join())).toEqual([
      '',
      'a=1@2/2/v1',
      'a=2@2/3/v2',
      '',
      // Re-created after the delete: a new generation, version back to 1.
      'a=3@5/5/v1',
    ]);
  });

  it('a transaction that changes nothing does not take a revision', () => {
    const s = storeWith(['a', '1']);
    const txn = s.write();
    expect(txn.deleteRange({ key: 'missing' })).toEqual([]);
    txn.end();
    expect(s.rev).toBe(2);
  });

  it('all writes of one transaction share a revision and later reads in it see earlier writes', () => {
    const s = storeWith(['a', '1']);
    const txn = s.write();
    txn.put('a', Buffer.from('2'), 0n);
    txn.put('b', Buffer.from('x'), 0n);
    expect(brief(txn.range(spanOf('a', 'c')).kvs)).toEqual(['a=2@2/3/v2', 'b=x@3/3/v1']);
    expect(s.range(spanOf('a', 'c'), s.rev).kvs).toHaveLength(1); // outside the txn: not yet
    txn.end();
    expect(s.rev).toBe(3);
    expect(s.eventsBetween(3, 3)[0]?.events.map((e) => `${e.type}:${e.kv.key}`)).toEqual(['put:a', 'put:b']);
  });
});

describe('key ranges (byte order, range_end forms)', () => {
  const s = storeWith(['a', '1'], ['a/x', '2'], ['a0', '3'], ['b', '4'], ['\u00ff', '5'], ['\u0001', '6']);
  it.each([
    ['single key', 'a', '', ['a']],
    ['[key, end)', 'a', 'b', ['a', 'a/x', 'a0']],
    ['prefix a/ via end a0', 'a/', 'a0', ['a/x']],
    ['"\\0" means every key >= key', 'a0', '\0', ['a0', 'b', '\u00ff']],
    ['key "\\0" + end "\\0" is everything, in byte order', '\0', '\0', ['\u0001', 'a', 'a/x', 'a0', 'b', '\u00ff']],
    ['start after end selects nothing', 'b', 'a', []],
    ['missing single key', 'zz', '', []],
  ])('%s', (_name, key, end, want) => {
    expect(s.range(spanOf(key, end), s.rev).kvs.map((kv) => kv.key)).toEqual(want);
  });
});

describe('Range options', () => {
  // a(2) b(3) c(4), then a again (5): a has version 2.
  const s = storeWith(['a', 'zz'], ['b', 'yy'], ['c', 'xx'], ['a', 'ww']);
  const all = { key: 'a', rangeEnd: 'd' };
  it.each<[string, Partial<RangeRequest>, string[], { more?: boolean; count?: number }]>([
    ['limit cuts, more and count tell the rest', { limit: 2 }, ['a', 'b'], { more: true, count: 3 }],
    ['limit equal to the matches: no more', { limit: 3 }, ['a', 'b', 'c'], { more: false, count: 3 }],
    ['sort by value ascending', { sortTarget: SortTarget.VALUE, sortOrder: SortOrder.ASCEND }, ['a', 'c', 'b'], {}],
    ['a non-key target sorts ascending when order is NONE', { sortTarget: SortTarget.MOD }, ['b', 'c', 'a'], {}],
    ['sort by create descending', { sortTarget: SortTarget.CREATE, sortOrder: SortOrder.DESCEND }, ['c', 'b', 'a'], {}],
    ['sort by key descending with a limit takes the last keys', { sortOrder: SortOrder.DESCEND, limit: 1 }, ['c'], { more: true }],
    ['an unknown sort order leaves key order', { sortOrder: 7 }, ['a', 'b', 'c'], {}],
    ['min_mod_revision filters, count does not', { minModRevision: 4 }, ['a', 'c'], { count: 3 }],
    ['max_create_revision', { maxCreateRevision: 3 }, ['a', 'b'], {}],
    ['min_create_revision + limit', { minCreateRevision: 3, limit: 1 }, ['b'], { more: true }],
    ['revision reads the past', { revision: 3 }, ['a', 'b'], { count: 2 }],
    ['count_only returns no kvs', { countOnly: true, limit: 1 }, [], { count: 3, more: false }],
  ])('%s', (_name, opts, keys, extra) => {
    const res = applyRange(s, s.rev, rangeReq({ ...all, ...opts }));
    expect(res.kvs.map((kv) => kv.key)).toEqual(keys);
    if (extra.more !== undefined) expect(res.more).toBe(extra.more);
    if (extra.count !== undefined) expect(res.count).toBe(extra.count);
    expect(res.revision).toBe(5);
  });

  it('sortKvs with an unknown target does not sort', () => {
    const kvs = s.range(spanOf('a', 'd'), 5).kvs;
    expect(sortKvs(kvs, SortOrder.ASCEND, 9)).toBe(kvs);
  });
});

describe('compaction', () => {
  const build = (): MvccStore => storeWith(['a', '1'], ['b', '1'], ['a', '2'], ['del', 'b'], ['c', '1']); // revs 2..6
  it.each([
    ['at the compaction revision still reads', 4, 4, 'ok'],
    ['below it: compacted', 4, 3, 'compacted'],
    ['above the current revision: future', 4, 7, 'futureRev'],
    ['revision 0 means current', 4, 0, 'ok'],
  ])('%s', (_name, compactAt, readAt, want) => {
    const s = build();
    s.compact(compactAt);
    expect(errKind(() => applyRange(s, s.rev, rangeReq({ key: 'a', rangeEnd: '\0', revision: readAt })))).toBe(want);
  });

  it('keeps exactly what reads at and after the compaction revision need', () => {
    const s = build();
    s.compact(5); // b's delete is at 5
    expect(brief(applyRange(s, 6, rangeReq({ key: 'a', rangeEnd: '\0', revision: 5 })).kvs)).toEqual(['a=2@2/4/v2']);
    expect(brief(applyRange(s, 6, rangeReq({ key: 'a', rangeEnd: '\0' })).kvs)).toEqual(['a=2@2/4/v2', 'c=1@6/6/v1']);
    expect(s.keyCount).toBe(2); // b is gone for good
    expect(s.eventsBetween(0, 10).map((r) => r.rev)).toEqual([5, 6]);
  });

  it.each([
    ['the same revision again', 4, 4, 'compacted'],
    ['a lower revision', 4, 3, 'compacted'],
    ['a future revision', -1, 9, 'futureRev'],
    ['revision 0 on a fresh store (etcd allows it: compactRev starts at -1)', -1, 0, 'ok'],
  ])('compact %s', (_name, first, second, want) => {
    const s = build();
    if (first >= 0) s.compact(first);
    expect(errKind(() => s.compact(second))).toBe(want);
  });

  it('survives entries() + restore() with history and the event log', () => {
    const s = build();
    s.compact(4);
    const copy = new MvccStore();
    copy.restore([...s.entries()], s.rev, s.compactRev);
    for (const rev of [4, 5, 6]) expect(brief(copy.range(spanOf('a', '\0'), rev).kvs)).toEqual(brief(s.range(spanOf('a', '\0'), rev).kvs));
    expect(copy.eventsBetween(0, 9)).toEqual(s.eventsBetween(0, 9));
    expect(copy.rev).toBe(6);
  });
});

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
