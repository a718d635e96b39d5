import { describe, expect, it } from 'vitest';
import { formatRef, isImageId, parseDockerRef } from '../src/image-refs.js';
import { addImage, imageFor, imageProfile, PAUSE_IMAGE, repoDigests, repoTags, resolveImage, type ImageRecord } from '../src/images.js';
import { imageUser, toCriImage } from '../src/cri-messages.js';

const ref = (s: string) => {
  const p = parseDockerRef(s);
  if (!('ref' in p)) throw new Error(p.error);
  return p.ref;
};

describe('parseDockerRef (normalisation)', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['library/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1'],
    ['bitnami/redis:7.2', 'docker.io/bitnami/redis:7.2'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost/app:v1', 'localhost/app:v1'],
    ['ghcr.io/org/team/app:sha-1f2e', 'ghcr.io/org/team/app:sha-1f2e'],
    [`nginx@${digest}`, `docker.io/library/nginx@${digest}`],
    // Tagged and digested: the tag is dropped.
    [`nginx:1.27@${digest}`, `docker.io/library/nginx@${digest}`],
  ])('%s → %s', (input, normalized) => {
    expect(formatRef(ref(input))).toBe(normalized);
  });

  it.each([
    ['', 'invalid reference format'],
    ['Nginx', 'invalid reference format: repository name (library/Nginx) must be lowercase'],
    ['nginx:', 'invalid reference format'],
    ['nginx::1', 'invalid reference format'],
    ['-nginx', 'invalid reference format'],
    ['nginx@sha256:abc', 'invalid reference format'],
    [`nginx@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    [`nginx@sha256:${'a'.repeat(63)}a0`, 'invalid checksum digest length'],
    ['a'.repeat(64), `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
    [`x/${'a'.repeat(260)}`, 'repository name must not be more than 255 characters'],
  ])('%j is rejected: %s', (input, error) => {
    expect(parseDockerRef(input)).toEqual({ error });
  });

  it('tells image ids from references', () => {
    expect(isImageId(`sha256:${'b'.repeat(64)}`)).toBe(true);
    expect(isImageId('nginx')).toBe(false);
    expect(isImageId(`sha256:${'b'.repeat(12)}`)).toBe(false);
  });
});

describe('images', () => {
  it('are deterministic for a reference and differ between tags', () => {
    const a = imageFor(ref('nginx'));
    expect(imageFor(ref('docker.io/library/nginx:latest'))).toEqual(a);
    expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(imageFor(ref('nginx:1.27')).id).not.toBe(a.id);
    expect(repoTags(a)).toEqual(['docker.io/library/nginx:latest']);
    expect(repoDigests(a)).toEqual([expect.stringMatching(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/)]);
  });

  it('pulling by the repo digest finds the same image', () => {
    const tagged = imageFor(ref('nginx'));
    const byDigest = imageFor(ref(repoDigests(tagged)[0] as string));
    expect(byDigest.id).toBe(tagged.id);
    const merged = addImage(addImage([], tagged), byDigest);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.references).toEqual(tagged.references);
  });

  it.each([
    ['docker.io/library/nginx', 72_195_292, 'SIGQUIT'],
    ['docker.io/library/busybox', 2_155_210, 'SIGTERM'],
    ['registry.k8s.io/pause', 320_368, 'SIGTERM'],
  ])('well-known %s has size %d and stop signal %s', (name, size, signal) => {
    expect(imageProfile(name)).toMatchObject({ size, stopSignal: signal });
  });

  it('derives a stable size for unknown images', () => {
    const p = imageProfile('ghcr.io/acme/api');
    expect(imageProfile('ghcr.io/acme/api')).toEqual(p);
    expect(p.size).toBeGreaterThan(5 * 1024 * 1024);
    expect(p.size).toBeLessThan(126 * 1024 * 1024);
    expect(p.entrypoint).toEqual(['/usr/local/bin/api']);
  });

  describe('resolveImage (LocalResolve)', () => {
    const nginx = imageFor(ref('nginx'));
    const pause = imageFor(ref(PAUSE_IMAGE), true);
    const store: ImageRecord[] = [nginx, pause];
    it.each([
      ['nginx', nginx],
      ['nginx:latest', nginx],
      ['docker.io/library/nginx:latest', nginx],
      [nginx.id, nginx],
      [nginx.id.slice(7, 19), nginx],
      [repoDigests(nginx)[0] as string, nginx],
      ['registry.k8s.io/pause:3.10', pause],
      ['nginx:1.27', undefined],
      ['busybox', undefined],
      ['', undefined],
      [`sha256:${'0'.repeat(64)}`, undefined],
    ])('%s', (q, want) => {
      expect(resolveImage(store, q)).toBe(want);
    });
  });

  it.each([
    ['', { uid: null, username: '' }],
    ['65535:65535', { uid: { value: '65535' }, username: '' }],
    ['0', { uid: { value: '0' }, username: '' }],
    ['nginx', { uid: null, username: 'nginx' }],
    ['www-data:www-data', { uid: null, username: 'www-data' }],
  ])('image user %j → %j', (user, want) => {
    expect(imageUser(user)).toEqual(want);
  });

  it('reports the pause image pinned, with its uid', () => {
    const cri = toCriImage(imageFor(ref(PAUSE_IMAGE), true));
    expect(cri).toMatchObject({ repoTags: ['registry.k8s.io/pause:3.10'], size: '320368', uid: { value: '65535' }, pinned: true });
  });
});
