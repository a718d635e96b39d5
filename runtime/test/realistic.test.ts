import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { parentBasedAlwaysOn, startTracing, type Tracing } from '../../shared/src/index.js';
import { startRuntimeServer, type StartedRuntime } from '../src/server.js';
import { REALISTIC } from '../src/timing.js';
import { containerConfig, criClient, sandboxConfig, type CriClient } from './cri-client.js';

// With the realistic table the server spans take the time kubernetes-traces.md
// §7 gives each call, so a waterfall shows where a pod start spends it.

let exporter: InMemorySpanExporter;
let tracing: Tracing;
let rt: StartedRuntime;
let cri: CriClient;

beforeAll(async () => {
  exporter = new InMemorySpanExporter();
  tracing = startTracing({ resource: {}, enabled: true, sampler: parentBasedAlwaysOn(), exporter, processor: 'simple' });
  rt = await startRuntimeServer({ address: '127.0.0.1:0', timing: REALISTIC, seed: 5, tracing });
  cri = criClient(rt.address);
});

afterAll(async () => {
  cri.close();
  await rt.close();
  await tracing.shutdown();
});

const durationMs = (name: string): number => {
  const span = exporter.getFinishedSpans().find((s: ReadableSpan) => s.name === name);
  if (!span) throw new Error(`no span ${name}`);
  return hrTimeToMilliseconds(span.duration);
};

describe('realistic timing', () => {
  it('spends RunPodSandbox, CreateContainer and StartContainer time inside the server spans', async () => {
    const { podSandboxId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig('slow', 'u-slow') });
    // The pause image is preloaded, so this container needs no pull.
    const { containerId } = await cri.runtime('CreateContainer', {
      podSandboxId,
      config: containerConfig('pause', 'registry.k8s.io/pause:3.10'),
      sandboxConfig: sandboxConfig('slow', 'u-slow'),
    });
    await cri.runtime('StartContainer', { containerId });
    await cri.runtime('PodSandboxStatus', { podSandboxId });

    const run = durationMs('runtime.v1.RuntimeService/RunPodSandbox');
    expect(run).toBeGreaterThanOrEqual(200);
    expect(run).toBeLessThanOrEqual(1600);
    const create = durationMs('runtime.v1.RuntimeService/CreateContainer');
    expect(create).toBeGreaterThanOrEqual(20);
    expect(create).toBeLessThanOrEqual(170);
    const start = durationMs('runtime.v1.RuntimeService/StartContainer');
    expect(start).toBeGreaterThanOrEqual(50);
    expect(start).toBeLessThanOrEqual(320);
    const status = durationMs('runtime.v1.RuntimeService/PodSandboxStatus');
    expect(status).toBeGreaterThanOrEqual(1);
    expect(status).toBeLessThanOrEqual(20);
  });
});
