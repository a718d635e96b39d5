import type {
  HttpClientTracing,
  KubeClient,
  KubeList,
  KubeObject,
  PatchType,
  RequestOptions,
  WatchEvent,
  WatchHandle,
} from '../../shared/src/index.js';
import type { ListWatcher } from '../../shared/src/informer.js';

/**
 * One simulated node's view of the apiserver: every request goes over the
 * process's single HTTP/2 connection (the shared KubeClient), and gets an
 * otelhttp CLIENT span on that node's tracer provider, as the real kubelet's
 * client config is wrapped with otelhttp.NewTransport.
 */
export class NodeApi implements ListWatcher {
  constructor(
    private readonly client: KubeClient,
    private readonly tracing: HttpClientTracing | undefined,
  ) {}

  request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    return this.client.request<T>(method, path, { ...o, tracing: this.tracing });
  }

  get<T extends KubeObject>(path: string, o?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, o);
  }
  list<T extends KubeObject>(path: string, o?: RequestOptions): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', path, o);
  }
  create<T extends KubeObject>(path: string, body: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...o, body });
  }
  replace<T extends KubeObject>(path: string, body: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, { ...o, body });
  }
  patch<T extends KubeObject>(path: string, type: PatchType, body: unknown, o?: RequestOptions): Promise<T> {
    const contentType = { merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', json: 'application/json-patch+json' }[type];
    return this.request<T>('PATCH', path, { ...o, body, contentType });
  }
  delete<T = unknown>(path: string, body?: unknown, o?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, { ...o, ...(body === undefined ? {} : { body }) });
  }

  /** A watch is one long GET: its span lasts until the stream ends. */
  watch<T extends KubeObject>(path: string, query: RequestOptions['query'], onEvent: (e: WatchEvent<T>) => void, o: RequestOptions = {}): WatchHandle {
    return this.client.watch<T>(path, query, onEvent, { ...o, tracing: this.tracing });
  }
}
