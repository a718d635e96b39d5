import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForListen, type RunningProcess } from '../../shared/src/testing/index.js';
import { idHex, memberId } from '../src/cluster.js';

/**
 * The same etcdctl 3.4 session against etcd-sim and against Debian's real
 * etcd 3.4, asserting on what etcdctl prints: the expectations describe etcd,
 * and etcd-sim has to meet them.
 */
const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';

interface Target {
  readonly name: string;
  readonly available: boolean;
  start(dir: string, clientUrl: string, peerUrl: string): RunningProcess;
}

const TARGETS: Target[] = [
  {
    name: 'etcd-sim',
    available: existsSync(ETCDCTL),
    start: (dir, clientUrl, peerUrl) =>
      startProcess(['etcd', '--name', 'sim', '--data-dir', dir, '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl, '--initial-advertise-peer-urls', peerUrl]),
  },
  {
    name: 'etcd 3.4 from Debian',
    available: existsSync(ETCD) && existsSync(ETCDCTL),
    start: (dir, clientUrl, peerUrl) =>
      startProcess(
        ['--name', 'sim', '--data-dir', dir, '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `sim=${peerUrl}`],
        { command: ETCD },
      ),
  },
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.each(TARGETS)('etcdctl against $name', (target) => {
  let server: RunningProcess;
  let endpoint = '';
  let clientUrl = '';
  let peerUrl = '';

  const ctl = (args: string[], input?: string): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(ETCDCTL, ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  const out = async (args: string[], input?: string): Promise<string> => {
    const r = await ctl(args, input);
    if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** The store's current revision, from a Range header. */
  const revision = async (): Promise<number> => Number(/"revision":(\d+)/.exec(await out(['get', 'x', '-w', 'json']))?.[1]);

  describe.skipIf(!target.available)('session', () => {
    beforeAll(async () => {
      const [port, peerPort] = [await freePort(), await freePort()];
      endpoint = `127.0.0.1:${port}`;
      clientUrl = `http://${endpoint}`;
      peerUrl = `http://127.0.0.1:${peerPort}`;
      server = target.start(mkdtempSync(join(tmpdir(), 'etcdctl-')), clientUrl, peerUrl);
      await waitForListen({ host: '127.0.0.1', port });
      // Real etcd listens before it has elected itself leader.
      for (let i = 0; i < 100 && (await ctl(['endpoint', 'health'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('endpoint health', async () => {
      const r = await ctl(['endpoint', 'health']);
      expect([r.code, r.stderr]).toEqual([0, expect.stringMatching(new RegExp(`^${endpoint} is healthy: successfully committed proposal: took = `))]);
    });

    it('put, get, and get --prefix with --keys-only, --limit and -w json', async () => {
      expect(await out(['put', '/p/a', '1'])).toBe('OK\n');
      await out(['put', '/p/b', '2']);
      await out(['put', '/p/c', '3']);
      await out(['put', '/p/a', '10']);
      const now = await revision();
      expect(await out(['get', '/p/a'])).toBe('/p/a\n10\n');
      expect(await out(['get', '--prefix', '/p/', '--keys-only', '--limit', '2'])).toBe('/p/a\n\n/p/b\n\n');
      const json = JSON.parse(await out(['get', '--prefix', '/p/', '--limit', '2', '-w', 'json'])) as {
        header: { revision: number };
        kvs: { key: string; create_revision: number; mod_revision: number; version: number; value: string }[];
        more: boolean;
        count: number;
      };
      expect(json.header.revision).toBe(now);
      expect(json.kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), kv.create_revision, kv.mod_revision, kv.version])).toEqual([
        ['/p/a', now - 3, now, 2],
        ['/p/b', now - 2, now - 2, 1],
      ]);
      expect([json.more, json.count]).toEqual([true, 3]);
      expect(await out(['get', '/p/a', '--rev', String(now - 1)])).toBe('/p/a\n1\n');
    });

    it('del prints how many keys went', async () => {
      await out(['put', '/d/a', '1']);
      await out(['put', '/d/b', '1']);
      expect(await out(['del', '--prefix', '/d/'])).toBe('2\n');
      expect(await out(['del', '/d/a'])).toBe('0\n');
    });

    it('txn: compares on mod and value choose the success or the failure branch', async () => {
      await out(['put', '/t/k', 'v']);
      const rev = Number(/"mod_revision":(\d+)/.exec(await out(['get', '/t/k', '-w', 'json']))?.[1]);
      await out(['put', '/t/other', 'o']);
      const ok = await out(['txn'], `mod("/t/k") = "${rev}"\n\nput /t/k v2\nget /t/other\n\nget /t/k\n\n`);
      expect(ok).toBe('SUCCESS\n\nOK\n\n/t/other\no\n');
      const stale = await out(['txn'], `mod("/t/k") = "${rev}"\nvalue("/t/k") = "v2"\n\nput /t/k v3\n\nget /t/k\ndel /t/other\n\n`);
      expect(stale).toBe('FAILURE\n\n/t/k\nv2\n\n1\n');
      expect(await out(['txn'], 'value("/t/k") = "v2"\n\nput /t/k v3\n\n\n')).toBe('SUCCESS\n\nOK\n');
    });

    it('watch --prefix prints PUT and DELETE events with keys and values', async () => {
      const from = (await revision()) + 1;
      const watch = spawn(ETCDCTL, ['--endpoints', endpoint, 'watch', '--prefix', '/w/', '--rev', String(from)], { env: { ...process.env, ETCDCTL_API: '3' } });
      let printed = '';
      watch.stdout.on('data', (d: Buffer) => (printed += d.toString()));
      try {
        await out(['put', '/w/a', '1']);
        await out(['put', '/w/b', '2']);
        await out(['put', '/elsewhere', 'x']);
        await out(['del', '/w/a']);
        const want = 'PUT\n/w/a\n1\nPUT\n/w/b\n2\nDELETE\n/w/a\n\n';
        for (let i = 0; i < 100 && printed !== want; i++) await new Promise((r) => setTimeout(r, 50));
        expect(printed).toBe(want);
      } finally {
        watch.kill();
      }
    });

    it('endpoint status -w json and member list describe this member', async () => {
      const id = memberId([peerUrl], 'etcd-cluster');
      const raw = await out(['endpoint', 'status', '-w', 'json']);
      const now = await revision();
      // uint64 IDs do not survive JSON.parse, so read them as text.
      expect(/"member_id":(\d+)/.exec(raw)?.[1]).toBe(id.toString());
      expect(/"leader":(\d+)/.exec(raw)?.[1]).toBe(id.toString());
      const status = JSON.parse(raw) as [{ Endpoint: string; Status: { header: { revision: number; raft_term: number }; version: string; raftIndex: number; raftAppliedIndex: number; dbSize: number } }];
      expect(status[0].Endpoint).toBe(endpoint);
      expect(status[0].Status.header.revision).toBe(now);
      expect(status[0].Status.version).toMatch(/^3\.[45]\.\d+$/);
      expect(status[0].Status.raftIndex).toBe(status[0].Status.raftAppliedIndex);
      expect(status[0].Status.dbSize).toBeGreaterThan(0);
      expect(await out(['member', 'list'])).toBe(`${idHex(id)}, started, sim, ${peerUrl}, ${clientUrl}, false\n`);
    });

    it('lease grant, put --lease, timetolive --keys, revoke', async () => {
      const granted = await out(['lease', 'grant', '60']);
      const id = /^lease ([0-9a-f]+) granted with TTL\(60s\)\n$/.exec(granted)?.[1] ?? '';
      // Lease IDs start with the low 16 bits of the member ID (etcd's idutil), sign bit cleared.
      expect(BigInt(`0x${id}`) >> 48n).toBe(memberId([peerUrl], 'etcd-cluster') & 0x7fffn);
      expect(await out(['put', '--lease', id, '/l/a', 'v'])).toBe('OK\n');
      expect(await out(['lease', 'timetolive', id, '--keys'])).toMatch(new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[/l/a\\]\\)\n$`));
      expect(await out(['lease', 'list'])).toContain(`${id}\n`);
      expect(await out(['lease', 'revoke', id])).toBe(`lease ${id} revoked\n`);
      expect(await out(['get', '/l/a'])).toBe('');
    });

    it('compaction makes older revisions unreadable', async () => {
      await out(['put', '/c/k', 'old']);
      const old = await revision();
      await out(['put', '/c/k', 'new']);
      const now = await revision();
      expect(await out(['compaction', String(now)])).toBe(`compacted revision ${now}\n`);
      const r = await ctl(['get', '/c/k', '--rev', String(old)]);
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toContain('Error: etcdserver: mvcc: required revision has been compacted');
      expect(await out(['get', '/c/k', '--rev', String(now)])).toBe('/c/k\nnew\n');
    });
  });
});
