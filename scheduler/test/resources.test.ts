import { describe, expect, it } from 'vitest';
import { formatBytes, formatMilliCpu, milliCpu, parseQuantity, quantityValue } from '../../shared/src/k8s/quantity.js';
import { allocatable, podRequests, usageOf } from '../src/resources.js';
import { node, pod } from './fixtures.js';

describe('quantities', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    ['0.5', 0.5],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['128Mi', 128 * 2 ** 20],
    ['1G', 1e9],
    ['1k', 1000],
    ['1e3', 1000],
    ['5E-1', 0.5],
    ['10Ki', 10240],
    ['bogus', undefined],
    ['1.2.3', undefined],
    ['', undefined],
  ])('%s → %s', (raw, want) => {
    expect(parseQuantity(raw)).toBe(want);
  });

  it.each([
    ['100m', 100],
    ['1', 1000],
    ['0.0001', 1],
    ['2.5', 2500],
  ])('cpu %s → %i millicores', (raw, want) => {
    expect(milliCpu(raw)).toBe(want);
  });

  it('values round up and print canonically', () => {
    expect(quantityValue('1.5')).toBe(2);
    expect(quantityValue('110')).toBe(110);
    expect(formatMilliCpu(1500)).toBe('1500m');
    expect(formatMilliCpu(8000)).toBe('8');
    expect(formatBytes(16 * 2 ** 30)).toBe('16Gi');
    expect(formatBytes(1000)).toBe('1000');
  });
});

describe('requests', () => {
  it('sums containers, defaults a missing request to the limit, and keeps non-zero defaults for scoring', () => {
    const p = pod('a', { cpu: '250m', memory: '64Mi' });
    p.spec.containers.push({ name: 'side', image: 'busybox', resources: { limits: { cpu: '500m' } } }, { name: 'bare', image: 'busybox' });
    expect(podRequests(p)).toEqual({
      cpu: 750,
      memory: 64 * 2 ** 20,
      ephemeralStorage: 0,
      nonzeroCpu: 850,
      nonzeroMemory: 64 * 2 ** 20 + 2 * 200 * 2 ** 20,
    });
  });

  it('an init container larger than the containers decides', () => {
    const p = pod('a', { cpu: '100m', spec: { initContainers: [{ name: 'init', image: 'busybox', resources: { requests: { cpu: '2' } } }] } });
    expect(podRequests(p).cpu).toBe(2000);
  });

  it('usage counts pods; allocatable falls back to capacity and 110 pods', () => {
    expect(usageOf([pod('a', { cpu: '1' }), pod('b')])).toMatchObject({ pods: 2, cpu: 1000, nonzeroCpu: 1100 });
    const n = node('n');
    delete n.status?.allocatable;
    delete n.status?.capacity?.['pods'];
    expect(allocatable(n)).toEqual({ pods: 110, cpu: 4000, memory: 8 * 2 ** 30, ephemeralStorage: 100 * 2 ** 30 });
  });
});
