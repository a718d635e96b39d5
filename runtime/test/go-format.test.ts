import { describe, expect, it } from 'vitest';
import {
  formatContainerMetadata,
  formatSandboxMetadata,
  goDuration,
  goDurationMs,
  goQuote,
  goSignalText,
} from '../src/go-format.js';
import { formatLogLine, needsQuoting } from '../src/log-format.js';

describe('goDuration (time.Duration.String)', () => {
  it.each([
    [0n, '0s'],
    [1n, '1ns'],
    [999n, '999ns'],
    [1_000n, '1µs'],
    [1_500n, '1.5µs'],
    [48_100_000n, '48.1ms'],
    [48_123_456n, '48.123456ms'],
    [999_999_999n, '999.999999ms'],
    [1_000_000_000n, '1s'],
    [1_234_567_891n, '1.234567891s'],
    [60_000_000_000n, '1m0s'],
    [123_500_000_000n, '2m3.5s'],
    [3_600_000_000_001n, '1h0m0.000000001s'],
    [-1_500_000n, '-1.5ms'],
  ])('%s ns → %s', (ns, text) => {
    expect(goDuration(ns)).toBe(text);
  });

  it('takes fractional milliseconds', () => {
    expect(goDurationMs(2.5)).toBe('2.5ms');
  });
});

describe('goQuote (strconv.Quote)', () => {
  it.each([
    ['nginx', '"nginx"'],
    ['', '""'],
    ['say "hi"', '"say \\"hi\\""'],
    ['a\\b', '"a\\\\b"'],
    ['tab\there\n', '"tab\\there\\n"'],
    ['\u0001', '"\\x01"'],
    ['\u007f', '"\\x7f"'],
    ['héllo ☃', '"héllo ☃"'],
  ])('%j → %s', (input, quoted) => {
    expect(goQuote(input)).toBe(quoted);
  });
});

describe('metadata %+v', () => {
  it('prints the gogo String() of PodSandboxMetadata', () => {
    expect(formatSandboxMetadata({ name: 'nginx', uid: 'u-1', namespace: 'default', attempt: 0 })).toBe(
      '&PodSandboxMetadata{Name:nginx,Uid:u-1,Namespace:default,Attempt:0,}',
    );
  });
  it('prints ContainerMetadata', () => {
    expect(formatContainerMetadata({ name: 'nginx', attempt: 2 })).toBe('&ContainerMetadata{Name:nginx,Attempt:2,}');
  });
  it.each([null, undefined])('prints a nil pointer (%s) as "nil"', (m) => {
    expect(formatSandboxMetadata(m)).toBe('nil');
    expect(formatContainerMetadata(m)).toBe('nil');
  });
});

describe('goSignalText', () => {
  it.each([
    ['SIGTERM', 'terminated'],
    ['SIGQUIT', 'quit'],
    ['SIGKILL', 'killed'],
    ['SIGINT', 'interrupt'],
    ['SIGWINCH', 'window changed'],
    ['SIGRTMIN', 'signal SIGRTMIN'],
  ])('%s → %s', (sig, text) => {
    expect(goSignalText(sig)).toBe(text);
  });
});

describe('logrus text lines', () => {
  it.each([
    ['serving...', false],
    ['/run/containerd/containerd.sock', false],
    ['', true],
    ['two words', true],
    ['a=b', true],
    ['say"', true],
  ])('needsQuoting(%j) is %s', (text, quoted) => {
    expect(needsQuoting(text)).toBe(quoted);
  });

  it('puts time, level, msg, then the fields sorted, with the real error text', () => {
    const line = formatLogLine(new Date('2025-06-01T10:00:00.123Z'), {
      level: 'error',
      message: 'StartContainer for "abc" failed',
      fields: { id: 'x' },
      error: 'rpc error: code = NotFound desc = not found',
    });
    expect(line).toBe(
      'time="2025-06-01T10:00:00.123Z" level=error msg="StartContainer for \\"abc\\" failed" ' +
        'error="rpc error: code = NotFound desc = not found" id=x',
    );
  });
});
