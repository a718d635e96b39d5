import { describe, expect, it } from 'vitest';
import { inSpan, keyOf, prefixEnd, SortedKeys, spanOf } from '../src/key-span.js';

describe('key spans', () => {
  it.each([
    ['/registry/pods/', '/registry/pods0'],
    ['a\u00ff', 'b'],
    ['\u00ff\u00ff', '\0'],
    ['', '\0'],
  ])('prefixEnd(%j) = %j', (prefix, want) => {
    expect(prefixEnd(prefix)).toBe(want);
  });

  it.each([
    ['a', '', 'a', true],
    ['a', '', 'ab', false],
    ['a', 'c', 'b', true],
    ['a', 'c', 'c', false],
    ['a', '\0', '\u00ff', true],
    ['b', '\0', 'a', false],
  ])('[%j, %j) contains %j: %s', (key, end, k, want) => {
    expect(inSpan(spanOf(key, end), k)).toBe(want);
  });

  it('keyOf keeps bytes ≥ 0x80 as one char each, so string order is byte order', () => {
    const k = keyOf(Buffer.from([0x61, 0xc3, 0xa9, 0xff]));
    expect([k.length, k.charCodeAt(1), k < keyOf(Buffer.from([0x62]))]).toEqual([4, 0xc3, true]);
  });
});

describe('SortedKeys', () => {
  it('scans in order across merged inserts and removals', () => {
    const s = new SortedKeys();
    for (const k of ['m', 'c', 'x']) s.add(k);
    expect([...s.scan({ key: 'a', end: null })]).toEqual(['c', 'm', 'x']);
    for (const k of ['a', 'n', 'c']) s.add(k);
    s.removeAll(new Set(['m']));
    expect([...s.scan({ key: 'b', end: 'x' })]).toEqual(['c', 'n']);
    expect([...s.scan({ key: 'n' })]).toEqual(['n']);
    expect(s.size).toBe(4);
  });
});
