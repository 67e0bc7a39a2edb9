// The demo data set: N Vietnamese customers over M months up to `now`, as batches of Segment messages for /v1/batch.
import { Faker, base, vi } from '@faker-js/faker';
import { customerMessages } from './customer';
import type { DemoMessage } from './messages';
import { drawPersona } from './persona';

export interface DemoOptions {
  customers: number;
  months: number;
  seed: number;
  /** The end of the history, epoch ms: no message is dated after it. */
  now: number;
}

/** Well under /v1/batch's 500 KB and its per-request work, so a batch is never refused for its size. */
export const maxBatchBytes = 400 * 1024;
export const maxBatchMessages = 500;
export const maxCustomers = 1_000_000;
export const maxMonths = 60;

const envelopeBytes = Buffer.byteLength('{"batch":[]}');

/** Every problem with the options, named; empty when they are usable. */
export function demoOptionProblems(options: Omit<DemoOptions, 'now'> & { now?: number }): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(options.customers) || options.customers < 1 || options.customers > maxCustomers) {
    problems.push(`customers must be a whole number from 1 to ${maxCustomers}`);
  }
  if (!Number.isInteger(options.months) || options.months < 1 || options.months > maxMonths)
    problems.push(`months must be a whole number from 1 to ${maxMonths}`);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) problems.push('seed must be a whole number, 0 or more');
  if (options.now !== undefined && !Number.isFinite(options.now))
    problems.push('now must be a time in epoch milliseconds');
  return problems;
}

/** The same calendar day `months` months before `now` (UTC). */
function monthsBefore(now: number, months: number): number {
  const start = new Date(now);
  start.setUTCMonth(start.getUTCMonth() - months);
  return start.getTime();
}

/**
 * Batches of messages, customer after customer. The same options give the same messages, messageIds included;
 * message and person ids do not depend on `now`, so sending the demo again later adds no new message.
 */
export function* generateDemo(options: DemoOptions): Generator<DemoMessage[]> {
  const problems = demoOptionProblems(options);
  if (problems.length > 0) throw new RangeError(`invalid demo options: ${problems.join('; ')}`);
  const { customers, months, seed, now } = options;
  const faker = new Faker({ locale: [vi, base] });
  const scope = { seed, start: monthsBefore(now, months), now };
  let batch: DemoMessage[] = [];
  let bytes = envelopeBytes;
  for (let index = 0; index < customers; index += 1) {
    // A stream of its own per customer: customer i is the same person whatever the number of customers asked for.
    faker.seed([seed, index]);
    const persona = drawPersona(faker, scope, index);
    for (const message of customerMessages(faker, persona, { seed, months, now })) {
      const size = Buffer.byteLength(JSON.stringify(message)) + 1;
      if (batch.length >= maxBatchMessages || (batch.length > 0 && bytes + size > maxBatchBytes)) {
        yield batch;
        batch = [];
        bytes = envelopeBytes;
      }
      batch.push(message);
      bytes += size;
    }
  }
  if (batch.length > 0) yield batch;
}
