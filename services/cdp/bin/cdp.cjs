#!/usr/bin/env node
// The cdp command: runs the TypeScript sources through tsx, so there is no build step between a checkout and a run.
// CommonJS, so that the thread pool is sized before anything starts it (thread-pool.cjs).
require('./thread-pool.cjs');

import('tsx/esm/api')
  .then(({ register }) => {
    register();
    return import('../src/main.ts');
  })
  .catch((error) => {
    process.exitCode = 1;
    throw error;
  });
