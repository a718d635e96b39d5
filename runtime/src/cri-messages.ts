import { containerState, exitReason, type Container } from './containers.js';
import { ContainerState, type ImageSpec } from './cri-types.js';
import { PAUSE_IMAGE, repoDigests, repoTags, type ImageRecord } from './images.js';
import { sandboxIp, type Sandbox } from './sandboxes.js';

/** Runtime.v1 response messages from store records, the way containerd's CRI plugin fills them. */

export const CONTAINERD = {
  runtimeName: 'containerd',
  /** kubeAPIVersion, a constant containerd never bumped. */
  version: '0.1.0',
  runtimeApiVersion: 'v1',
  runtimeType: 'io.containerd.runc.v2',
  snapshotter: 'overlayfs',
  snapshotterRoot: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs',
} as const;

const ns = (t: bigint): string => t.toString();

export function toCriPodSandbox(sb: Sandbox) {
  return {
    id: sb.id,
    metadata: sb.config.metadata,
    state: sb.state,
    createdAt: ns(sb.createdAt),
    labels: sb.config.labels,
    annotations: sb.config.annotations,
    runtimeHandler: sb.runtimeHandler,
  };
}

export function toCriSandboxStatus(sb: Sandbox) {
  return {
    ...toCriPodSandbox(sb),
    network: { ip: sandboxIp(sb), additionalIps: [] },
    linux: { namespaces: { options: sb.config.linux?.securityContext?.namespaceOptions ?? null } },
  };
}

/** The `info` entry of a verbose PodSandboxStatus: a subset of containerd's SandboxInfo JSON. */
export function sandboxInfo(sb: Sandbox): Record<string, string> {
  const info = {
    pid: sb.pid,
    processStatus: sb.pid === 0 ? 'stopped' : 'running',
    netNamespaceClosed: sb.netnsClosed,
    image: PAUSE_IMAGE,
    snapshotKey: sb.id,
    snapshotter: CONTAINERD.snapshotter,
    runtimeHandler: sb.runtimeHandler,
    runtimeType: CONTAINERD.runtimeType,
  };
  return { info: JSON.stringify(info) };
}

export function toCriContainer(c: Container) {
  return {
    id: c.id,
    podSandboxId: c.sandboxId,
    metadata: c.config.metadata,
    image: c.config.image,
    imageRef: c.imageId,
    state: containerState(c),
    createdAt: ns(c.createdAt),
    labels: c.config.labels,
    annotations: c.config.annotations,
  };
}

/**
 * ContainerStatus reports the image by its first tag and its repo digest
 * when the image is still there, else what the container was created with.
 * Start and finish times only appear in the states that have them.
 */
export function toCriContainerStatus(c: Container, image: ImageRecord | undefined) {
  const state = containerState(c);
  const tag = image ? repoTags(image)[0] : undefined;
  const digest = image ? repoDigests(image)[0] : undefined;
  const spec: Partial<ImageSpec> | null = tag !== undefined ? { image: tag } : c.config.image;
  return {
    id: c.id,
    metadata: c.config.metadata,
    state,
    createdAt: ns(c.createdAt),
    startedAt: ns(state === ContainerState.CREATED ? 0n : c.startedAt),
    finishedAt: ns(state === ContainerState.EXITED || state === ContainerState.UNKNOWN ? c.finishedAt : 0n),
    exitCode: c.exitCode,
    image: spec,
    imageRef: digest ?? c.imageId,
    reason: exitReason(c),
    message: c.message,
    labels: c.config.labels,
    annotations: c.config.annotations,
    mounts: c.config.mounts,
    logPath: c.logPath,
  };
}

export function containerInfo(c: Container): Record<string, string> {
  const info = {
    sandboxID: c.sandboxId,
    pid: c.pid,
    removing: c.removing,
    snapshotKey: c.id,
    snapshotter: CONTAINERD.snapshotter,
    runtimeType: CONTAINERD.runtimeType,
  };
  return { info: JSON.stringify(info) };
}

/** getUserFromImage: a numeric user (before any ":group") is a uid, anything else a user name. */
export function imageUser(user: string): { uid: { value: string } | null; username: string } {
  if (user === '') return { uid: null, username: '' };
  const name = user.split(':')[0] as string;
  return /^-?\d+$/.test(name) ? { uid: { value: name }, username: '' } : { uid: null, username: name };
}

export function toCriImage(img: ImageRecord) {
  return {
    id: img.id,
    repoTags: repoTags(img),
    repoDigests: repoDigests(img),
    size: String(img.size),
    ...imageUser(img.user),
    spec: null,
    pinned: img.pinned,
  };
}

/** ImageFsInfo: one filesystem, the default snapshotter's, with the snapshots' bytes and inodes. */
export function toImageFsInfo(images: readonly ImageRecord[], containerBytes: number, now: bigint) {
  const used = images.reduce((sum, i) => sum + i.unpackedSize, 0) + containerBytes;
  return {
    imageFilesystems: [
      {
        timestamp: ns(now),
        fsId: { mountpoint: CONTAINERD.snapshotterRoot },
        usedBytes: { value: String(used) },
        // Roughly one inode per 32 KiB of unpacked files (est. from typical images).
        inodesUsed: { value: String(Math.round(used / 32_768)) },
      },
    ],
    containerFilesystems: [],
  };
}

export function versionResponse(runtimeVersion: string) {
  return {
    version: CONTAINERD.version,
    runtimeName: CONTAINERD.runtimeName,
    runtimeVersion,
    runtimeApiVersion: CONTAINERD.runtimeApiVersion,
  };
}

/**
 * Status: the two conditions kubelet requires plus containerd 2.x's
 * deprecation condition; the default handler and runc, sorted by name.
 */
export function statusResponse(verbose: boolean) {
  const features = { recursiveReadOnlyMounts: true, userNamespaces: true };
  return {
    status: {
      conditions: [
        { type: 'RuntimeReady', status: true, reason: '', message: '' },
        { type: 'NetworkReady', status: true, reason: '', message: '' },
        { type: 'ContainerdHasNoDeprecationWarnings', status: true, reason: '', message: '' },
      ],
    },
    info: verbose ? { golang: '"go1.24.6"', lastCNILoadStatus: 'OK', 'lastCNILoadStatus.default': 'OK' } : {},
    runtimeHandlers: [
      { name: '', features },
      { name: 'runc', features },
    ],
    features: { supplementalGroupsPolicy: true },
  };
}
