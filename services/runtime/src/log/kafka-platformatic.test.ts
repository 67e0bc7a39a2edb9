// The @platformatic/kafka adapter's produce queue: one send at a time, carrying the calls that waited for it.
import { describe, expect, it } from 'vitest';
import { oneSendAtATime } from './kafka-platformatic';
import type { LogRecord } from './types';

const records = (name: string, count: number, valueBytes = 10): LogRecord[] =>
  Array.from({ length: count }, (_, index) => ({ key: `${name}${index}`, value: Buffer.alloc(valueBytes) }));

/** A send that holds each request until released, recording what each carried. */
function heldSends(failing: (topic: string) => boolean = () => false) {
  const sent: Array<{ topic: string; keys: string[] }> = [];
  const held: Array<() => void> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const send = async (topic: string, batch: LogRecord[]) => {
    sent.push({ topic, keys: batch.map((record) => record.key) });
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise<void>((resolve) => held.push(resolve));
    inFlight -= 1;
    if (failing(topic)) throw new Error(`refused ${topic}`);
  };
  const releaseAll = async () => {
    while (held.length > 0) {
      held.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { send, sent, releaseAll, mostInFlight: () => mostInFlight };
}

describe('oneSendAtATime', () => {
  it('sends the calls that waited for a send together, in the order they came, one send at a time', async () => {
    const sends = heldSends();
    const produce = oneSendAtATime(sends.send);
    const calls = [produce('t', records('a', 2)), produce('t', records('b', 1)), produce('t', records('c', 2))];
    await sends.releaseAll();
    await Promise.all(calls);
    expect(sends.sent).toEqual([
      { topic: 't', keys: ['a0', 'a1'] },
      { topic: 't', keys: ['b0', 'c0', 'c1'] },
    ]);
    expect(sends.mostInFlight()).toBe(1);
  });

  it("takes the first waiting call's topic, the others' calls in a later send", async () => {
    const sends = heldSends();
    const produce = oneSendAtATime(sends.send);
    const calls = [
      produce('t', records('a', 1)),
      produce('u', records('b', 1)),
      produce('t', records('c', 1)),
      produce('u', records('d', 1)),
    ];
    await sends.releaseAll();
    await Promise.all(calls);
    expect(sends.sent).toEqual([
      { topic: 't', keys: ['a0'] },
      { topic: 'u', keys: ['b0', 'd0'] },
      { topic: 't', keys: ['c0'] },
    ]);
  });

  it('joins calls up to the byte bound, and sends a call larger than it alone', async () => {
    const sends = heldSends();
    // Each record counts its key, its value and 64 bytes: 2 + 100 + 64 = 166.
    const produce = oneSendAtATime(sends.send, 400);
    const calls = [
      produce('t', records('a', 1, 100)),
      produce('t', records('b', 1, 100)),
      produce('t', records('c', 1, 100)),
      produce('t', records('d', 1, 100)),
      produce('t', records('e', 5, 100)),
      produce('t', records('f', 1, 100)),
    ];
    await sends.releaseAll();
    await Promise.all(calls);
    expect(sends.sent.map((send) => send.keys)).toEqual([
      ['a0'],
      ['b0', 'c0'],
      ['d0'],
      ['e0', 'e1', 'e2', 'e3', 'e4'],
      ['f0'],
    ]);
  });

  it('fails only the callers of a send that failed, and goes on with the next', async () => {
    const sends = heldSends((topic) => topic === 'bad');
    const produce = oneSendAtATime(sends.send);
    const first = produce('t', records('a', 1));
    const refused = [produce('bad', records('b', 1)), produce('bad', records('c', 1))];
    const after = produce('t', records('d', 1));
    const settled = Promise.allSettled([first, ...refused, after]);
    await sends.releaseAll();
    expect((await settled).map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    await expect(refused[0]).rejects.toThrow('refused bad');
    expect(sends.sent.map((send) => send.keys)).toEqual([['a0'], ['b0', 'c0'], ['d0']]);
  });

  it('settles every one of 200,000 calls that wait at once, their records sent once each in order', async () => {
    const sent: string[] = [];
    let sends = 0;
    const produce = oneSendAtATime(async (_topic, batch) => {
      sends += 1;
      await new Promise((resolve) => setImmediate(resolve));
      for (const record of batch) sent.push(record.key);
    });
    const count = 200_000;
    await Promise.all(
      Array.from({ length: count }, (_, index) => produce('t', [{ key: String(index), value: Buffer.alloc(1) }])),
    );
    expect(sent).toEqual(Array.from({ length: count }, (_, index) => String(index)));
    // About 67 bytes each against 512 KB a send: thousands of calls a send.
    expect(sends).toBeLessThan(40);
  });

  it('answers a call without records at once, sending nothing', async () => {
    const sends = heldSends();
    await oneSendAtATime(sends.send)('t', []);
    expect(sends.sent).toEqual([]);
  });
});
