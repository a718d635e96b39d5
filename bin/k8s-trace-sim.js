#!/usr/bin/env node
// The package's one command. The TypeScript build (npm install runs it through
// `prepare`) puts the CLI in dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/src/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('k8s-trace-sim is not built yet: run `npm install` (or `npm run build`) in the repository first.\n');
  process.exit(1);
}
const { run } = await import(entry.href);
await run(process.argv.slice(2));
