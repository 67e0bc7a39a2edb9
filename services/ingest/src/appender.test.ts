// Unit tests of the group commit: grouping while a produce is in flight, failures per group, timeouts, the queue bound.
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '@cdp/runtime';
import { createAppender } from './appender';

const record = (value: string): LogRecord => ({ key: 'k', value: Buffer.from(value) });

/** A produce whose calls the test completes by hand. */
function manualLog() {
  const calls: Array<{ records: string[]; done(): void; fail(error: Error): void }> = [];
  const produce = (records: LogRecord[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ records: records.map((r) => r.value.toString()), done: resolve, fail: reject });
    });
  return { calls, produce };
}

/** Lets the appender start its next produce, which it does after the previous one's callers are answered. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

const options = { maxGroupBytes: 1024, maxQueuedBytes: 4096, timeoutMs: 5_000 };

describe('createAppender', () => {
  it('sends the first append at once and groups those that arrive while it is in flight', async () => {
    const log = manualLog();
    const append = createAppender(log.produce, options);
    const first = append([record('a')]);
    const second = append([record('b'), record('c')]);
    const third = append([record('d')]);
    expect(log.calls.map((call) => call.records)).toEqual([['a']]);
    log.calls[0]!.done();
    await first;
    await tick();
    expect(log.calls.map((call) => call.records)).toEqual([['a'], ['b', 'c', 'd']]);
    log.calls[1]!.done();
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
  });

  it('fails every append of a failed group, and only those', async () => {
    const log = manualLog();
    const append = createAppender(log.produce, options);
    const first = append([record('a')]);
    const second = append([record('b')]);
    log.calls[0]!.fail(new Error('broker gone'));
    await expect(first).rejects.toThrow('broker gone');
    await tick();
    log.calls[1]!.done();
    await expect(second).resolves.toBeUndefined();
  });

  it('splits groups at maxGroupBytes', async () => {
    const log = manualLog();
    const append = createAppender(log.produce, options);
    const pending = [append([record('x')]), append([record('a'.repeat(600))]), append([record('b'.repeat(600))])];
    log.calls[0]!.done();
    await pending[0];
    await tick();
    expect(log.calls[1]!.records).toHaveLength(1);
    log.calls[1]!.done();
    await pending[1];
    await tick();
    log.calls[2]!.done();
    await expect(Promise.all(pending)).resolves.toHaveLength(3);
  });

  it('times out an append the log does not acknowledge, and never sends one that timed out while queued', async () => {
    const log = manualLog();
    const append = createAppender(log.produce, { ...options, timeoutMs: 20 });
    const first = append([record('a')]);
    const queued = append([record('b')]);
    await expect(first).rejects.toThrow(/no acknowledgement within 20 ms/);
    await expect(queued).rejects.toThrow(/no acknowledgement/);
    log.calls[0]!.done();
    await tick();
    expect(log.calls).toHaveLength(1);
  });

  it('refuses at once when too much already waits', async () => {
    const log = manualLog();
    const append = createAppender(log.produce, options);
    const inFlight = append([record('a')]);
    const waiting = [1, 2, 3, 4].map(() => append([record('w'.repeat(1000))]));
    await expect(append([record('z'.repeat(200))])).rejects.toThrow(/already wait for the log/);
    log.calls[0]!.done();
    await inFlight;
    for (let i = 1; i <= 4; i += 1) {
      await tick();
      log.calls[i]!.done();
      await waiting[i - 1];
    }
    expect(log.calls.map((call) => call.records[0]?.length)).toEqual([1, 1000, 1000, 1000, 1000]);
  });
});
