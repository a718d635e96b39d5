export { REPO_ROOT, CLI, freePort, waitForListen, startProcess } from './processes.js';
export type { RunningProcess } from './processes.js';
