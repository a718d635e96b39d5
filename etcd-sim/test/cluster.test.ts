import { describe, expect, it } from 'vitest';
import { clusterId, IdGenerator, idHex, memberId } from '../src/cluster.js';

describe('member and cluster IDs (the values real etcd reports)', () => {
  it.each([
    // etcd's defaults: the well-known member and cluster of a bare `etcd`.
    [['http://localhost:2380'], 'etcd-cluster', '8e9e05c52164694d', 'cdf818194e3a8c32'],
    // What Debian's etcd 3.4.23 reported for --initial-advertise-peer-urls http://127.0.0.1:23800.
    [['http://127.0.0.1:23800'], 'etcd-cluster', '2e1259d415f2a040', '48276a8f75b6a87'],
  ])('%j + %s → member %s, cluster %s', (urls, token, member, cluster) => {
    const id = memberId(urls, token);
    expect([idHex(id), idHex(clusterId([id]))]).toEqual([member, cluster]);
  });

  it('peer URL order does not matter', () => {
    expect(memberId(['http://b:2', 'http://a:1'], 't')).toBe(memberId(['http://a:1', 'http://b:2'], 't'));
  });
});

describe('IdGenerator (idutil)', () => {
  it('puts the member’s low 16 bits on top, then ms time and a counter', () => {
    const g = new IdGenerator(0x2e1259d415f2a040n, 0x0123456789);
    expect(idHex(g.next())).toBe('a04001234567890' + '1');
    expect(idHex(g.next())).toBe('a040012345678902');
  });

  it('lease IDs are positive even when the member’s bits would make them negative', () => {
    const g = new IdGenerator(0xffffn, 1);
    const id = g.nextLeaseId();
    expect(id > 0n && id < 1n << 63n).toBe(true);
    expect(id >> 48n).toBe(0x7fffn);
  });
});
