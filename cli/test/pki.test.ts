import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../../shared/src/testing/index.js';
import { loadKubeconfig } from '../../shared/src/index.js';

async function pki(...args: string[]): Promise<{ code: number | string | null; out: string }> {
  const p = startProcess(['pki', ...args]);
  const code = await p.exited;
  return { code, out: p.output() };
}

const sans = (file: string): string[] => (new X509Certificate(readFileSync(file)).subjectAltName ?? '').split(', ');

describe('k8s-trace-sim pki', () => {
  it("writes what `up` writes, naming the apiserver URL's host in the serving certificate and the kubeconfigs", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pki-'));
    const sent = join(dir, 'sent.jsonl');
    writeFileSync(sent, 'old run\n');
    const r = await pki('--data-dir', dir, '--apiserver-url', 'https://apiserver:6443', '--mode', 'faithful', '--sent-file', sent);
    expect(r.code, r.out).toBe(0);
    for (const f of ['pki/ca.crt', 'pki/apiserver.crt', 'pki/apiserver.key', 'pki/webhook/tls.crt', 'kubeconfig', 'scheduler.conf', 'kubelet.conf']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    expect(sans(join(dir, 'pki/apiserver.crt'))).toContain('DNS:apiserver');
    expect(loadKubeconfig(join(dir, 'kubeconfig')).server).toBe('https://apiserver:6443');
    expect(readFileSync(sent, 'utf8')).toBe('');
    // faithful mode: the scheduler is not in system:masters.
    const sched = loadKubeconfig(join(dir, 'scheduler.conf'));
    expect(new X509Certificate(sched.cert ?? '').subject).not.toContain('system:masters');
  });

  it('keeps its certificates on a second run, and adds a new host to the serving certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pki-'));
    expect((await pki('--data-dir', dir)).code).toBe(0);
    const ca = readFileSync(join(dir, 'pki/ca.crt'), 'utf8');
    const admin = readFileSync(join(dir, 'pki/admin.crt'), 'utf8');
    expect((await pki('--data-dir', dir, '--apiserver-url', 'https://10.0.0.7:6443')).code).toBe(0);
    expect(readFileSync(join(dir, 'pki/ca.crt'), 'utf8')).toBe(ca);
    expect(readFileSync(join(dir, 'pki/admin.crt'), 'utf8')).toBe(admin);
    expect(sans(join(dir, 'pki/apiserver.crt'))).toEqual(expect.arrayContaining(['IP Address:127.0.0.1', 'IP Address:10.0.0.7']));
  });

  it.each([
    [['--apiserver-url', 'http://apiserver:6443'], 'invalid --apiserver-url "http://apiserver:6443": want https://HOST:PORT'],
    [['--apiserver-url', 'nope'], 'invalid --apiserver-url "nope": want https://HOST:PORT'],
    [['--mode', 'x'], 'invalid --mode "x": want story or faithful'],
  ])('refuses %j', async (args, message) => {
    const r = await pki('--data-dir', mkdtempSync(join(tmpdir(), 'pki-')), ...args);
    expect(r.code).toBe(1);
    expect(r.out).toContain(message);
  });
});
