import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ETCD_PROTO_DIR, loadProto, lookupService, withoutDefaults, wireSize } from '../src/proto.js';

const KV = lookupService(loadProto(join(ETCD_PROTO_DIR, 'rpc.proto')), 'etcdserverpb.KV').service;
const range = KV['Range'];
if (!range) throw new Error('no Range');

describe('wireSize: the size proto3 puts on the wire', () => {
  // A RangeRequest for a 24-byte key is 26 bytes in Go (tag, length, key).
  const key = Buffer.from('/registry/pods/default/a');
  it.each([
    ['just the key', { key }, 26],
    ['the key plus every zero value the loader fills in', { key, rangeEnd: Buffer.alloc(0), limit: '0', revision: '0', sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: false, countOnly: false, minModRevision: '0', maxModRevision: '0', minCreateRevision: '0', maxCreateRevision: '0' }, 26],
    ['a limit', { key, limit: '1' }, 28],
  ])('%s: %i bytes', (_what, req, size) => {
    expect(wireSize(range.requestSerialize, req)).toBe(size);
  });

  it("decoding then measuring gives the sender's size", () => {
    const wire = range.requestSerialize({ key, limit: '500' });
    const decoded = range.requestDeserialize(wire);
    expect(wireSize(range.requestSerialize, decoded)).toBe(wire.length);
  });

  it.each([
    [{ a: 0, b: '0', c: '', d: false, e: null, f: [], g: Buffer.alloc(0), h: 1 }, { h: 1 }],
    [{ kvs: [{ key: Buffer.from('k'), version: '0' }], count: '1' }, { kvs: [{ key: Buffer.from('k') }], count: '1' }],
  ])('withoutDefaults(%o)', (input, want) => {
    expect(withoutDefaults(input)).toEqual(want);
  });
});
