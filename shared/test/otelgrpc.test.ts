import { messageEventsOnError, statusProtoSize } from '../src/otelgrpc.js';
import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { status } from '@grpc/grpc-js';
import {
  grpcMessageEvent,
  grpcSpanStart,
  grpcSpanStatus,
  grpcStatusAttributes,
  parseFullMethod,
  parsePeer,
  type OtelGrpcProfile,
} from '../src/index.js';

const V020: OtelGrpcProfile = { version: '0.20.0', keys: 'v0.20', messageEvents: 'full', serverErrors: 'any' };
const V042: OtelGrpcProfile = { version: '0.42.0', keys: 'v0.42', messageEvents: 'type-id', serverErrors: 'server-fault' };
const V046: OtelGrpcProfile = { version: '0.46.0', keys: 'v0.42', messageEvents: 'none', serverErrors: 'server-fault' };
const V060S: OtelGrpcProfile = { version: '0.60.0', keys: 'v0.42', messageEvents: 'stats', serverErrors: 'server-fault' };
const V061: OtelGrpcProfile = { version: '0.61.0', keys: 'v0.61', messageEvents: 'stats', serverErrors: 'server-fault' };
const V065: OtelGrpcProfile = { version: '0.65.0', keys: 'v0.65', messageEvents: 'stats', serverErrors: 'server-fault' };

describe('parseFullMethod', () => {
  it.each([
    ['/etcdserverpb.KV/Range', { service: 'etcdserverpb.KV', method: 'Range' }],
    ['runtime.v1.RuntimeService/RunPodSandbox', { service: 'runtime.v1.RuntimeService', method: 'RunPodSandbox' }],
    ['/NoService', undefined],
    ['/svc/', undefined],
    ['', undefined],
  ])('%s', (input, want) => expect(parseFullMethod(input)).toEqual(want));
});

