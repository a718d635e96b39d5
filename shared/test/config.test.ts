import { describe, expect, it } from 'vitest';
import { FlagError, formatGoDuration, otlpGrpcUrl, parseDuration, parseFlags, parseResourceAttributes, resolveOtlpEndpoint, resourceAttributesFromEnv } from '../src/index.js';

describe('parseResourceAttributes', () => {
  it.each([
    [undefined, {}],
    ['', {}],
    ['a=b', { a: 'b' }],
    ['a=b,c=d', { a: 'b', c: 'd' }],
    [' a = b , c=d ', { a: 'b', c: 'd' }],
    ['k8s.cluster.name=demo%20one', { 'k8s.cluster.name': 'demo one' }],
    ['a=1=2', { a: '1=2' }],
    // Go's resource.Environment() drops the whole list when one pair is malformed.
    ['a=b,broken', {}],
    ['=b', {}],
    ['a=%zz', {}],
  ])('%j', (raw, want) => expect(parseResourceAttributes(raw)).toEqual(want));

  it('OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES', () => {
    expect(resourceAttributesFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=a,x=y', OTEL_SERVICE_NAME: 'b' })).toEqual({
      'service.name': 'b',
      x: 'y',
    });
  });
});

describe('OTLP endpoint', () => {
  it.each([
    ['localhost:4317', 'http://localhost:4317'],
    ['http://collector:4317', 'http://collector:4317'],
    ['https://collector:4317', 'https://collector:4317'],
    [' 127.0.0.1:4317 ', 'http://127.0.0.1:4317'],
  ])('otlpGrpcUrl(%s)', (e, want) => expect(otlpGrpcUrl(e)).toBe(want));

  it.each([
    ['configured wins', 'jaeger:4317', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4317' }, 'http://jaeger:4317'],
    ['signal env next', undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:2' }, 'http://t:1'],
    ['generic env', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://g:2' }, 'https://g:2'],
    ['blank config falls through', '  ', { OTEL_EXPORTER_OTLP_ENDPOINT: 'g:2' }, 'http://g:2'],
    ['default', undefined, {}, 'http://localhost:4317'],
  ])('%s', (_n, configured, env, want) => expect(resolveOtlpEndpoint(configured, env)).toBe(want));
});

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['2h', 7_200_000],
    ['5', 5000],
  ])('%s', (raw, ms) => expect(parseDuration(raw)).toBe(ms));
  it.each(['', 'abc', '10x', 's10', '10s5'])('rejects %j', (raw) => expect(() => parseDuration(raw)).toThrow(FlagError));
});

describe('parseFlags', () => {
  const specs = {
    name: { type: 'string', default: 'default', help: '' },
    'data-dir': { type: 'string', help: '' },
    count: { type: 'int', default: 1, help: '' },
    ratio: { type: 'float', default: 0.5, help: '' },
    verbose: { type: 'bool', default: false, help: '' },
    timeout: { type: 'duration', default: 1000, help: '' },
    urls: { type: 'stringArray', default: ['http://localhost:2379'], help: '' },
  } as const;

  it('applies defaults', () => {
    expect(parseFlags([], specs)).toEqual({
      name: 'default',
      count: 1,
      ratio: 0.5,
      verbose: false,
      timeout: 1000,
      urls: ['http://localhost:2379'],
      _: [],
    });
  });

  it.each([
    [['--name', 'x'], { name: 'x' }],
    [['--name=x=y'], { name: 'x=y' }],
    [['-name', 'x'], { name: 'x' }],
    [['--count', '3'], { count: 3 }],
    [['--verbose'], { verbose: true }],
    [['--verbose=false'], { verbose: false }],
    [['--timeout', '2s'], { timeout: 2000 }],
    [['--urls', 'a,b', '--urls', 'c'], { urls: ['a', 'b', 'c'] }],
    [['pos', '--data-dir', '/d', '--', '--not-a-flag'], { 'data-dir': '/d', _: ['pos', '--not-a-flag'] }],
  ])('%j', (argv, want) => expect(parseFlags(argv, specs)).toMatchObject(want));

  it.each([
    [['--nope'], 'unknown flag: --nope'],
    [['--count', 'x'], 'invalid argument "x" for "--count" flag: strconv.ParseInt: parsing "x": invalid syntax'],
    [['--verbose=maybe'], 'invalid argument "maybe" for "--verbose" flag'],
    [['--ratio', 'NaN'], 'invalid argument "NaN" for "--ratio" flag'],
    [['--timeout', '10x'], 'invalid argument "10x" for "--timeout" flag: time: invalid duration "10x"'],
    [['--name'], 'flag needs an argument: --name'],
  ])('rejects %j', (argv, msg) => {
    expect(() => parseFlags(argv, specs)).toThrow(FlagError);
    expect(() => parseFlags(argv, specs)).toThrow(msg);
  });
});

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1500, '1.5s'],
    [10_000, '10s'],
    [600_000, '10m0s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
  ])('%i', (ms, want) => expect(formatGoDuration(ms)).toBe(want));
});
