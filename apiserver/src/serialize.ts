import { stringify as yamlStringify } from 'yaml';
import { StatusError, statusErrors } from '../../shared/src/index.js';
import type { Exchange } from './exchange.js';
import { encoderIdentifier, responseWriterType, serializeObjectAttributes, serializeObjectEvents } from './spans.js';
import type { RequestTrace } from './trace-context.js';

/**
 * responsewriters.SerializeObject: encode, write, under a `SerializeObject`
 * span (a child of the handler span from 1.32, of the request's context
 * before) with its two events. JSON ends with a newline, as Go's json.Encoder
 * writes it.
 */
export function serializeObject(rt: RequestTrace, ex: Exchange, status: number, mediaType: string, groupVersion: string, body: unknown): void {
  const profile = rt.tracers.profile;
  const span = rt.tracers.componentBase.startSpan(
    'SerializeObject',
    {
      attributes: serializeObjectAttributes({
        auditId: rt.auditId,
        method: ex.method,
        path: ex.path,
        protocol: ex.protocol,
        mediaType,
        encoder: encoderIdentifier(groupVersion),
      }),
    },
    rt.ctx,
  );
  try {
    const text = mediaType === 'application/yaml' ? yamlStringify(body) : `${JSON.stringify(body)}\n`;
    const buf = Buffer.from(text, 'utf8');
    const events = serializeObjectEvents(profile, { writer: responseWriterType(profile, ex.protocol), size: buf.length });
    span.addEvent('About to start writing response', events.start);
    ex.send(status, mediaType, buf);
    span.addEvent('Write call succeeded', events.succeeded);
  } finally {
    span.end();
  }
}

/**
 * The one mapping from a thrown value to the wire: a StatusError goes out as
 * its Status; anything else is a 500 whose detail stays in the log.
 */
export function toStatusError(e: unknown, log: (msg: string, fields?: Record<string, unknown>) => void): StatusError {
  if (e instanceof StatusError) return e;
  log('unexpected error serving a request', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  return statusErrors.internal('an unexpected error occurred while serving the request');
}

/** scope.err → ErrorNegotiated: a Status, serialized like any object (JSON). */
export function writeError(rt: RequestTrace, ex: Exchange, e: unknown, groupVersion: string, log: (msg: string, fields?: Record<string, unknown>) => void): void {
  if (ex.closed || ex.status !== 0) return;
  const err = toStatusError(e, log);
  serializeObject(rt, ex, err.code, 'application/json', groupVersion, err.status);
}
