// The soak's bookkeeping without a platform: the stream's messageIds are unique and its sample counts what it sent,
// and the memory verdict tells flat from growing.
import { describe, expect, it } from 'vitest';
import { generateCustomers } from '../generators/customers';
import { CustomerStream, ReadPool, customersPerChunk, memoryVerdict, quantile } from './load';

describe('soak load', () => {
  it('streams unique messageIds and counts the sampled customers’ events as accepted or uncertain', () => {
    const stream = new CustomerStream({ prefix: 'soak-test', seed: 1, sampleSize: 3 });
    const ids = new Set<string>();
    const perRef = new Map<string, number>();
    for (let index = 0; index < 150; index += 1) {
      const batch = stream.next(100);
      expect(batch.messages).toHaveLength(100);
      for (const message of batch.messages) ids.add(message.messageId as string);
      // Every third batch is answered otherwise: its sampled events are uncertain.
      stream.settle(batch, index % 3 !== 1);
      for (const ref of batch.completed) perRef.set(ref, (perRef.get(ref) ?? 0) + 1);
    }
    expect(ids.size).toBe(15_000);
    expect(stream.generated).toBe(15_000);
    expect([...perRef.values()].every((times) => times === 1)).toBe(true);
    // A reservoir of three first customers of distinct chunks; past the first three chunks, some were replaced.
    expect(stream.sample).toHaveLength(3);
    expect(new Set(stream.sample.map((customer) => customer.chunk)).size).toBe(3);
    expect(stream.sample.some((customer) => customer.chunk > 2)).toBe(true);
    // Each one sent in full got every distinct event the generator made for them, booked one way or the other.
    for (const customer of stream.sample.filter((sampled) => perRef.has(sampled.ref))) {
      const truth = generateCustomers({
        customers: customersPerChunk,
        seed: 1 + customer.chunk,
        prefix: `soak-test-${customer.chunk}`,
        phoneOffset: customer.chunk * customersPerChunk,
      }).truth[0];
      expect(customer.ref).toBe(truth?.identifiers[0]);
      expect(customer.accepted + customer.uncertain).toBe(truth?.events);
    }
    // No two customers share a phone (the resolver would merge them).
    const phones = new Map<string, string>();
    for (let index = 0; index < 3; index += 1) {
      const batch = stream.next(1_000);
      for (const message of batch.messages) {
        const traits = (message.traits ?? (message.context as { traits?: unknown } | undefined)?.traits) as
          { phone?: string } | undefined;
        const phone = traits?.phone?.replace(/\s/g, '');
        const owner = String(message.messageId).replace(/-m\d+$/, '');
        if (phone) expect(phones.get(phone) ?? owner).toBe(owner);
        if (phone) phones.set(phone, owner);
      }
    }
  });

  it('brings the customers seen so far back with new messageIds once the customer base is closed', () => {
    const stream = new CustomerStream({ prefix: 'soak-base', seed: 2, sampleSize: 2 });
    const ids = new Set<string>();
    // A messageId starts with the prefix and the chunk of its customer: soak-base-<chunk>-<customer>-m<n>.
    const chunkOf = (id: string) => Number(/^soak-base-(\d+)-/.exec(id)?.[1]);
    const send = (batches: number) => {
      const chunks = new Set<number>();
      let returning = 0;
      for (let index = 0; index < batches; index += 1) {
        const batch = stream.next(100);
        for (const message of batch.messages) {
          const id = message.messageId as string;
          ids.add(id);
          chunks.add(chunkOf(id));
          if (/-v\d+$/.test(id)) returning += 1;
        }
        stream.settle(batch, true);
      }
      return { chunks, returning };
    };
    const first = send(30);
    const sampledEvents = stream.sample.map((customer) => customer.accepted);
    stream.closePopulation();
    const then = send(60);
    // Every message still has an id of its own; no chunk of customers is new; most messages are return visits; the
    // sample counts those visits too.
    expect(ids.size).toBe(90 * 100);
    expect(first.returning).toBe(0);
    expect([...then.chunks].every((chunk) => first.chunks.has(chunk))).toBe(true);
    expect(then.returning).toBeGreaterThan(5000);
    expect(stream.sample.every((customer, index) => customer.accepted > sampledEvents[index]!)).toBe(true);
  });

  it('reads only refs accepted long enough ago, however fast new ones come', () => {
    const pool = new ReadPool(30_000, 2);
    pool.add('a', 0);
    pool.add('b', 1_000);
    expect(pool.pick(29_999, () => 0)).toBeNull();
    expect(pool.pick(30_000, () => 0.9)).toBe('a');
    // Many newer refs arrive before 'b' is old enough: they wait behind it instead of taking its place.
    for (let index = 0; index < 100; index += 1) pool.add(`new-${index}`, 2_000 + index);
    const picked = new Set([0, 0.9].map((r) => pool.pick(31_000, () => r)));
    expect(picked).toEqual(new Set(['a', 'b']));
    // Once they ripen, the ring keeps the latest two.
    expect(new Set([0, 0.9].map((r) => pool.pick(40_000, () => r)))).toEqual(new Set(['new-98', 'new-99']));
  });

  it('calls memory flat within the tolerance and growing past it', () => {
    expect(memoryVerdict([100, 102, 98, 101, 105, 103, 100])?.flat).toBe(true);
    const growing = memoryVerdict([100, 100, 100, 106, 112, 118, 124]);
    expect(growing?.flat).toBe(false);
    expect(growing?.changePercent).toBeCloseTo(18, 0);
    // A heap sawing up and down between collections is flat; its level rising is not.
    const sawtooth = [100, 125, 90, 120, 95, 128, 92, 118, 100, 126, 94, 121];
    expect(memoryVerdict(sawtooth)?.flat).toBe(true);
    expect(memoryVerdict(sawtooth.map((value, index) => value + index * 3))?.flat).toBe(false);
    expect(memoryVerdict([])).toBeNull();
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([], 0.99)).toBeNull();
  });
});
