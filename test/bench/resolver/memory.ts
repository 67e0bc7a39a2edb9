// Child part (run with --expose-gc): the identity graph's resident memory for a million identifiers, in a fresh process.
import { performance } from 'node:perf_hooks';
import type { Identifier } from '@cdp/schemas';
import { createIdentityGraph } from '@cdp/resolver';
import { report } from './child';

export interface MemoryResult {
  identifiers: number;
  records: number;
  rssMbPerMillion: number;
  heapMbPerMillion: number;
  recordsPerSecond: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const settle = () => {
  // Twice: the first pass can leave garbage that only becomes collectable after finalisation.
  gc();
  gc();
  return process.memoryUsage();
};

const customers = Math.ceil(Number(process.env.BENCH_IDENTIFIERS ?? 1_000_000) / 4);
const before = settle();
const graph = createIdentityGraph();
let records = 0;
const started = performance.now();
for (let index = 0; index < customers; index += 1) {
  // Fresh objects and strings per record, as decoding a link record from the log makes them. Values as the graph
  // holds them: pseudonyms, 32 hex characters each (made here without the HMAC, which the resolver computes before
  // it appends a record, not when it applies one).
  const hex = index.toString(16).padStart(28, '0');
  const pseudonym = (kind: string) => `${kind}${hex}`;
  const device = (): Identifier => ({ type: 'anonymous_id', value: pseudonym('a0d1') });
  // The link records the resolver appends: the first anonymous page view, then the login (strongest identifier first).
  graph.apply([device()]);
  graph.apply([
    { type: 'user_id', value: pseudonym('b0d1') },
    { type: 'email', value: pseudonym('c0d1') },
    { type: 'phone', value: pseudonym('d0d1') },
    device(),
  ]);
  records += 2;
}
const seconds = (performance.now() - started) / 1000;
const after = settle();
const perMillion = (bytes: number) => Math.round(((bytes / graph.size) * 1_000_000) / 1024 / 1024);
const result: MemoryResult = {
  identifiers: graph.size,
  records,
  rssMbPerMillion: perMillion(after.rss - before.rss),
  heapMbPerMillion: perMillion(after.heapUsed - before.heapUsed),
  recordsPerSecond: Math.round(records / seconds),
};
report(result);
