import { Agent, request as httpsRequest } from 'node:https';
import { checkServerIdentity as nodeCheck, type PeerCertificate } from 'node:tls';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { httpClientEndAttributes, httpClientSpanName, httpClientStatus, injectIntoHeaders } from '../../shared/src/index.js';
import { goUrlHost, webhookClientAttributes, webhookTransportError } from './spans.js';
import type { RequestTrace } from './trace-context.js';

/** Where a webhook is reached: the URL Go would build (spans, errors) and where we really connect. */
export interface WebhookTarget {
  /** `https://svc.ns.svc:443/mutate?timeout=10s`, with the :443 Go keeps. */
  readonly goUrl: string;
  readonly host: string;
  readonly port: number;
  /** TLS server name to verify: `svc.ns.svc` for a service reference. */
  readonly servername: string;
  readonly path: string;
  readonly caBundle: string | undefined;
}

/** A failed call, worded as Go's *url.Error: `Post "https://…": dial tcp …`. */
export class WebhookCallError extends Error {
  override name = 'WebhookCallError';
}

export interface ClientConfig {
  readonly url?: string;
  readonly service?: { namespace?: string; name?: string; path?: string; port?: number };
  readonly caBundle?: string;
}

/**
 * The apiserver's client for admission webhooks (one per peer kind): it
 * resolves clientConfig (service references through --webhook-service-address,
 * since there is no cluster DNS), verifies the server against caBundle and
 * wraps every POST in an otelhttp `HTTP POST` CLIENT span that injects
 * traceparent.
 */
export class WebhookClient {
  constructor(private readonly serviceAddresses: ReadonlyMap<string, { host: string; port: number }>) {}

  resolve(cc: ClientConfig, timeoutSeconds: number): WebhookTarget {
    const ca = cc.caBundle ? Buffer.from(cc.caBundle, 'base64').toString('utf8') : undefined;
    const timeout = `timeout=${timeoutSeconds}s`;
    if (cc.url !== undefined) {
      const u = new URL(cc.url);
      const port = u.port === '' ? 443 : Number(u.port);
      const path = `${u.pathname}${u.search === '' ? '?' : `${u.search}&`}${timeout}`;
      return { goUrl: `${cc.url}${u.search === '' ? '?' : '&'}${timeout}`, host: u.hostname.replace(/^\[|\]$/g, ''), port, servername: u.hostname, path, caBundle: ca };
    }
    const s = cc.service ?? {};
    const svcHost = `${s.name ?? ''}.${s.namespace ?? ''}.svc`;
    const port = s.port ?? 443;
    const rawPath = s.path ?? '/';
    const path = `${rawPath.startsWith('/') ? rawPath : `/${rawPath}`}?${timeout}`;
    const mapped = this.serviceAddresses.get(`${s.namespace ?? ''}/${s.name ?? ''}`);
    return {
      goUrl: `https://${svcHost}:${port}${path}`,
      host: mapped?.host ?? svcHost,
      port: mapped?.port ?? port,
      servername: svcHost,
      path,
      caBundle: ca,
    };
  }

  /** POSTs `body`, resolving with the parsed JSON response; rejects with WebhookCallError. */
  post(rt: RequestTrace, t: WebhookTarget, body: string, timeoutSeconds: number): Promise<unknown> {
    const profile = rt.tracers.profile;
    const userAgent = 'kube-apiserver-admission';
    const contentLength = Buffer.byteLength(body);
    const span = rt.tracers.http.startSpan(
      httpClientSpanName(profile.otelhttp, 'POST'),
      { kind: SpanKind.CLIENT, attributes: webhookClientAttributes(profile, t.goUrl, { userAgent, contentLength }) },
      rt.ctx,
    );
    const headers: Record<string, string> = {
      // Go sends the URL's host (the service name and port), not the mapped address we dial.
      host: goUrlHost(t.goUrl) ?? t.servername,
      'content-type': 'application/json',
      accept: 'application/json, */*',
      'user-agent': userAgent,
      'content-length': String(contentLength),
    };
    injectIntoHeaders(trace.setSpan(rt.ctx, span), headers);
    const fail = (why: { goType: string; message: string }): WebhookCallError => {
      const err = new WebhookCallError(`Post "${t.goUrl}": ${why.message}`);
      const rec = webhookTransportError(profile, why.goType, why.message);
      span.setAttributes(rec.attributes);
      if (rec.exception) span.addEvent('exception', rec.exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: rec.exception ? why.message : err.message });
      span.end();
      return err;
    };
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: t.host,
          port: t.port,
          path: t.path,
          method: 'POST',
          headers,
          servername: /^[\d.]+$|:/.test(t.servername) ? undefined : t.servername,
          ...(t.caBundle ? { ca: t.caBundle } : {}),
          // Go verifies against the service DNS name even though we dial a mapped address.
          checkServerIdentity: (_host, cert) => checkName(t.servername, cert),
          agent: KEEP_ALIVE,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            span.setAttributes(httpClientEndAttributes(profile.otelhttp, status));
            span.setStatus(httpClientStatus(profile.otelhttp, status));
            span.end();
            const text = Buffer.concat(chunks).toString('utf8');
            if (status < 200 || status >= 300) {
              reject(new WebhookCallError(`an error on the server ("${text.slice(0, 200)}") has prevented the request from succeeding`));
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch (e) {
              reject(new WebhookCallError(`couldn't get version/kind; json parse error: ${(e as Error).message}`));
            }
          });
          res.on('error', (e: NodeJS.ErrnoException) => reject(fail(goNetError(e, t))));
        },
      );
      // The webhook's timeoutSeconds bounds the whole call, as the context deadline does in Go.
      const timer = setTimeout(() => req.destroy(new Error('context deadline exceeded')), timeoutSeconds * 1000);
      req.on('close', () => clearTimeout(timer));
      req.on('error', (e: NodeJS.ErrnoException) => reject(fail(goNetError(e, t))));
      req.end(body);
    });
  }
}

function checkName(name: string, cert: PeerCertificate): Error | undefined {
  const err = nodeCheck(name, cert);
  if (!err) return undefined;
  const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^DNS:|^IP Address:/, ''));
  return new Error(`tls: failed to verify certificate: x509: certificate is valid for ${sans.join(', ')}, not ${name}`);
}

// Go's transport keeps webhook connections alive; a TLS handshake per
// admission call would cost more CPU than the call. The agent keys pooled
// connections by host, port, CA and server name, so targets never mix.
const KEEP_ALIVE = new Agent({ keepAlive: true, maxSockets: 64 });

/** Node's socket and TLS errors as Go's transport returns them: the error's type and its words. */
export function goNetError(e: NodeJS.ErrnoException, t: Pick<WebhookTarget, 'host' | 'port'>): { goType: string; message: string } {
  const addr = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return { goType: '*net.OpError', message: `dial tcp ${addr}: connect: connection refused` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { goType: '*net.OpError', message: `dial tcp: lookup ${t.host}: no such host` };
    case 'ECONNRESET':
      return { goType: '*net.OpError', message: 'read: connection reset by peer' };
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return { goType: '*tls.CertificateVerificationError', message: 'tls: failed to verify certificate: x509: certificate signed by unknown authority' };
    case 'CERT_HAS_EXPIRED':
      return { goType: '*tls.CertificateVerificationError', message: 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid' };
    default:
      if (e.message === 'context deadline exceeded') return { goType: 'context.deadlineExceededError', message: e.message };
      if (e.message.startsWith('tls: failed to verify certificate')) return { goType: '*tls.CertificateVerificationError', message: e.message };
      return { goType: '*errors.errorString', message: e.message };
  }
}
