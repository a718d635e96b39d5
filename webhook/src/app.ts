import Fastify, { type FastifyInstance } from 'fastify';
import { SpanKind, type Tracer } from '@opentelemetry/api';
import {
  extractFromHeaders,
  httpServerEndAttributes,
  httpServerStartAttributes,
  httpServerStatus,
} from '../../shared/src/index.js';
import { review, DEFAULT_MUTATION, type Mutation } from './admission.js';
import { WEBHOOK_OTELHTTP, webhookSpanName } from './spans.js';

export interface WebhookAppOptions {
  readonly cert: string;
  readonly key: string;
  readonly tracer: Tracer;
  readonly path?: string;
  readonly mutation?: Mutation;
}

/** `host:port` from a Host header; the port defaults to 443 as the apiserver dials https. */
export function splitHost(host: string | undefined): { host: string; port: number | undefined } {
  if (!host) return { host: '', port: undefined };
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(host) ?? /^([^:]+)(?::(\d+))?$/.exec(host);
  if (!m) return { host, port: undefined };
  return { host: m[1] as string, port: m[2] !== undefined ? Number(m[2]) : 443 };
}

/**
 * The admission webhook: HTTPS with HTTP/1.1 only (kubebuilder scaffolds turn
 * HTTP/2 off), one otelhttp SERVER span per AdmissionReview, child of the
 * apiserver's `HTTP POST` through the traceparent header.
 */
export function buildWebhook(opts: WebhookAppOptions): FastifyInstance {
  const path = opts.path ?? '/mutate-v1-pod';
  const app = Fastify({ https: { cert: opts.cert, key: opts.key }, logger: false, bodyLimit: 3 * 1024 * 1024 });
  // controller-runtime reads the body itself and answers decode problems inside
  // the AdmissionReview, so every content type reaches the handler as text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/healthz', async () => 'ok');
  app.get('/readyz', async () => 'ok');

  app.route({
    method: ['POST', 'GET', 'PUT'],
    url: path,
    handler: async (req, reply) => {
      const raw = req.raw;
      const { host, port } = splitHost(req.headers.host);
      const span = opts.tracer.startSpan(
        webhookSpanName(path),
        {
          kind: SpanKind.SERVER,
          attributes: httpServerStartAttributes(WEBHOOK_OTELHTTP, {
            method: req.method,
            path,
            scheme: 'https',
            host,
            port,
            peerAddress: raw.socket.remoteAddress,
            peerPort: raw.socket.remotePort,
            userAgent: req.headers['user-agent'],
            forwardedFor: String(req.headers['x-forwarded-for'] ?? '').split(',')[0]?.trim() || undefined,
            protocolVersion: raw.httpVersion,
          }),
        },
        extractFromHeaders(req.headers),
      );
      const text = typeof req.body === 'string' ? req.body : '';
      let parsed: unknown;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        parsed = null;
      }
      const answer =
        text === ''
          ? { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: '', allowed: false, status: { code: 400, message: 'request body is empty' } } }
          : review(parsed, opts.mutation ?? DEFAULT_MUTATION);
      const out = JSON.stringify(answer);
      span.setAttributes(
        httpServerEndAttributes(WEBHOOK_OTELHTTP, { requestBodySize: Buffer.byteLength(text), responseBodySize: Buffer.byteLength(out), statusCode: 200 }),
      );
      span.setStatus(httpServerStatus(WEBHOOK_OTELHTTP, 200));
      // Go's otelhttp handler ends the span when ServeHTTP returns, while the
      // response still sits in the ResponseWriter's buffer: before the bytes
      // leave, so before the caller's client span can end.
      span.end();
      return reply.code(200).header('content-type', 'application/json').send(out);
    },
  });
  return app;
}
