import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The write-ahead log: every change is appended, and fdatasync'ed, before
 * the client hears "ok", so a crash loses nothing acknowledged. Appends that
 * arrive while a flush is on disk are written and synced together in the
 * next flush (group commit), so concurrent writers share one fdatasync.
 *
 * Files are segments named by a 16-hex-digit sequence number; a snapshot
 * records the segment replay starts from, and older ones are deleted.
 * A frame is [u32 length][u32 crc32][payload], little-endian.
 */

const HEADER = 8;
const SEGMENT = /^([0-9a-f]{16})\.wal$/;

export const segmentName = (seq: number): string => `${seq.toString(16).padStart(16, '0')}.wal`;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, HEADER);
  return frame;
}

/** The payloads of a segment and the length of its valid prefix (a torn tail ends it). */
export function decodeFrames(data: Buffer): { payloads: Buffer[]; validBytes: number } {
  const payloads: Buffer[] = [];
  let off = 0;
  while (off + HEADER <= data.length) {
    const len = data.readUInt32LE(off);
    const end = off + HEADER + len;
    if (end > data.length) break;
    const payload = data.subarray(off + HEADER, end);
    if (crc32(payload) !== data.readUInt32LE(off + 4)) break;
    payloads.push(payload);
    off = end;
  }
  return { payloads, validBytes: off };
}

export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => SEGMENT.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map((s) => parseInt(s, 16))
    .sort((a, b) => a - b);
}

/**
 * Reads every record from segment `fromSeq` on. A torn frame at the end of
 * the last segment is what a crash mid-append leaves: it was never
 * acknowledged, so it is cut off. Damage anywhere else is corruption.
 */
export function readLog(dir: string, fromSeq: number, warn: (msg: string, fields: object) => void): Buffer[] {
  const segs = listSegments(dir).filter((s) => s >= fromSeq);
  const out: Buffer[] = [];
  segs.forEach((seq, i) => {
    const path = join(dir, segmentName(seq));
    const data = readFileSync(path);
    const { payloads, validBytes } = decodeFrames(data);
    out.push(...payloads);
    if (validBytes === data.length) return;
    if (i !== segs.length - 1) throw new Error(`wal: segment ${segmentName(seq)} is corrupt at offset ${validBytes}`);
    warn('truncating torn tail of the WAL', { file: path, 'valid-bytes': validBytes, 'file-bytes': data.length });
    truncateSync(path, validBytes);
  });
  return out;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

type Item = { frame: Buffer; done: () => void; fail: (e: Error) => void } | { rotateTo: number };

export class Wal {
  private queue: Item[] = [];
  private flushing = false;
  private broken: Error | undefined;
  private tail: Promise<void> = Promise.resolve();
  /** Bytes appended since the last rotation. */
  bytesSinceRotate = 0;
  /** Write + fdatasync rounds so far: fewer than appends when group commit works. */
  flushes = 0;

  private constructor(
    private readonly dir: string,
    private fh: FileHandle,
    private seq: number,
    private readonly fsync: boolean,
    private readonly onError: (e: Error) => void,
  ) {}

  /** Opens segment `seq` for appending (creating it if needed). */
  static async open(dir: string, seq: number, opts: { fsync: boolean; onError: (e: Error) => void }): Promise<Wal> {
    const fh = await open(join(dir, segmentName(seq)), 'a');
    fsyncDir(dir);
    return new Wal(dir, fh, seq, opts.fsync, opts.onError);
  }

  get segment(): number {
    return this.seq;
  }

  /** Appends a record; resolves once it is on disk. */
  append(payload: Buffer): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const frame = encodeFrame(payload);
    this.bytesSinceRotate += frame.length;
    const p = new Promise<void>((done, fail) => this.queue.push({ frame, done, fail }));
    this.tail = p.catch(() => {});
    this.kick();
    return p;
  }

  /** Resolves once everything appended so far is on disk (or failed). */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Later appends go to a new segment; returns its number. Everything before stays in the old ones. */
  rotate(): number {
    const next = this.seq + 1 + this.queue.filter((i) => 'rotateTo' in i).length;
    this.queue.push({ rotateTo: next });
    this.bytesSinceRotate = 0;
    this.kick();
    return next;
  }

  /** Deletes segments older than `seq` (a durable snapshot covers them). */
  async removeBefore(seq: number): Promise<void> {
    for (const s of listSegments(this.dir)) if (s < seq) await unlink(join(this.dir, segmentName(s)));
  }

  async close(): Promise<void> {
    await this.idle();
    while (this.flushing) await new Promise((r) => setImmediate(r));
    await this.fh.close();
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = true;
    // A microtask lets every append made in the same tick join this flush.
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    let batch: Extract<Item, { frame: Buffer }>[] = [];
    try {
      while (this.queue.length > 0) {
        let n = 0;
        while (n < this.queue.length && !('rotateTo' in (this.queue[n] as Item))) n++;
        batch = this.queue.splice(0, n) as Extract<Item, { frame: Buffer }>[];
        if (batch.length > 0) {
          const buf = batch.length === 1 ? (batch[0] as { frame: Buffer }).frame : Buffer.concat(batch.map((b) => b.frame));
          for (let off = 0; off < buf.length; ) off += (await this.fh.write(buf, off)).bytesWritten;
          if (this.fsync) await this.fh.datasync();
          this.flushes++;
          for (const b of batch) b.done();
          batch = [];
        }
        const next = this.queue[0];
        if (next && 'rotateTo' in next) {
          this.queue.shift();
          await this.fh.datasync();
          await this.fh.close();
          this.fh = await open(join(this.dir, segmentName(next.rotateTo)), 'a');
          fsyncDir(this.dir);
          this.seq = next.rotateTo;
        }
      }
    } catch (e) {
      this.broken = e instanceof Error ? e : new Error(String(e));
      for (const item of [...batch, ...this.queue.splice(0)]) if ('fail' in item) item.fail(this.broken);
      this.onError(this.broken);
    } finally {
      this.flushing = false;
    }
  }
}
