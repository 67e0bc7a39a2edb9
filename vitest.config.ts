// One test run for the whole repository: unit tests beside the code, integration suites under test/.
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// The test workers are processes of their own started after this: they inherit the thread pool's size for chDB.
createRequire(import.meta.url)('./services/cdp/bin/thread-pool.cjs');

export default defineConfig({
  test: {
    include: [
      'services/*/src/**/*.test.ts',
      'schemas/src/**/*.test.ts',
      'test/**/*.test.ts',
      'infra/**/*.test.ts',
      'dashboards/console/src/**/*.test.ts',
    ],
    globalSetup: ['test/harness/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // The JSON report lets CI print one plain 'N passed, N failed' line after the run.
    reporters: ['default', ['json', { outputFile: '.vitest-tmp/results.json' }]],
  },
});
