// Turns: one evaluation at a time, growing versions, and the profiles decided while a full pass is under way.
import { describe, expect, it } from 'vitest';
import { createTurns } from './turns';

describe('turns', () => {
  it('runs one piece of work at a time, in the order asked, a failure belonging to its caller', async () => {
    const turns = createTurns();
    const order: string[] = [];
    const slow = turns.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('slow');
    });
    const failing = turns.run(async () => {
      order.push('failing');
      throw new Error('broken');
    });
    const next = turns.run(async () => order.push('next'));
    await slow;
    await expect(failing).rejects.toThrow('broken');
    await next;
    expect(order).toEqual(['slow', 'failing', 'next']);
  });

  it('hands out versions above every earlier one, also within one millisecond', () => {
    const turns = createTurns();
    expect([turns.nextVersion(1000), turns.nextVersion(1000), turns.nextVersion(999), turns.nextVersion(2000)]).toEqual(
      [1000, 1001, 1002, 2000],
    );
  });

  it('keeps the passes of profiles decided after a full pass began, until it ends', () => {
    const turns = createTurns();
    expect(turns.keep(turns.nextVersion(100))).toBe(false);
    const full = turns.nextVersion(200);
    turns.fullPassBegan(full);
    const followed = [turns.nextVersion(300), turns.nextVersion(400)];
    expect(followed.map((version) => turns.keep(version))).toEqual([true, true]);
    expect(turns.decidedAfter(full)).toEqual(followed);
    expect(turns.decidedAfter(350)).toEqual([400]);
    expect(turns.fullPassEnded()).toEqual(followed);
    expect(turns.keep(turns.nextVersion(500))).toBe(false);
    expect(turns.decidedAfter(full)).toEqual([]);
  });
});
