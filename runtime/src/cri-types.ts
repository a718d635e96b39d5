/**
 * TypeScript shapes of the runtime.v1 messages as shared/proto/cri/api.proto
 * decodes them with the project's loader options: camelCase fields, unset
 * strings '', unset messages null, int64 as decimal strings, enums as numbers.
 */

export const SandboxState = { READY: 0, NOTREADY: 1 } as const;
export type SandboxStateValue = (typeof SandboxState)[keyof typeof SandboxState];

export const ContainerState = { CREATED: 0, RUNNING: 1, EXITED: 2, UNKNOWN: 3 } as const;
export type ContainerStateValue = (typeof ContainerState)[keyof typeof ContainerState];

/** ContainerState_name: how containerd prints a state in its messages. */
export const CONTAINER_STATE_NAMES: Readonly<Record<ContainerStateValue, string>> = {
  0: 'CONTAINER_CREATED',
  1: 'CONTAINER_RUNNING',
  2: 'CONTAINER_EXITED',
  3: 'CONTAINER_UNKNOWN',
};

export type StringMap = Record<string, string>;

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface NamespaceOption {
  network: number;
  pid: number;
  ipc: number;
  targetId: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null;
  hostname: string;
  logDirectory: string;
  dnsConfig: { servers: string[]; searches: string[]; options: string[] } | null;
  portMappings: unknown[];
  labels: StringMap;
  annotations: StringMap;
  linux: { cgroupParent: string; securityContext: { namespaceOptions: NamespaceOption | null } | null } | null;
}

export interface ImageSpec {
  image: string;
  annotations: StringMap;
  userSpecifiedImage: string;
  runtimeHandler: string;
  imageRef: string;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  selinuxRelabel: boolean;
  propagation: number;
}

export interface ContainerConfig {
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  command: string[];
  args: string[];
  workingDir: string;
  envs: { key: string; value: string }[];
  mounts: Mount[];
  labels: StringMap;
  annotations: StringMap;
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
}

export interface RunPodSandboxRequest {
  config: PodSandboxConfig | null;
  runtimeHandler: string;
}

export interface PodSandboxIdRequest {
  podSandboxId: string;
  verbose?: boolean;
}

export interface PodSandboxFilter {
  id: string;
  state: { state: number } | null;
  labelSelector: StringMap;
}

export interface CreateContainerRequest {
  podSandboxId: string;
  config: ContainerConfig | null;
  sandboxConfig: PodSandboxConfig | null;
}

export interface ContainerIdRequest {
  containerId: string;
  verbose?: boolean;
}

export interface StopContainerRequest {
  containerId: string;
  /** int64 seconds, as a string. */
  timeout: string;
}

export interface ContainerFilter {
  id: string;
  state: { state: number } | null;
  podSandboxId: string;
  labelSelector: StringMap;
}

export interface PullImageRequest {
  image: ImageSpec | null;
  sandboxConfig: PodSandboxConfig | null;
}

export interface ImageStatusRequest {
  image: ImageSpec | null;
  verbose: boolean;
}

/** Empty request/response messages. */
export type Empty = Record<string, never>;
