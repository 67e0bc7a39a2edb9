// The soak's load and its bookkeeping: an endless stream of generated customers cut into batches (the generator runs
// a few dozen customers at a time, so the driver's memory does not grow with the run), a bounded sample of customers
// whose sent events are counted to check their profiles at the end, and the statistics the table is made of.
import { readFile } from 'node:fs/promises';
import { generateCustomers, rng } from '../generators/customers';

export interface Batch {
  messages: Array<Record<string, unknown>>;
  /** Events of each sampled customer in this batch. */
  sampled: Map<SampledCustomer, number>;
  /** Refs of the customers whose last event is in this batch: readable once the batch is accepted. */
  completed: string[];
}

export interface SampledCustomer {
  ref: string;
  /** The generator chunk the customer is the first of. */
  chunk: number;
  /** Events in batches answered 200. */
  accepted: number;
  /** Events in batches answered otherwise or not at all: the platform may or may not hold them. */
  uncertain: number;
}

export const customersPerChunk = 40;

/**
 * Customers of `generateCustomers`, a chunk at a time under a prefix (and phones) of their own, with the generator's
 * deliberate duplicate deliveries left out so every message sent has a messageId of its own. The first customer of
 * each chunk is a candidate for the sample compared with the profiles after the run: a reservoir of `sampleSize`,
 * so it spreads over the whole run whatever its length. A customer enters it before any of their events is sent.
 */
export class CustomerStream {
  readonly sample: SampledCustomer[] = [];
  private queue: Array<{ message: Record<string, unknown>; sampled: SampledCustomer | null; lastOf: string | null }> =
    [];
  private chunk = 0;
  /** Chunks in the customer base once it is closed; null while every chunk is new customers. */
  private population: number | null = null;
  /** The sampled customer of each chunk that had one, so their later visits count for them too. */
  private readonly sampledOf = new Map<number, SampledCustomer>();
  private readonly random: () => number;
  /** Distinct messageIds generated so far. */
  generated = 0;

  constructor(private readonly options: { prefix: string; seed: number; sampleSize?: number }) {
    this.random = rng(options.seed);
  }

  /**
   * From now on the customers generated so far come back, chunk after chunk, with the same identifiers and new
   * messageIds: a steady customer base, as a shop's traffic is mostly, instead of an endless stream of new people.
   */
  closePopulation(): void {
    this.population ??= Math.max(1, this.chunk);
  }

  private refill(): void {
    const serial = this.chunk;
    this.chunk += 1;
    const chunk = this.population === null ? serial : serial % this.population;
    const visit = this.population === null ? 0 : Math.floor(serial / this.population);
    const data = generateCustomers({
      customers: customersPerChunk,
      seed: this.options.seed + chunk,
      prefix: `${this.options.prefix}-${chunk}`,
      phoneOffset: chunk * customersPerChunk,
    });
    let sampled: SampledCustomer | null = null;
    if (visit > 0) sampled = this.sampledOf.get(chunk) ?? null;
    else {
      const candidate: SampledCustomer = {
        ref: data.truth[0]?.identifiers[0] as string,
        chunk,
        accepted: 0,
        uncertain: 0,
      };
      const size = this.options.sampleSize ?? 100;
      if (this.sample.length < size) sampled = candidate;
      else if (this.random() < size / (chunk + 1)) sampled = candidate;
      if (sampled && this.sample.length < size) this.sample.push(sampled);
      else if (sampled) this.sample[Math.floor(this.random() * size)] = sampled;
      if (sampled) this.sampledOf.set(chunk, sampled);
    }
    const lastIndex = new Map<number, number>();
    data.customerOf.forEach((customer, index) => lastIndex.set(customer, index));
    let previousId: unknown = null;
    data.messages.forEach((message, index) => {
      const customer = data.customerOf[index] as number;
      if (message.messageId === previousId) return;
      previousId = message.messageId;
      const ref = data.truth[customer]?.identifiers[0] as string;
      this.queue.push({
        message: visit === 0 ? message : { ...message, messageId: `${message.messageId as string}-v${visit}` },
        sampled: customer === 0 ? sampled : null,
        lastOf: lastIndex.get(customer) === index ? ref : null,
      });
    });
  }

