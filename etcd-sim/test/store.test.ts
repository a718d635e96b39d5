import { describe, expect, it } from 'vitest';
import { applyRange, sortKvs } from '../src/apply.js';
import { spanOf } from '../src/key-span.js';
import { SortOrder, SortTarget, type RangeRequest } from '../src/requests.js';
import { MvccStore } from '../src/store.js';
import { brief, errKind, rangeReq, storeWith } from './store-fixtures.js';

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
