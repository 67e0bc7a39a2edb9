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
  // Fresh objects and strings per record, as decoding a link record from the log makes them.
  // Values as long as real ones: a UUID anonymousId, a database userId, an email, an E.164 phone.
  const hex = index.toString(16).padStart(12, '0');
  const device = (): Identifier => ({ type: 'anonymous_id', value: `5f0c2b7e-${hex.slice(0, 4)}-4a2e-9c1d-${hex}` });
  // The link records the resolver appends: the first anonymous page view, then the login (strongest identifier first).
  graph.apply([device()]);
  graph.apply([
    { type: 'user_id', value: `usr_${String(index).padStart(10, '0')}` },
    { type: 'email', value: `customer.${index}@example.com` },
    { type: 'phone', value: `+8490${String(1_000_000 + index).padStart(7, '0')}` },
    device(),
  ]);
  records += 2;
}
const seconds = (performance.now() - started) / 1000;
const after = settle();
const perMillion = (bytes: number) => Math.round((bytes / graph.size) * 1_000_000 / 1024 / 1024);
const result: MemoryResult = {
  identifiers: graph.size,
  records,
  rssMbPerMillion: perMillion(after.rss - before.rss),
  heapMbPerMillion: perMillion(after.heapUsed - before.heapUsed),
  recordsPerSecond: Math.round(records / seconds),
};
report(result);
