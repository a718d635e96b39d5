import { existsSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyValue } from './store.js';
import { fsyncDir } from './wal.js';

/**
 * A full copy of the member's state at one point of the WAL, so the WAL can
 * be cut there. JSON lines: a header, one line per stored key version
 * (history included, so reads at old revisions survive a restart), and an
 * end line that proves the file is complete. It is written to a temporary
 * file, synced and renamed over the old one, so a crash leaves either the
 * old snapshot or the new one, never half of one.
 */

export const SNAPSHOT_FILE = 'snapshot.jsonl';

export interface SnapshotMeta {
  readonly rev: number;
  readonly compactRev: number;
  readonly raftIndex: number;
  readonly term: number;
  /** The first WAL segment not covered by this snapshot. */
  readonly walSeq: number;
  readonly leases: readonly { readonly id: bigint; readonly ttl: number }[];
}

type JsonKv = [string, number, number, number, string, string];

/** Serialises synchronously, so the state cannot change half-way. */
export function encodeSnapshot(meta: SnapshotMeta, entries: Iterable<KeyValue>): Buffer[] {
  const chunks: Buffer[] = [];
  let lines: string[] = [
    JSON.stringify({ ...meta, leases: meta.leases.map((l) => [l.id.toString(), l.ttl]) }),
  ];
  let count = 0;
  for (const kv of entries) {
    const j: JsonKv = [
      Buffer.from(kv.key, 'latin1').toString('base64'),
      kv.createRevision,
      kv.modRevision,
      kv.version,
      kv.value.toString('base64'),
      kv.lease.toString(),
    ];
    lines.push(JSON.stringify(j));
    count++;
    if (lines.length >= 4096) {
      chunks.push(Buffer.from(lines.join('\n') + '\n'));
      lines = [];
    }
  }
  lines.push(JSON.stringify({ end: count }));
  chunks.push(Buffer.from(lines.join('\n') + '\n'));
  return chunks;
}

export function decodeSnapshot(data: string): { meta: SnapshotMeta; entries: KeyValue[] } {
  const lines = data.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const head = JSON.parse(lines[0] ?? 'null') as (Omit<SnapshotMeta, 'leases'> & { leases: [string, number][] }) | null;
  const tail = JSON.parse(lines[lines.length - 1] ?? 'null') as { end?: number } | null;
  if (!head || typeof head.rev !== 'number' || tail?.end !== lines.length - 2) {
    throw new Error('snapshot: file is incomplete or not an etcd-sim snapshot');
  }
  const entries = lines.slice(1, -1).map((line): KeyValue => {
    const [key, createRevision, modRevision, version, value, lease] = JSON.parse(line) as JsonKv;
    return {
      key: Buffer.from(key, 'base64').toString('latin1'),
      createRevision,
      modRevision,
      version,
      value: Buffer.from(value, 'base64'),
      lease: BigInt(lease),
    };
  });
  const meta: SnapshotMeta = { ...head, leases: head.leases.map(([id, ttl]) => ({ id: BigInt(id), ttl })) };
  return { meta, entries };
}

export function readSnapshot(dir: string): { meta: SnapshotMeta; entries: KeyValue[] } | undefined {
  const path = join(dir, SNAPSHOT_FILE);
  if (!existsSync(path)) return undefined;
  return decodeSnapshot(readFileSync(path, 'utf8'));
}

export async function writeSnapshot(dir: string, chunks: readonly Buffer[], fsync: boolean): Promise<number> {
  const tmp = join(dir, `${SNAPSHOT_FILE}.tmp`);
  const fh = await open(tmp, 'w');
  let size = 0;
  try {
    for (const c of chunks) {
      for (let off = 0; off < c.length; ) off += (await fh.write(c, off)).bytesWritten;
      size += c.length;
    }
    if (fsync) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, SNAPSHOT_FILE));
  if (fsync) fsyncDir(dir);
  return size;
}
