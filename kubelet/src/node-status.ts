import { isAlreadyExists, isNotFound, type Node } from '../../shared/src/index.js';
import type { Klog } from '../../shared/src/klog.js';
import type { KubeletConfig, NodeSpec } from './config.js';
import type { NodeApi } from './kube-api.js';
import { initialNode, nodeStatus, nodeStatusChanged, type RuntimeFacts } from './node-object.js';
import { diff } from './status-patch.js';

/**
 * Node registration and the node status loop (kubelet_node_status.go):
 * POST the Node (or adopt the existing one), then every
 * --node-status-update-frequency GET it from the apiserver's cache and PATCH
 * its status only when something changed or nodeStatusReportFrequency has
 * passed, as a lease-era kubelet does. Each request is a root span.
 */
export class NodeStatusReporter {
  private node: Node | undefined;
  private lastReport = 0;
  registered = false;
  patches = 0;

  constructor(
    private readonly api: NodeApi,
    private readonly spec: NodeSpec,
    private readonly cfg: KubeletConfig,
    private readonly facts: () => RuntimeFacts,
    private readonly runtimeReady: () => boolean,
    private readonly log: Klog,
  ) {}

  get uid(): string | undefined {
    return this.node?.metadata.uid;
  }

  private get path(): string {
    return `/api/v1/nodes/${this.spec.name}`;
  }

  /** tryRegisterWithAPIServer: true once the node exists in the API. */
  async register(): Promise<boolean> {
    const wanted = initialNode(this.spec, this.cfg, this.facts(), new Date(), this.runtimeReady());
    try {
      this.node = await this.api.create<Node>('/api/v1/nodes', wanted);
      this.log.info('kubelet_node_status.go:78', 'Successfully registered node', { node: this.spec.name });
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.log.error('kubelet_node_status.go:107', 'Unable to register node with API server', { node: this.spec.name, err: err instanceof Error ? err.message : String(err) });
        return false;
      }
      try {
        const existing = await this.api.get<Node>(this.path);
        this.node = await this.patch(existing, wanted.status);
      } catch (e) {
        this.log.error('kubelet_node_status.go:129', 'Unable to reconcile node with API server', { node: this.spec.name, err: e instanceof Error ? e.message : String(e) });
        return false;
      }
    }
    this.registered = true;
    this.lastReport = Date.now();
    return true;
  }

  private async patch(current: Node, status: Node['status']): Promise<Node> {
    const d = diff(current.status ?? {}, status);
    if (d === undefined) return current;
    this.patches++;
    return this.api.patch<Node>(`${this.path}/status`, 'strategic', { status: d });
  }

  /** tryUpdateNodeStatus: one GET, and a PATCH when due. Never throws. */
  async update(): Promise<void> {
    if (!this.registered) return;
    try {
      // The first try reads from the apiserver's cache (resourceVersion=0), as the kubelet does.
      const current = await this.api.get<Node>(this.path, { query: { resourceVersion: '0' } });
      const now = new Date();
      const wanted = nodeStatus(this.spec, this.cfg, this.facts(), current, now, this.runtimeReady());
      const due = now.getTime() - this.lastReport >= this.cfg.nodeStatusReportFrequencyMs;
      if (!nodeStatusChanged(current.status, wanted) && !due) {
        this.node = current;
        return;
      }
      this.node = await this.patch(current, wanted);
      this.lastReport = now.getTime();
    } catch (err) {
      if (isNotFound(err)) {
        // Deleted behind our back: register again.
        this.registered = false;
        this.log.error('kubelet_node_status.go:566', 'Node not found; registering it again', { node: this.spec.name });
        return;
      }
      this.log.error('kubelet_node_status.go:535', 'Error updating node status, will retry', { err: err instanceof Error ? err.message : String(err) });
    }
  }
}
