import {
  context,
  trace,
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';

/**
 * Absolute wall-clock milliseconds with the monotonic clock's sub-millisecond
 * precision.
 *
 * Why: the JS SDK (2.x) starts every span at Date.now(), truncated to the
 * millisecond, and measures its end from that with performance.now(). Two
 * spans a few microseconds apart can therefore land on either side of a
 * millisecond boundary, and a child then appears to end after its parent
 * (or a server span outside its client span) by up to 1 ms — a tell
 * (kubernetes-traces.md §10.11). Taking every time from this one clock keeps
 * nesting exact within a process.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

const isTime = (v: unknown): v is TimeInput => typeof v === 'number' || v instanceof Date || (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number');

/** A span whose events and end default to preciseNow() (the SDK would use a truncated Date.now()). */
class PreciseSpan implements Span {
  constructor(private readonly s: Span) {}
  spanContext(): SpanContext {
    return this.s.spanContext();
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.s.setAttribute(key, value);
    return this;
  }
  setAttributes(attributes: Attributes): this {
    this.s.setAttributes(attributes);
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    if (isTime(attributesOrStartTime)) this.s.addEvent(name, attributesOrStartTime);
    else this.s.addEvent(name, attributesOrStartTime, startTime ?? preciseNow());
    return this;
  }
  addLink(link: Link): this {
    this.s.addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.s.addLinks(links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.s.setStatus(status);
    return this;
  }
  updateName(name: string): this {
    this.s.updateName(name);
    return this;
  }
  end(endTime?: TimeInput): void {
    this.s.end(endTime ?? preciseNow());
  }
  isRecording(): boolean {
    return this.s.isRecording();
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.s.recordException(exception, time ?? preciseNow());
  }
}

/** Wraps a tracer so every span it starts takes its start, event and end times from preciseNow(). */
export function preciseTracer(t: Tracer): Tracer {
  const startSpan = (name: string, options: SpanOptions = {}, ctx?: Context): Span =>
    new PreciseSpan(t.startSpan(name, { ...options, startTime: options.startTime ?? preciseNow() }, ctx));
  function startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const options = (args.length >= 2 ? args[0] : {}) as SpanOptions;
    const ctx = (args.length >= 3 ? args[1] : context.active()) as Context;
    const span = startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
  return { startSpan, startActiveSpan } as Tracer;
}
