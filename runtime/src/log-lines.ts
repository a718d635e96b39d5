import type {
  ContainerIdRequest,
  CreateContainerRequest,
  ImageStatusRequest,
  PodSandboxIdRequest,
  PullImageRequest,
  RunPodSandboxRequest,
  StopContainerRequest,
} from './cri-types.js';
import { formatContainerMetadata, formatSandboxMetadata, goQuote as q } from './go-format.js';
import type { LogLevel } from './spans.js';

/**
 * The log lines containerd's CRI instrumentedService writes around each RPC
 * (internal/cri/instrument/instrumented_service.go, v2.1): one on entry, one
 * on success, one (at error level, WithError) on failure. Through the logrus
 * hook they are also the server span's events. Version, Status, the list and
 * status calls log at trace/debug level, which a daemon at the default info
 * level neither prints nor records.
 */
export interface LogLines<Req, Res> {
  /** Level of the entry and success lines; failure lines are always at error level. */
  readonly level: LogLevel;
  /** Whether the method also calls span.RecordError (only those that mutate state do). */
  readonly recordsError: boolean;
  readonly start?: (req: Req) => string;
  readonly ok?: (req: Req, res: Res) => string;
  readonly fail?: (req: Req) => string;
}

const sandboxMeta = (r: RunPodSandboxRequest): string => formatSandboxMetadata(r.config?.metadata);
const containerMeta = (r: CreateContainerRequest): string => formatContainerMetadata(r.config?.metadata);

export const LOG_LINES = {
  RunPodSandbox: {
    level: 'info',
    recordsError: true,
    start: (r) => `RunPodSandbox for ${sandboxMeta(r)}`,
    ok: (r, res) => `RunPodSandbox for ${sandboxMeta(r)} returns sandbox id ${q(res.podSandboxId)}`,
    fail: (r) => `RunPodSandbox for ${sandboxMeta(r)} failed, error`,
  } satisfies LogLines<RunPodSandboxRequest, { podSandboxId: string }>,
  PodSandboxStatus: {
    level: 'trace',
    recordsError: false,
    fail: (r) => `PodSandboxStatus for ${q(r.podSandboxId)} failed`,
  } satisfies LogLines<PodSandboxIdRequest, unknown>,
  StopPodSandbox: {
    level: 'info',
    recordsError: true,
    start: (r) => `StopPodSandbox for ${q(r.podSandboxId)}`,
    ok: (r) => `StopPodSandbox for ${q(r.podSandboxId)} returns successfully`,
    fail: (r) => `StopPodSandbox for ${q(r.podSandboxId)} failed`,
  } satisfies LogLines<PodSandboxIdRequest, unknown>,
  RemovePodSandbox: {
    level: 'info',
    recordsError: true,
    start: (r) => `RemovePodSandbox for ${q(r.podSandboxId)}`,
    // Upstream's success line really has no "for".
    ok: (r) => `RemovePodSandbox ${q(r.podSandboxId)} returns successfully`,
    fail: (r) => `RemovePodSandbox for ${q(r.podSandboxId)} failed`,
  } satisfies LogLines<PodSandboxIdRequest, unknown>,
  CreateContainer: {
    level: 'info',
    recordsError: true,
    start: (r) => `CreateContainer within sandbox ${q(r.podSandboxId)} for container ${containerMeta(r)}`,
    ok: (r, res) => `CreateContainer within sandbox ${q(r.podSandboxId)} for ${containerMeta(r)} returns container id ${q(res.containerId)}`,
    fail: (r) => `CreateContainer within sandbox ${q(r.podSandboxId)} for ${containerMeta(r)} failed`,
  } satisfies LogLines<CreateContainerRequest, { containerId: string }>,
  StartContainer: {
    level: 'info',
    recordsError: true,
    start: (r) => `StartContainer for ${q(r.containerId)}`,
    ok: (r) => `StartContainer for ${q(r.containerId)} returns successfully`,
    fail: (r) => `StartContainer for ${q(r.containerId)} failed`,
  } satisfies LogLines<ContainerIdRequest, unknown>,
  ContainerStatus: {
    level: 'trace',
    recordsError: false,
    fail: (r) => `ContainerStatus for ${q(r.containerId)} failed`,
  } satisfies LogLines<ContainerIdRequest, unknown>,
  StopContainer: {
    level: 'info',
    recordsError: true,
    start: (r) => `StopContainer for ${q(r.containerId)} with timeout ${r.timeout} (s)`,
    ok: (r) => `StopContainer for ${q(r.containerId)} returns successfully`,
    fail: (r) => `StopContainer for ${q(r.containerId)} failed`,
  } satisfies LogLines<StopContainerRequest, unknown>,
  RemoveContainer: {
    level: 'info',
    recordsError: true,
    start: (r) => `RemoveContainer for ${q(r.containerId)}`,
    ok: (r) => `RemoveContainer for ${q(r.containerId)} returns successfully`,
    fail: (r) => `RemoveContainer for ${q(r.containerId)} failed`,
  } satisfies LogLines<ContainerIdRequest, unknown>,
  PullImage: {
    level: 'info',
    recordsError: true,
    start: (r) => `PullImage ${q(r.image?.image ?? '')}`,
    ok: (r, res) => `PullImage ${q(r.image?.image ?? '')} returns image reference ${q(res.imageRef)}`,
    fail: (r) => `PullImage ${q(r.image?.image ?? '')} failed`,
  } satisfies LogLines<PullImageRequest, { imageRef: string }>,
  ImageStatus: {
    level: 'trace',
    recordsError: false,
    fail: (r) => `ImageStatus for ${q(r.image?.image ?? '')} failed`,
  } satisfies LogLines<ImageStatusRequest, unknown>,
} as const;
