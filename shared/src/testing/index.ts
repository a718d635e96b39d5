export { REPO_ROOT, CLI, freePort, waitForListen, startProcess } from './processes.js';
export type { RunningProcess } from './processes.js';
export { readOtlpJsonLines } from './otlp-file.js';
export type { FileSpan } from './otlp-file.js';
