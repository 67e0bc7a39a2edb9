// A batch of profile changes that fails together is followed in halves, and only a record failing alone is skipped.
import { describe, expect, it } from 'vitest';
import { inPieces } from './follow';

describe('following a batch in pieces', () => {
  const poison = 'poison';
  const run = async (items: string[], transient = false) => {
    const done: string[][] = [];
    const skipped: string[] = [];
    await inPieces(
      items,
      async (piece) => {
        if (piece.includes(poison)) throw new Error(transient ? 'store down' : 'query too large');
        done.push(piece);
      },
      { retried: (error) => (error as Error).message === 'store down', skipped: (item) => skipped.push(item) },
    );
    return { done, skipped };
  };

  it('follows a batch that succeeds as one piece', async () => {
    expect(await run(['a', 'b', 'c'])).toEqual({ done: [['a', 'b', 'c']], skipped: [] });
  });

  it('splits a failing batch until the failing record stands alone, and skips only it', async () => {
    const { done, skipped } = await run(['a', 'b', poison, 'd', 'e']);
    expect(skipped).toEqual([poison]);
    expect(done.flat().sort()).toEqual(['a', 'b', 'd', 'e']);
  });

  it('throws the whole batch back when the store is unavailable, so it is retried as it came', async () => {
    await expect(run(['a', poison], true)).rejects.toThrow('store down');
  });
});
