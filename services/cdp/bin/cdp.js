#!/usr/bin/env node
// The cdp command: runs the TypeScript sources through tsx, so there is no build step between a checkout and a run.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
