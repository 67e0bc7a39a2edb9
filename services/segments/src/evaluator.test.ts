// A full pass counts drift only once following has read every profile change written before the pass began; a store's
// first pass evaluates its segments two at a time.
import { describe, expect, it } from 'vitest';
import { eachOf, reached } from './evaluator';

describe('reached', () => {
  it('holds when every partition is at or past its end offset then', () => {
    expect(reached({ 0: '10', 1: '7' }, { 0: '10', 1: '5' })).toBe(true);
    expect(reached({ 0: '12' }, { 0: '10' })).toBe(true);
  });

  it('fails while a partition is behind, or unknown to the position', () => {
    expect(reached({ 0: '9', 1: '7' }, { 0: '10', 1: '5' })).toBe(false);
    expect(reached({ 0: '10' }, { 0: '10', 1: '5' })).toBe(false);
  });

  it('needs nothing of a partition that was empty', () => {
    expect(reached({}, { 0: '0' })).toBe(true);
    expect(reached({ 1: '3' }, { 0: '0', 1: '3' })).toBe(true);
  });

  it('compares offsets as numbers, not text', () => {
    expect(reached({ 0: '10' }, { 0: '9' })).toBe(true);
    expect(reached({ 0: '9' }, { 0: '10' })).toBe(false);
  });
});

describe('eachOf', () => {
  it('visits every item once, never more than the width at a time', async () => {
    const items = Array.from({ length: 7 }, (_, index) => index);
    const visited: number[] = [];
    let running = 0;
    let most = 0;
    await eachOf(items, 2, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, item % 3));
      visited.push(item);
      running -= 1;
    });
    expect(visited.sort((a, b) => a - b)).toEqual(items);
    expect(most).toBe(2);
    await eachOf([], 2, () => Promise.reject(new Error('no item, no call')));
  });
});
