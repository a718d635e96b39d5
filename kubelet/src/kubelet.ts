import { release } from 'node:os';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { KubeClient, type KubeconfigCredentials } from '../../shared/src/index.js';
import type { Klog } from '../../shared/src/klog.js';
import { seededRandom } from '../../shared/src/random.js';
import type { KubeletConfig } from './config.js';
import { CriClient } from './cri-client.js';
import { SimNode, type NodeDeps } from './node.js';
import { startProcessTracing, type ProcessTracing } from './tracing.js';
import { TimerWheel } from './wheel.js';

/**
 * One kubelet process hosting N simulated nodes. What is expensive to have
 * many of is shared: one HTTP/2 connection to the apiserver, one gRPC
 * channel to the runtime, one timer wheel, one OTLP exporter. What makes a
 * node a node is not: tracer provider, pod workers, PLEG, status manager,
 * lease and node status.
 */

/** kind's node image is Debian-based; the kernel is the host's, as on any kind node. */
export const OS_IMAGE = 'Debian GNU/Linux 12 (bookworm)';

export interface KubeletOptions {
  readonly cfg: KubeletConfig;
  readonly credentials: KubeconfigCredentials;
  readonly log: Klog;
  readonly seed: number;
  /** Tests: an in-memory exporter and a simple span processor. */
  readonly exporter?: SpanExporter;
  readonly processor?: 'batch' | 'simple';
  readonly env?: NodeJS.ProcessEnv;
  readonly node?: Partial<Pick<NodeDeps, 'backoff' | 'errorBackoffMs' | 'loops' | 'probes'>>;
}

export class Kubelet {
  readonly kube: KubeClient;
  readonly cri: CriClient;
  readonly tracing: ProcessTracing;
  readonly wheel = new TimerWheel(100);
  readonly nodes: SimNode[];

  constructor(o: KubeletOptions) {
    const { cfg } = o;
    this.kube = new KubeClient({ ...o.credentials, userAgent: cfg.profile.userAgent, timeoutMs: 60_000 });
    this.cri = new CriClient(cfg.runtimeEndpoint, cfg.runtimeRequestTimeoutMs);
    this.tracing = startProcessTracing(cfg.tracing, cfg.profile, {
      ...(o.exporter ? { exporter: o.exporter } : {}),
      ...(o.processor ? { processor: o.processor } : {}),
      ...(o.env ? { env: o.env } : {}),
    });
    const random = seededRandom(o.seed);
    this.nodes = cfg.nodes.map(
      (spec, i) =>
        new SimNode({
          spec,
          // kind's first node is the control plane: the kubelet there runs the apiserver's static pod and probes it.
          controlPlane: i === 0,
          cfg,
          cri: this.cri,
          kube: this.kube,
          server: o.credentials.server,
          tracing: this.tracing.forNode(spec.name),
          wheel: this.wheel,
          log: o.log,
          random,
          sharedRuntime: cfg.nodes.length > 1,
          kernelVersion: release(),
          osImage: OS_IMAGE,
          ...o.node,
        }),
    );
  }

  /** Starts every node; resolves once all are registered (or have given up trying, for --register-node=false). */
  async start(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    this.wheel.stop();
    this.kube.close();
    this.cri.close();
    await this.tracing.shutdown();
  }
}
