// A resolver killed with SIGKILL in the middle of its work and started again: no event lost, none counted twice.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { generateCustomers } from '../generators/customers';
import { runtimeEnv, runtimes, uniqueName } from '../harness/platform';
import { counterOf, read, send } from '../harness/http';
import { cdpProcesses } from '../harness/process';

describe.each(runtimes)('resolver crash on the %s runtime', (runtime) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-resolver-crash-'));
  // Small batches, so the kill lands with some batches written and others not.
  const env: Record<string, string> = { ...runtimeEnv(runtime, dataDir), CDP_RESOLVER_BATCH_SIZE: '100' };
  const { start, cleanUp } = cdpProcesses(dataDir, env);
  afterAll(cleanUp);

  const written = (url: string) => counterOf(url, 'cdp_resolver_events_written_total');

  it('loses nothing and counts nothing twice after a SIGKILL mid-batch', { timeout: 240_000 }, async () => {
    const data = generateCustomers({ customers: 150, seed: 11, prefix: uniqueName('crash') });
    const first = await start();
    for (let offset = 0; offset < data.messages.length; offset += 250) {
      const response = await send(
        first.url,
        '/v1/batch',
        { batch: data.messages.slice(offset, offset + 250) },
        { writeKey: env.CDP_WRITE_KEY },
      );
      expect(response.status).toBe(200);
    }
    // Kill once the resolver has written part of the events, not all of them.
    const partly = await waitFor(
      async () => {
        const count = await written(first.url);
        return count > 0 ? count : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 5, what: 'the resolver to write its first batch' },
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(partly).toBeLessThan(data.distinctMessages);

    const second = await start();
    for (const truth of data.truth) {
      const ref = truth.identifiers[0] as string;
      const profile = await waitFor(
        async () => {
          const response = await read(second.url, `/v1/profiles/${encodeURIComponent(ref)}`, env.CDP_READ_KEY);
          // A batch writes its identities after its events: wait for both.
          const stats = response.body.stats as { events: number } | undefined;
          const identities = (response.body.identities as unknown[] | undefined) ?? [];
          return response.status === 200 &&
            stats &&
            stats.events >= truth.events &&
            identities.length >= truth.identifiers.length
            ? response.body
            : undefined;
        },
        {
          timeoutMs: 60_000,
          what: `${ref} to have its ${truth.events} events and ${truth.identifiers.length} identifiers`,
        },
      );
      const stats = profile.stats as { events: number; orders: number };
      expect({ ref, events: stats.events, orders: stats.orders }).toEqual({
        ref,
        events: truth.events,
        orders: truth.orders,
      });
      expect((profile.identities as unknown[]).length).toBe(truth.identifiers.length);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
