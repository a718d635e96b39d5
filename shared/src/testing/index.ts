export { REPO_ROOT, CLI, freePort, waitForListen, startProcess } from './processes.js';
export type { RunningProcess } from './processes.js';
export { readOtlpJsonLines } from './otlp-file.js';
export type { FileSpan } from './otlp-file.js';
export { startFakeApiserver, mergePatch } from './fake-apiserver.js';
export type { FakeApiserver, RecordedRequest } from './fake-apiserver.js';
export { findTells, backgroundTells, expectedRouteName, formatViolations, describeSpan } from './tells.js';
export type { TellSpan, TellOptions, Violation } from './tells.js';
