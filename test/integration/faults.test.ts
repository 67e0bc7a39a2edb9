// The short subset of `pnpm test:faults` CI runs: a kill -9 of the process that resolves (on Kafka, ingest in a
// process of its own) and a kill -9 of `cdp start` with a torn embedded log tail, each under load, through the same
// runner; nothing accepted is lost, nothing counted twice, no 5xx, every profile's stats and segment membership and
// the KPIs equal the truth's, and the resolver's lag returns to zero.
import { describe, expect, it, inject } from 'vitest';
import { runFault, type FaultName } from '../faults/runner';

const subset: FaultName[] = ['kill -9 resolver + segments + query-api', 'kill -9 cdp start, torn log tail'];

describe('faults under load', () => {
  it.each(subset)('%s', { timeout: 240_000 }, async (fault) => {
    const result = await runFault(fault, { customers: 25, seed: 3, brokers: inject('kafkaBrokers') });
    expect(result.accepted).toBe(result.sent);
    expect({
      lost: result.lost,
      countedTwice: result.countedTwice,
      serverErrors: result.serverErrors,
      clientErrors: result.clientErrors,
      stored: result.stored,
      profilesWrong: result.profilesWrong,
      analyticsDifferences: result.analyticsDifferences,
      recovered: result.recoverMs !== null,
    }).toEqual({
      lost: 0,
      countedTwice: 0,
      serverErrors: 0,
      clientErrors: 0,
      stored: result.expected,
      profilesWrong: 0,
      analyticsDifferences: [],
      recovered: true,
    });
  });
});
