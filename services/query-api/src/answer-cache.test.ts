import { describe, expect, it } from 'vitest';
import { createAnswerCache, wantsFresh } from './answer-cache';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A computation that counts its calls and answers when released. */
function gated() {
  let calls = 0;
  let release: (value: number) => void = () => undefined;
  return {
    calls: () => calls,
    release: (value: number) => release(value),
    compute: () => {
      calls += 1;
      return new Promise<number>((resolve) => (release = resolve));
    },
  };
}

describe('createAnswerCache', () => {
  it('computes a question once for the callers asking it meanwhile and within its seconds', async () => {
    const cache = createAnswerCache(60);
    const work = gated();
    const first = cache.answer('kpis?a', false, work.compute);
    const second = cache.answer('kpis?a', false, work.compute);
    work.release(7);
    expect(await first).toEqual({ value: 7, ageSeconds: 0 });
    expect(await second).toEqual({ value: 7, ageSeconds: 0 });
    expect((await cache.answer('kpis?a', false, () => Promise.resolve(8))).value).toBe(7);
    expect(work.calls()).toBe(1);
    expect((await cache.answer('kpis?b', false, () => Promise.resolve(9))).value).toBe(9);
  });

  it('computes again when asked for a fresh answer, and shares that one from then on', async () => {
    const cache = createAnswerCache(60);
    await cache.answer('q', false, () => Promise.resolve(1));
    expect((await cache.answer('q', true, () => Promise.resolve(2))).value).toBe(2);
    expect((await cache.answer('q', false, () => Promise.resolve(3))).value).toBe(2);
  });

  it('computes a fresh answer of its own while another computation of the question is under way', async () => {
    const cache = createAnswerCache(60);
    const earlier = gated();
    const shared = cache.answer('q', false, earlier.compute);
    expect((await cache.answer('q', true, () => Promise.resolve(2))).value).toBe(2);
    earlier.release(1);
    expect((await shared).value).toBe(1);
    // The computation that began first and ended last does not replace the fresh answer.
    expect((await cache.answer('q', false, () => Promise.resolve(3))).value).toBe(2);
  });

  it('serves an answer past its freshness while the next is computed behind it, up to twice its seconds', async () => {
    const cache = createAnswerCache(1);
    await cache.answer('q', false, () => Promise.resolve(1));
    await sleep(1100);
    const next = gated();
    // Past its second: the kept answer at once, and one computation behind it however many ask.
    expect((await cache.answer('q', false, next.compute)).value).toBe(1);
    expect((await cache.answer('q', false, next.compute)).value).toBe(1);
    expect(next.calls()).toBe(1);
    next.release(2);
    await sleep(10);
    expect(await cache.answer('q', false, () => Promise.resolve(3))).toEqual({ value: 2, ageSeconds: 0 });
    // Past twice its seconds nothing is served: the caller waits for a new answer.
    await sleep(2100);
    expect((await cache.answer('q', false, () => Promise.resolve(4))).value).toBe(4);
  });

  it('serves the answer for as long as its successor, begun in time, takes to compute', async () => {
    const cache = createAnswerCache(1);
    await cache.answer('q', false, () => Promise.resolve(1));
    await sleep(1100);
    const slow = gated();
    expect((await cache.answer('q', false, slow.compute)).value).toBe(1);
    // Past twice its second, its successor still under way: still served, and no second computation.
    await sleep(1100);
    const served = await cache.answer('q', false, () => Promise.resolve(3));
    expect(served.value).toBe(1);
    expect(served.ageSeconds).toBeGreaterThanOrEqual(2);
    expect(slow.calls()).toBe(1);
    slow.release(2);
    await sleep(10);
    expect(await cache.answer('q', false, () => Promise.resolve(4))).toEqual({ value: 2, ageSeconds: 0 });
  });

  it('serves the answer on after its successor failed, and tries another no sooner than its seconds later', async () => {
    const cache = createAnswerCache(0.2);
    const failing = () => Promise.reject(new Error('query limit reached'));
    await cache.answer('q', false, () => Promise.resolve(1));
    await sleep(250);
    // Its successor fails behind it.
    expect((await cache.answer('q', false, failing)).value).toBe(1);
    await sleep(10);
    const untried = gated();
    expect((await cache.answer('q', false, untried.compute)).value).toBe(1);
    expect(untried.calls()).toBe(0);
    // Past twice its seconds, its successor failed: still served, and another successor tried behind it.
    await sleep(450);
    let tries = 0;
    const failingAgain = () => {
      tries += 1;
      return failing();
    };
    const served = await cache.answer('q', false, failingAgain);
    expect(served.value).toBe(1);
    expect(tries).toBe(1);
    await sleep(250);
    expect((await cache.answer('q', false, () => Promise.resolve(2))).value).toBe(1);
    await sleep(10);
    expect(await cache.answer('q', false, () => Promise.resolve(3))).toEqual({ value: 2, ageSeconds: 0 });
  });

  it('serves no answer past ten times its seconds, even while its successors fail: the next caller waits', async () => {
    const cache = createAnswerCache(0.1);
    await cache.answer('q', false, () => Promise.resolve(1));
    await sleep(150);
    expect((await cache.answer('q', false, () => Promise.reject(new Error('store down')))).value).toBe(1);
    await sleep(1000);
    expect((await cache.answer('q', false, () => Promise.resolve(5))).value).toBe(5);
  });

  it('keeps no failed computation', async () => {
    const cache = createAnswerCache(60);
    await expect(cache.answer('q', false, () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect((await cache.answer('q', false, () => Promise.resolve(4))).value).toBe(4);
  });

  it('computes every answer when its seconds are 0', async () => {
    const cache = createAnswerCache(0);
    expect((await cache.answer('q', false, () => Promise.resolve(1))).value).toBe(1);
    expect(await cache.answer('q', false, () => Promise.resolve(2))).toEqual({ value: 2, ageSeconds: 0 });
  });
});

describe('wantsFresh', () => {
  it.each([
    [{ 'cache-control': 'no-cache' }, true],
    [{ 'cache-control': 'max-age=0' }, true],
    [{ 'cache-control': 'private, no-store' }, true],
    [{ 'cache-control': 'Max-Age = 0' }, true],
    [{ pragma: 'no-cache' }, true],
    [{ 'cache-control': 'max-age=60' }, false],
    [{ 'cache-control': 'no-transform' }, false],
    [{}, false],
  ])('%j → %s', (headers, fresh) => {
    expect(wantsFresh(headers)).toBe(fresh);
  });
});
