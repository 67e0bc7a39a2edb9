// `cdp start` killed with SIGKILL right after answering 200, or stopped with SIGTERM, loses no accepted event.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { runtimeEnv, runtimes, uniqueName } from '../harness/platform';
import { read, send } from '../harness/http';
import { cdpProcesses } from '../harness/process';

describe.each(runtimes)('cdp start on the %s runtime', (runtime) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-crash-'));
  const env: Record<string, string> = { ...runtimeEnv(runtime, dataDir), LOG_LEVEL: 'info' };
  const { start, cleanUp } = cdpProcesses(dataDir, env);
  afterAll(cleanUp);

  /** Every accepted user must end up with exactly its one event. */
  const expectAllPresent = async (url: string, users: string[]) => {
    for (const userId of users) {
      const profile = await waitFor(
        async () => {
          const response = await read(url, `/v1/profiles/user_id:${userId}`, env.CDP_READ_KEY);
          return response.status === 200 ? response : undefined;
        },
        { timeoutMs: 60_000, what: `the profile of ${userId}` },
      );
      expect((profile.body.stats as { events: number }).events).toBe(1);
    }
  };

  it('loses no accepted event when killed with SIGKILL right after a 200', { timeout: 180_000 }, async () => {
    const first = await start();
    const accepted: string[] = [];
    const killAfter = 25;
    let killed = false;
    // Four senders at a time, so the kill lands while other requests are in flight.
    const sender = async () => {
      while (!killed) {
        const userId = uniqueName('crash');
        const response = await send(
          first.url,
          '/v1/track',
          { userId, event: 'Order Completed', properties: { revenue: 1 } },
          { writeKey: env.CDP_WRITE_KEY },
        ).catch(() => null);
        if (response?.status === 200 && !killed) {
          accepted.push(userId);
          if (accepted.length >= killAfter) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    expect(await first.exited).toBe('SIGKILL');

    const second = await start();
    await expectAllPresent(second.url, accepted);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it(
    'drains requests and commits on SIGTERM, and serves everything after a restart',
    { timeout: 180_000 },
    async () => {
      const first = await start();
      const users = Array.from({ length: 20 }, () => uniqueName('graceful'));
      const responses = await Promise.all(
        users.map((userId) =>
          send(
            first.url,
            '/v1/identify',
            { userId, traits: { email: `${userId}@example.com` } },
            { writeKey: env.CDP_WRITE_KEY },
          ),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual(users.map(() => 200));
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.output()).toMatch(/shutting down/);

      const second = await start();
      await expectAllPresent(second.url, users);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
  );
});
