import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain `N passed, N failed, N skipped` line, which CI
 * systems that do not parse vitest's own summary can read, and a second line
 * when errors outside any test (an uncaught exception) failed the run anyway.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    // A failing beforeAll or import fails its suite and leaves its tests skipped.
    let brokenSuites = 0;
    for (const m of modules) {
      const suites = [...m.children.allSuites()];
      const failedTests = (x: { children: { allTests(): Iterable<{ result(): { state: string } }> } }): boolean =>
        [...x.children.allTests()].some((t) => t.result().state === 'failed');
      brokenSuites += suites.filter((su) => su.state() === 'failed' && !failedTests(su)).length;
      if (m.state() === 'failed' && !failedTests(m) && !suites.some((su) => su.state() === 'failed')) brokenSuites++;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (brokenSuites > 0) process.stdout.write(`${brokenSuites} suite${brokenSuites === 1 ? '' : 's'} failed outside any test (a hook or an import): the run fails\n`);
    if (errors.length > 0) process.stdout.write(`${errors.length} unhandled error${errors.length === 1 ? '' : 's'} outside the tests: the run fails\n`);
  }
}
