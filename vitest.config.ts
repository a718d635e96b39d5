import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests start real processes on free ports; two cores do not
    // gain from running many of those at once.
    maxWorkers: 2,
    reporters: ['default', './vitest-summary-reporter.ts'],
  },
});