  next(size: number): Batch {
    const batch: Batch = { messages: [], sampled: new Map(), completed: [] };
    while (batch.messages.length < size) {
      if (this.queue.length === 0) this.refill();
      const taken = this.queue.splice(0, size - batch.messages.length);
      for (const item of taken) {
        batch.messages.push(item.message);
        this.generated += 1;
        if (item.sampled) batch.sampled.set(item.sampled, (batch.sampled.get(item.sampled) ?? 0) + 1);
        if (item.lastOf) batch.completed.push(item.lastOf);
      }
    }
    return batch;
  }

  /** Books a batch's sampled events as accepted (a 200) or uncertain (anything else). */
  settle(batch: Batch, accepted: boolean): void {
    // A customer the reservoir has let go since is booked all the same, and no longer read.
    for (const [customer, events] of batch.sampled) {
      if (accepted) customer.accepted += events;
      else customer.uncertain += events;
    }
  }
}

/** Refs of customers sent earlier, with when their last batch was accepted; the oldest fall out. */
export class ReadPool {
  /** Refs not old enough yet, oldest first (they arrive in time order). */
  private waiting: Array<{ ref: string; at: number }> = [];
  private waitingFrom = 0;
  /** Refs old enough to read: a ring of the latest `capacity` to ripen. */
  private readonly ripe: string[] = [];
  private nextSlot = 0;

  constructor(
    private readonly minAgeMs: number,
    private readonly capacity = 2_000,
  ) {}

  add(ref: string, at: number): void {
    this.waiting.push({ ref, at });
  }

  /**
   * A random ref accepted at least `minAgeMs` before `now`, or null while none is. Refs ripen in the order they were
   * added, so a fast stream of new ones never pushes the old enough ones out before they can be read.
   */
  pick(now: number, random: () => number): string | null {
    while (this.waitingFrom < this.waiting.length) {
      const entry = this.waiting[this.waitingFrom] as { ref: string; at: number };
      if (now - entry.at < this.minAgeMs) break;
      if (this.ripe.length < this.capacity) this.ripe.push(entry.ref);
      else this.ripe[this.nextSlot] = entry.ref;
      this.nextSlot = (this.nextSlot + 1) % this.capacity;
      this.waitingFrom += 1;
    }
    if (this.waitingFrom > 10_000 && this.waitingFrom * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingFrom);
      this.waitingFrom = 0;
    }
    if (this.ripe.length === 0) return null;
    return this.ripe[Math.floor(random() * this.ripe.length)] as string;
  }
}

/** The q-quantile (0..1) of `values`, nearest rank; null when there are none. */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Resident memory of a process in bytes (VmRSS), or null once it has gone. */
export async function residentBytes(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const match = status ? /^VmRSS:\s+(\d+) kB/m.exec(status) : null;
  return match ? Number(match[1]) * 1024 : null;
}

export interface MemoryVerdict {
  /** Mean of the first quarter of the samples after the warm-up (at least three). */
  afterWarmUp: number;
  /** Mean of the last quarter (at least three). */
  atEnd: number;
  /** Largest sample after the warm-up (shown, not judged: a garbage-collected heap saws up and down). */
  max: number;
  /** atEnd against afterWarmUp, in %. */
  changePercent: number;
  /** The end within `tolerancePercent` of afterWarmUp. */
  flat: boolean;
}

/**
 * Whether a process's resident memory stayed flat after the warm-up; null without samples after it. Levels, not
 * single samples, are compared: Node's heap grows between collections by a quarter of the process and more, so one
 * sample 10 s apart says when the collector last ran, while a leak lifts the mean of every later stretch.
 */
export function memoryVerdict(samples: number[], tolerancePercent = 10): MemoryVerdict | null {
  if (samples.length === 0) return null;
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const stretch = Math.max(3, Math.floor(samples.length / 4));
  const afterWarmUp = mean(samples.slice(0, stretch));
  const atEnd = mean(samples.slice(-stretch));
  const max = Math.max(...samples);
  const changePercent = ((atEnd - afterWarmUp) / afterWarmUp) * 100;
  const flat = Math.abs(changePercent) <= tolerancePercent;
  return { afterWarmUp, atEnd, max, changePercent, flat };
}
