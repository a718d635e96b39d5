import {
  ROOT_CONTEXT,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Metadata } from '@grpc/grpc-js';

// Every imitated component registers TraceContext + Baggage (component-base
// Propagators(), etcd, containerd 1.7+), so one instance serves them all.
const propagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const v = md.get(key)[0];
    return v === undefined ? undefined : String(v);
  },
};
const metadataSetter: TextMapSetter<Metadata> = {
  set: (md, key, value) => md.set(key, value),
};

type HeaderBag = Record<string, string | string[] | undefined>;
const headerGetter: TextMapGetter<HeaderBag> = {
  keys: (h) => Object.keys(h),
  get: (h, key) => {
    const found = h[key] ?? h[key.toLowerCase()];
    return Array.isArray(found) ? found[0] : found;
  },
};
const headerSetter: TextMapSetter<Record<string, string>> = {
  set: (h, key, value) => {
    h[key] = value;
  },
};

/** The caller's context from gRPC metadata (traceparent, tracestate, baggage). */
export function extractFromMetadata(md: Metadata, base: Context = ROOT_CONTEXT): Context {
  return propagator.extract(base, md, metadataGetter);
}

export function injectIntoMetadata(ctx: Context, md: Metadata): void {
  propagator.inject(ctx, md, metadataSetter);
}

/** The caller's context from HTTP request headers (node lower-cases their names). */
export function extractFromHeaders(headers: HeaderBag, base: Context = ROOT_CONTEXT): Context {
  return propagator.extract(base, headers, headerGetter);
}

export function injectIntoHeaders(ctx: Context, headers: Record<string, string>): void {
  propagator.inject(ctx, headers, headerSetter);
}
