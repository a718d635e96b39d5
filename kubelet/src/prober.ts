import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Klog } from '../../shared/src/klog.js';
import type { Rand } from '../../shared/src/random.js';
import { PROBE_TIMEOUT_MS } from './background.js';

/**
 * The prober of the node that hosts the control plane's static pods, as it
 * runs the kube-apiserver pod's HTTP probes (pkg/probe/http): a fresh
 * HTTP/1.1 connection per probe (DisableKeepAlives), TLS without
 * verification, `User-Agent: kube-probe/<major>.<minor>`, `Accept: *\/*`,
 * and no trace context: the prober is not instrumented, so each probe shows
 * up only as an apiserver root server span. The apiserver address is the
 * kubeconfig's server, where kubeadm's manifest names the advertise address.
 */

/** What a probe needs; the result is the HTTP status, or undefined when the request failed. */
export function probeOnce(server: string, path: string, userAgent: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<number | undefined> {
  const url = new URL(path, server);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'GET',
        agent: false,
        rejectUnauthorized: false,
        headers: { 'User-Agent': userAgent, Accept: '*/*', Connection: 'close' },
        timeout: timeoutMs,
      },
      (res: IncomingMessage) => {
        // The prober reads at most 10 KiB of the body, then closes.
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export interface ProberOptions {
  readonly server: string;
  readonly probes: ReadonlyArray<{ readonly path: string; readonly periodMs: number }>;
  readonly userAgent: string;
  readonly log: Klog;
  readonly random: Rand;
}

export class ApiserverProber {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;
  probes = 0;

  constructor(private readonly o: ProberOptions) {}

  start(): void {
    for (const p of this.o.probes) {
      const run = (): void => {
        if (this.stopped) return;
        this.probes++;
        const done = probeOnce(this.o.server, p.path, this.o.userAgent).then((status) => {
          if (status === undefined || status < 200 || status >= 400) {
            this.o.log.v(1, 'prober.go:107', 'Probe failed', {
              probeType: p.path === '/livez' ? 'Liveness' : 'Readiness',
              pod: 'kube-system/kube-apiserver',
              containerName: 'kube-apiserver',
              probeResult: 'failure',
              output: status === undefined ? `Get "${new URL(p.path, this.o.server).href}": connection failed` : `HTTP probe failed with statuscode: ${status}`,
            });
          }
        });
        this.inFlight.add(done);
        void done.finally(() => this.inFlight.delete(done));
      };
      // Each probe worker starts at a random point of its period, as the kubelet's do.
      const first = setTimeout(() => {
        run();
        const t = setInterval(run, p.periodMs);
        t.unref();
        this.timers.push(t);
      }, this.o.random() * p.periodMs);
      first.unref();
      this.timers.push(first);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([...this.inFlight]);
  }
}
