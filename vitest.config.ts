import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the namespace test and the CLI tests spawn processes; 2 cores here
    testTimeout: 30_000,
    // after the summary: "skipped: <group> (<file>): <why>" for each group that did not run
    reporters: ['default', './test/skip-reporter.ts'],
  },
});
