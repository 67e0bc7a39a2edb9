// The soak's bookkeeping without a platform: the stream's messageIds are unique and its sample counts what it sent,
// and the memory verdict tells flat from growing.
import { describe, expect, it } from 'vitest';
import { generateCustomers } from '../generators/customers';
import { CustomerStream, ReadPool, memoryVerdict, quantile } from './load';

describe('soak load', () => {
  it('streams unique messageIds and counts the sampled customers’ events as accepted or uncertain', () => {
    const stream = new CustomerStream({ prefix: 'soak-test', seed: 1, sampleEvery: 2, sampleSize: 3 });
    const ids = new Set<string>();
    const perRef = new Map<string, number>();
    for (let index = 0; index < 60; index += 1) {
      const batch = stream.next(100);
      expect(batch.messages).toHaveLength(100);
      for (const message of batch.messages) ids.add(message.messageId as string);
      stream.settle(batch, !batch.sampled.has(1));
      for (const ref of batch.completed) perRef.set(ref, (perRef.get(ref) ?? 0) + 1);
    }
    expect(ids.size).toBe(6_000);
    expect(stream.generated).toBe(6_000);
    expect(stream.sample).toHaveLength(3);
    expect([...perRef.values()].every((times) => times === 1)).toBe(true);
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
    // The sample is the first customer of chunks 0, 2 and 4: each got every distinct event the generator made for them.
    stream.sample.forEach((customer, index) => {
      const chunk = 2 * index;
      const truth = generateCustomers({
        customers: 40,
        seed: 1 + chunk,
        prefix: `soak-test-${chunk}`,
        phoneOffset: chunk * 40,
      }).truth[0];
      expect(customer.ref).toBe(truth?.identifiers[0]);
      expect(perRef.get(customer.ref)).toBe(1);
      // Batches holding the second sampled customer's events were answered otherwise: theirs are uncertain.
      expect(customer).toMatchObject(
        index === 1 ? { accepted: 0, uncertain: truth?.events } : { accepted: truth?.events, uncertain: 0 },
      );
    });
  });

  it('reads only refs accepted long enough ago', () => {
    const pool = new ReadPool(2);
    pool.add('a', 0);
    pool.add('b', 1_000);
    pool.add('c', 50_000);
    // 'c' took the oldest slot ('a') and is too recent; 'b' is exactly old enough.
    expect(pool.pick(31_000, 30_000, () => 0)).toBeNull();
    expect(pool.pick(31_000, 30_000, () => 0.9)).toBe('b');
  });

  it('calls memory flat within the tolerance and growing past it', () => {
    expect(memoryVerdict([100, 102, 98, 101, 105, 103, 100])?.flat).toBe(true);
    const growing = memoryVerdict([100, 100, 100, 106, 112, 118, 124]);
    expect(growing?.flat).toBe(false);
    expect(growing?.changePercent).toBeCloseTo(18, 0);
    expect(memoryVerdict([100, 100, 100, 130, 100, 100])?.flat).toBe(false);
    expect(memoryVerdict([])).toBeNull();
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([], 0.99)).toBeNull();
  });
});
