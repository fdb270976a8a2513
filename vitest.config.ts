import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the namespace test and the CLI tests spawn processes; 2 cores here
    testTimeout: 30_000,
  },
});
