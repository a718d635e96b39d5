import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Backend } from '../src/backend.js';
import { decodeRecord, encodeRecord, type WalRecord } from '../src/records.js';
import { decodeSnapshot, encodeSnapshot } from '../src/snapshot.js';
import type { PutRequest, RangeRequest } from '../src/requests.js';
import { decodeFrames, encodeFrame, readLog, segmentName, Wal } from '../src/wal.js';
import { putReq, rangeReq } from './store-fixtures.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'etcd-sim-persist-'));
const noWarn = (): void => {};

describe('WAL records', () => {
  it.each<[string, WalRecord]>([
    ['txn with binary keys and values', { type: 'txn', rev: 7, ops: [{ put: '\u0000\u00ff/k', value: Buffer.from([0, 1, 255]), lease: -3n }, { del: 'gone' }] }],
    ['txn that changed nothing', { type: 'txn', rev: 7, ops: [] }],
    ['lease grant with a 63-bit ID', { type: 'lease-grant', id: 0x694d77aa9e38260fn, ttl: 9_000_000_000 }],
    ['lease revoke', { type: 'lease-revoke', id: 5n, rev: 9, ops: [{ del: 'a' }] }],
    ['compact', { type: 'compact', rev: 3 }],
    ['start', { type: 'start', term: 4 }],
  ])('%s round-trips', (_name, r) => {
    expect(decodeRecord(encodeRecord(r))).toEqual(r);
  });

  it.each([['{"t":"nope"}'], ['{"t":"compact","rev":"3"}'], ['not json']])('rejects %s', (raw) => {
    expect(() => decodeRecord(Buffer.from(raw))).toThrow();
  });
});

describe('WAL frames', () => {
  const frames = Buffer.concat(['one', 'two', 'three'].map((s) => encodeFrame(Buffer.from(s))));
  it.each([
    ['whole log', frames.length, ['one', 'two', 'three']],
    ['torn in the last payload', frames.length - 2, ['one', 'two']],
    ['torn in the last header', 11 + 11 + 4, ['one', 'two']],
    ['cut exactly between frames', 11, ['one']],
    ['empty', 0, []],
  ])('%s', (_name, cut, want) => {
    const { payloads, validBytes } = decodeFrames(frames.subarray(0, cut));
    expect(payloads.map(String)).toEqual(want);
    expect(validBytes).toBe(want.reduce((n, s) => n + 8 + s.length, 0));
  });

  it('a flipped byte ends the log at that frame', () => {
    const bad = Buffer.from(frames);
    bad.writeUInt8(bad.readUInt8(11 + 8) ^ 0xff, 11 + 8); // first byte of "two"
    expect(decodeFrames(bad).payloads.map(String)).toEqual(['one']);
  });

  it('readLog cuts a torn tail off the last segment, but refuses damage in an older one', () => {
    const dir = tmp();
    writeFileSync(join(dir, segmentName(1)), frames.subarray(0, frames.length - 1));
    expect(readLog(dir, 1, noWarn).map(String)).toEqual(['one', 'two']);
    expect(readFileSync(join(dir, segmentName(1))).length).toBe(22); // truncated on disk
    writeFileSync(join(dir, segmentName(2)), encodeFrame(Buffer.from('four')));
    expect(readLog(dir, 1, noWarn).map(String)).toEqual(['one', 'two', 'four']);
    appendFileSync(join(dir, segmentName(1)), 'garbage');
    expect(() => readLog(dir, 1, noWarn)).toThrow(/corrupt/);
    expect(readLog(dir, 2, noWarn).map(String)).toEqual(['four']);
  });

  it('group commit: concurrent appends share write + fdatasync rounds, and all land in order', async () => {
    const dir = tmp();
    const wal = await Wal.open(dir, 1, { fsync: true, onError: (e) => { throw e; } });
    await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append(Buffer.from(`r${i}`))));
    expect(wal.flushes).toBeLessThan(20);
    const next = wal.rotate();
    await wal.append(Buffer.from('after'));
    await wal.close();
    expect(readLog(dir, 1, noWarn).map(String)).toEqual([...Array.from({ length: 200 }, (_, i) => `r${i}`), 'after']);
    expect(readLog(dir, next, noWarn).map(String)).toEqual(['after']);
  });
});

describe('snapshot file', () => {
  it('refuses a file without its end line (a torn write)', () => {
    const text = Buffer.concat(encodeSnapshot({ rev: 3, compactRev: -1, raftIndex: 9, term: 2, walSeq: 2, leases: [{ id: 5n, ttl: 10 }] }, [])).toString();
    expect(decodeSnapshot(text).meta).toMatchObject({ rev: 3, walSeq: 2, leases: [{ id: 5n, ttl: 10 }] });
    expect(() => decodeSnapshot(text.split('\n')[0] ?? '')).toThrow(/incomplete/);
  });
});

const put = (key: string, value: string, lease = 0n): PutRequest => putReq(key, value, { lease });
const range = (key: string, revision = 0): RangeRequest => rangeReq({ key, rangeEnd: '\0', revision });
const open = (dataDir: string, snapshotCount = 100_000): Promise<Backend> =>
  Backend.open({ dataDir, fsync: true, snapshotCount, memberId: 0x8e9e05c52164694dn, log: () => {}, onFatal: (e) => { throw e; } });
const dump = (b: Backend, rev = 0): string[] => b.range(range('\0', rev)).kvs.map((kv) => `${kv.key}=${kv.value.toString()}@${kv.modRevision}/v${kv.version}/l${kv.lease}`);

describe('Backend recovery', () => {
  it.each([
    ['from the WAL alone', 100_000],
    ['from snapshots plus the WAL after them', 5],
  ])('restores keys, history, compaction, leases, revision, raft index and term %s', async (_name, snapshotCount) => {
    const dir = tmp();
    const a = await open(dir, snapshotCount);
    expect([a.rev, a.raftIndex, a.term]).toEqual([1, 4, 2]); // a fresh etcd member
    const lease = await a.leaseGrant(0n, 600);
    for (let i = 0; i < 12; i++) await a.put(put(`k${i % 4}`, `v${i}`, i === 11 ? lease.id : 0n));
    await a.deleteRange({ key: 'k0', rangeEnd: '', prevKv: false });
    await a.compact(6);
    const before = { rev: a.rev, index: a.raftIndex, now: dump(a), at8: dump(a, 8), keys: [...(a.lessor.get(lease.id)?.keys ?? [])] };
    await a.close();

    const b = await open(dir, snapshotCount);
    expect({ rev: b.rev, index: b.raftIndex, now: dump(b), at8: dump(b, 8), keys: [...(b.lessor.get(lease.id)?.keys ?? [])] }).toEqual({
      ...before,
      index: before.index + 2, // the restart's empty entry and attribute publish
    });
    expect(b.term).toBe(3);
    expect(() => b.range(range('\0', 5))).toThrow(/compacted/);
    expect(b.store.eventsBetween(6, 99).map((r) => r.rev)).toEqual(a.store.eventsBetween(6, 99).map((r) => r.rev));
    await b.close();
    if (snapshotCount < 100) {
      expect(readdirSync(dir)).toContain('snapshot.jsonl');
      expect(readdirSync(join(dir, 'wal')).length).toBeLessThanOrEqual(2);
    }
  });

  it('a second process on the same data dir is refused', async () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`);
    await expect(open(dir)).rejects.toThrow(`in use by process ${process.ppid}`);
  });
});