describe('parsePeer', () => {
  it.each([
    ['127.0.0.1:2379', { host: '127.0.0.1', port: 2379 }],
    ['ipv4:10.0.0.1:51712', { host: '10.0.0.1', port: 51712 }],
    ['[::1]:6443', { host: '::1', port: 6443 }],
    ['ipv6:[::1]:6443', { host: '::1', port: 6443 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    // grpc-js on a unix socket reports the path or nothing: no peer attributes.
    ['/run/containerd/containerd.sock', undefined],
    ['unix:/tmp/x.sock', undefined],
    ['', undefined],
    [undefined, undefined],
    ['127.0.0.1:0', undefined],
    ['127.0.0.1:70000', undefined],
  ])('%s', (input, want) => expect(parsePeer(input)).toEqual(want));
});

describe('grpcSpanStart', () => {
  const peer = { host: '127.0.0.1', port: 51234 };
  it.each([
    ['v0.20 string port', V020, peer, { 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Txn', 'net.peer.ip': '127.0.0.1', 'net.peer.port': '51234' }],
    ['v0.42 sock peer int port', V046, peer, { 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Txn', 'net.sock.peer.addr': '127.0.0.1', 'net.sock.peer.port': 51234 }],
    ['v0.42 by name', V042, { host: 'etcd', port: 2379 }, { 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Txn', 'net.peer.name': 'etcd', 'net.peer.port': 2379 }],
    ['v0.61 server.*', V061, peer, { 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Txn', 'server.address': '127.0.0.1', 'server.port': 51234 }],
    ['v0.65 new rpc semconv', V065, peer, { 'rpc.system.name': 'grpc', 'rpc.method': 'etcdserverpb.KV/Txn', 'server.address': '127.0.0.1', 'server.port': 51234 }],
    ['no peer (unix socket)', V060S, undefined, { 'rpc.system': 'grpc', 'rpc.service': 'etcdserverpb.KV', 'rpc.method': 'Txn' }],
  ])('%s', (_n, profile, p, attrs) => {
    const got = grpcSpanStart(profile, '/etcdserverpb.KV/Txn', SpanKind.SERVER, p);
    expect(got.name).toBe('etcdserverpb.KV/Txn');
    expect(got.kind).toBe(SpanKind.SERVER);
    expect(got.attributes).toEqual(attrs);
    // Attribute order is otelgrpc's: system, service, method, then peer.
    expect(Object.keys(got.attributes)).toEqual(Object.keys(attrs));
  });
});

describe('grpcStatusAttributes', () => {
  it.each([
    [V046, status.OK, { 'rpc.grpc.status_code': 0 }],
    [V046, status.NOT_FOUND, { 'rpc.grpc.status_code': 5 }],
    [V065, status.OK, { 'rpc.response.status_code': 'OK' }],
    [V065, status.OUT_OF_RANGE, { 'rpc.response.status_code': 'OUT_OF_RANGE' }],
  ])('%o code %i', (profile, code, want) => expect(grpcStatusAttributes(profile, code)).toEqual(want));
});

describe('grpcSpanStatus', () => {
  const E = SpanStatusCode.ERROR;
  const U = SpanStatusCode.UNSET;
  it.each([
    ['ok server', V046, SpanKind.SERVER, status.OK, U],
    ['ok client', V046, SpanKind.CLIENT, status.OK, U],
    ['not found server v0.46', V046, SpanKind.SERVER, status.NOT_FOUND, U],
    ['failed precondition server v0.46', V046, SpanKind.SERVER, status.FAILED_PRECONDITION, U],
    ['out of range server v0.46', V046, SpanKind.SERVER, status.OUT_OF_RANGE, U],
    ['invalid argument server v0.46', V046, SpanKind.SERVER, status.INVALID_ARGUMENT, U],
    ['internal server v0.46', V046, SpanKind.SERVER, status.INTERNAL, E],
    ['unavailable server v0.46', V046, SpanKind.SERVER, status.UNAVAILABLE, E],
    ['deadline server v0.46', V046, SpanKind.SERVER, status.DEADLINE_EXCEEDED, E],
    ['unknown server v0.46', V046, SpanKind.SERVER, status.UNKNOWN, E],
    ['unimplemented server v0.46', V046, SpanKind.SERVER, status.UNIMPLEMENTED, E],
    ['data loss server v0.46', V046, SpanKind.SERVER, status.DATA_LOSS, E],
    ['not found server v0.20', V020, SpanKind.SERVER, status.NOT_FOUND, E],
    ['not found client', V046, SpanKind.CLIENT, status.NOT_FOUND, E],
    ['cancelled client', V065, SpanKind.CLIENT, status.CANCELLED, E],
  ])('%s', (_n, profile, kind, code, want) => {
    const got = grpcSpanStatus(profile, kind as SpanKind.CLIENT | SpanKind.SERVER, code, 'msg');
    expect(got.code).toBe(want);
    if (want === E) expect(got.message).toBe('msg');
  });
});

describe('grpcMessageEvent', () => {
  it.each([
    [V046, undefined],
    [V020, { 'message.type': 'SENT', 'message.id': 1, 'message.uncompressed_size': 42 }],
    [V042, { 'message.type': 'SENT', 'message.id': 1 }],
    [V060S, { 'message.type': 'SENT', 'message.id': 1, 'message.compressed_size': 42, 'message.uncompressed_size': 42 }],
    [V065, { 'rpc.message.type': 'SENT', 'rpc.message.id': 1, 'rpc.message.compressed_size': 42, 'rpc.message.uncompressed_size': 42 }],
  ])('%o', (profile, want) => expect(grpcMessageEvent(profile, 'SENT', 1, 42)).toEqual(want));
});

describe('message events on a failed call', () => {
  it.each([
    ['full', true],
    ['type-id', true],
    ['stats', false],
    ['none', false],
  ] as const)('%s records them: %s', (messageEvents, want) => {
    expect(messageEventsOnError({ version: 'x', keys: 'v0.20', messageEvents, serverErrors: 'any' })).toBe(want);
  });

  it.each([
    [0, '', 0],
    [5, 'not found', 13],
    [9, 'x'.repeat(200), 205],
    [16, 'unauthenticated', 19],
  ])('google.rpc.Status{code %i, message of %#} is %i bytes', (code, message, size) => {
    expect(statusProtoSize(code, message)).toBe(size);
  });
});
