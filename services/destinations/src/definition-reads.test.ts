// The destinations list under load: batches newer than the list share the next read, which begins after them.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { sharedReads } from './definition-reads';

/** A read that answers, after `ms`, the number of the read and when it began. */
function counting(ms = 20) {
  const began: number[] = [];
  const read = async () => {
    began.push(Date.now());
    const number = began.length;
    await sleep(ms);
    return { number, beganAt: began[number - 1] as number };
  };
  return { began, read };
}

describe('sharedReads', () => {
  it('answers from the list while it is fresh and no older than the batch', async () => {
    const { began, read } = counting();
    const reads = sharedReads(read, { cacheMs: 60_000, gapMs: 50 });
    // The list is read at or after the batch's time, so a second batch of the same time shares it.
    const batchAt = Date.now();
    const first = await reads(batchAt);
    expect(first.beganAt).toBeGreaterThanOrEqual(batchAt);
    expect(await reads(batchAt)).toEqual(first);
    expect(await reads()).toEqual(first);
    expect(began).toHaveLength(1);
  });

  it('shares one read among the batches newer than the list, and that read begins after each of them', async () => {
    const { began, read } = counting();
    // The twenty calls come within ~60 ms of the first read; a gap far longer keeps a slow machine from splitting them.
    const reads = sharedReads(read, { cacheMs: 60_000, gapMs: 1000 });
    await reads();
    const asked: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        await sleep(index * 2);
        asked.push(Date.now());
        return reads(Date.now());
      }),
    );
    expect(began).toHaveLength(2);
    expect(new Set(answers.map((answer) => answer.number))).toEqual(new Set([2]));
    expect(Math.min(...answers.map((answer) => answer.beganAt))).toBeGreaterThanOrEqual(Math.max(...asked));
  });

  it('makes a batch newer than the read under way wait for the next one', async () => {
    const { began, read } = counting(50);
    const reads = sharedReads(read, { cacheMs: 60_000, gapMs: 0 });
    const underWay = reads();
    await sleep(5);
    const newer = Date.now();
    const answer = await reads(newer);
    expect((await underWay).number).toBe(1);
    expect(answer.number).toBe(2);
    expect(answer.beganAt).toBeGreaterThanOrEqual(newer);
    expect(began).toHaveLength(2);
  });

  it('reads again once the list is older than the cache time, or forgotten, and does not keep a failed read', async () => {
    let failing = false;
    const { began, read } = counting(1);
    const reads = sharedReads(
      async () => {
        if (failing) throw new Error('store unavailable');
        return read();
      },
      { cacheMs: 30, gapMs: 0 },
    );
    expect((await reads()).number).toBe(1);
    await sleep(40);
    expect((await reads()).number).toBe(2);
    reads.forget();
    failing = true;
    await expect(reads()).rejects.toThrow('store unavailable');
    failing = false;
    expect((await reads()).number).toBe(3);
    expect(began).toHaveLength(3);
  });
});
