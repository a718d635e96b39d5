import { createHash } from 'node:crypto';
import { formatRef, isImageId, parseDockerRef, type ImageRef } from './image-refs.js';

/** What the simulator knows about a repository: sizes and the image config that shapes its process. */
export interface ImageProfile {
  /** Compressed bytes (manifest + config + layers): what CRI reports as the image size. */
  readonly size: number;
  /** Bytes of the unpacked overlayfs snapshots: what ImageFsInfo counts. */
  readonly unpackedSize: number;
  /** The image config's User ("" when unset). */
  readonly user: string;
  /** The image config's StopSignal; SIGTERM when unset. */
  readonly stopSignal: string;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
}

/** An image in the runtime's store. */
export interface ImageRecord extends ImageProfile {
  /** `sha256:<config digest>`. */
  readonly id: string;
  /** Tag and digest references, tags first (docker.Sort puts higher-information references first). */
  readonly references: readonly string[];
  /** containerd pins the sandbox (pause) image so image GC never removes it. */
  readonly pinned: boolean;
}

const DEFAULTS = { user: '', stopSignal: 'SIGTERM', entrypoint: [] as readonly string[] };

// Sizes: linux/amd64, rounded from what `crictl images` reports for recent
// tags (2025); unpacked sizes from `du` of the snapshots. Approximate on
// purpose: the tags move. Entrypoint, CMD, User and STOPSIGNAL are from each
// image's Dockerfile.
const KNOWN: Readonly<Record<string, ImageProfile>> = {
  'docker.io/library/nginx': {
    ...DEFAULTS,
    size: 72_195_292,
    unpackedSize: 192_080_000,
    stopSignal: 'SIGQUIT',
    entrypoint: ['/docker-entrypoint.sh'],
    cmd: ['nginx', '-g', 'daemon off;'],
  },
  'docker.io/library/busybox': { ...DEFAULTS, size: 2_155_210, unpackedSize: 4_270_000, cmd: ['sh'] },
  'docker.io/library/alpine': { ...DEFAULTS, size: 3_642_886, unpackedSize: 8_310_000, cmd: ['/bin/sh'] },
  'docker.io/library/ubuntu': { ...DEFAULTS, size: 29_754_290, unpackedSize: 78_120_000, cmd: ['/bin/bash'] },
  'docker.io/library/debian': { ...DEFAULTS, size: 48_494_272, unpackedSize: 120_600_000, cmd: ['bash'] },
  'docker.io/library/redis': {
    ...DEFAULTS,
    size: 45_301_856,
    unpackedSize: 128_400_000,
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['redis-server'],
  },
  'docker.io/library/postgres': {
    ...DEFAULTS,
    size: 158_313_902,
    unpackedSize: 438_500_000,
    stopSignal: 'SIGINT',
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['postgres'],
  },
  'docker.io/library/httpd': {
    ...DEFAULTS,
    size: 58_121_740,
    unpackedSize: 148_200_000,
    stopSignal: 'SIGWINCH',
    cmd: ['httpd-foreground'],
  },
  'registry.k8s.io/pause': {
    ...DEFAULTS,
    size: 320_368,
    unpackedSize: 736_000,
    user: '65535:65535',
    entrypoint: ['/pause'],
    cmd: [],
  },
  'registry.k8s.io/coredns/coredns': {
    ...DEFAULTS,
    size: 18_562_039,
    unpackedSize: 61_800_000,
    user: '65532:65532',
    entrypoint: ['/coredns'],
    cmd: [],
  },
};

/** containerd 2.1's default sandbox_image, pulled and pinned on every node before pods run. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const MiB = 1024 * 1024;

/**
 * The profile of any repository: from the table, else derived from a hash of
 * the name so the same name always gets the same size. Unknown images run
 * their one binary, named after the repository, as a long-lived server.
 */
export function imageProfile(name: string): ImageProfile {
  const known = KNOWN[name];
  if (known) return known;
  const h = parseInt(sha256Hex(`size ${name}`).slice(0, 8), 16);
  const size = 5 * MiB + (h % (120 * MiB));
  const binary = name.slice(name.lastIndexOf('/') + 1);
  return { ...DEFAULTS, size, unpackedSize: Math.round(size * 2.5), entrypoint: [`/usr/local/bin/${binary}`], cmd: [] };
}

/**
 * The image a registry would serve for a normalised reference. Digests are
 * hashes of the reference, so they are stable across runs but are not the
 * registry's real digests.
 */
export function imageFor(ref: ImageRef, pinned = false): ImageRecord {
  const profile = imageProfile(ref.name);
  const manifest = ref.digest ?? `sha256:${sha256Hex(`manifest ${formatRef(ref)}`)}`;
  const id = `sha256:${sha256Hex(`config ${ref.name}@${manifest}`)}`;
  const references = ref.tag !== undefined ? [formatRef(ref), `${ref.name}@${manifest}`] : [`${ref.name}@${manifest}`];
  return { ...profile, id, references, pinned };
}

export function repoTags(image: ImageRecord): string[] {
  return image.references.filter((r) => !r.includes('@'));
}

export function repoDigests(image: ImageRecord): string[] {
  return image.references.filter((r) => r.includes('@'));
}

/** Adds an image to the store's list, merging references when the id is already there. */
export function addImage(images: readonly ImageRecord[], image: ImageRecord): ImageRecord[] {
  const existing = images.find((i) => i.id === image.id);
  if (!existing) return [...images, image];
  const merged = [...new Set([...existing.references, ...image.references])];
  const sorted = [...merged.filter((r) => !r.includes('@')), ...merged.filter((r) => r.includes('@'))];
  return images.map((i) => (i === existing ? { ...existing, references: sorted, pinned: existing.pinned || image.pinned } : i));
}

/**
 * LocalResolve: a full image id, else a reference (any spelling that
 * normalises to a stored tag or digest), else a unique prefix of an id's hex.
 */
export function resolveImage(images: readonly ImageRecord[], refOrId: string): ImageRecord | undefined {
  if (refOrId === '') return undefined;
  if (isImageId(refOrId)) return images.find((i) => i.id === refOrId);
  const parsed = parseDockerRef(refOrId);
  if ('ref' in parsed) {
    const wanted = formatRef(parsed.ref);
    const byRef = images.find((i) => i.references.includes(wanted));
    if (byRef) return byRef;
  }
  const hex = refOrId.replace(/^sha256:/, '');
  if (!/^[a-f0-9]+$/.test(hex)) return undefined;
  const matches = images.filter((i) => i.id.slice('sha256:'.length).startsWith(hex));
  return matches.length === 1 ? matches[0] : undefined;
}
