import type { KubeClient } from '../../shared/src/index.js';

/**
 * One simulated node's view of the apiserver: the process's single HTTP/2
 * connection (the shared KubeClient), with otelhttp CLIENT spans recorded on
 * that node's tracer provider (KubeClient.withTracing), as the real kubelet's
 * client config is wrapped with otelhttp.NewTransport.
 */
export type NodeApi = KubeClient;
