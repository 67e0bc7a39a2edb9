// The dispatcher: one worker per active destination sends its due deliveries, so a slow one never holds up another.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { DestinationsConfig, Metrics } from '@cdp/runtime';
import { nextAttempt, retryAfterMs } from './backoff';
import type { DestinationStore, SigningDestination } from './definitions';
import { sameShare, type Delivery, type DeliveryStore, type Share } from './deliveries';
import { RefusedAddress } from './guard';
import { samplePayload, type Payload, type PayloadReader } from './payload';
import type { Answer, Sender } from './send';
import { signatureHeader, signatureOf } from './sign';
import { contentTypeOf, renderBody } from './template';

export interface DispatcherDeps {
  store: DestinationStore;
  deliveries: DeliveryStore;
  payloads: PayloadReader;
  sender: Sender;
  config: DestinationsConfig;
  metrics: Metrics;
  logger: Logger;
  /** This instance's share of the due deliveries, asked at every look: other instances send the rest. */
  share(): Share;
}

export interface Dispatcher {
  /** Makes these destinations' workers look for due deliveries now. */
  wake(destinationIds: Iterable<string>): void;
  /** Sends one sample delivery now, outside the queue, and returns the receiver's answer. */
  sendTest(destination: SigningDestination): Promise<{ answer: Answer | null; error: string | null }>;
  close(): Promise<void>;
}

interface Worker {
  destination: SigningDestination;
  wake(): void;
  stop(): Promise<void>;
}

/** Answers that will not improve by asking again; everything else (5xx, 408, 409, 425, 429, timeouts) is retried. */
const permanent = (status: number) => status >= 400 && status < 500 && ![408, 409, 425, 429].includes(status);

/** A sleep that `wake` ends early. */
function wakeableSleep() {
  let wakeUp: (() => void) | null = null;
  let woken = false;
  return {
    sleep(ms: number) {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wakeUp = null;
          resolve();
        }
        wakeUp = done;
      });
    },
    wake() {
      if (wakeUp) wakeUp();
      else woken = true;
    },
  };
}

/** Requests one worker may have waiting for an answer at once. */
export const maxInFlight = 8;
/** How long outcomes gather before the next one to come writes them all; the rest are written when the page ends. */
const recordEveryMs = 1000;

/**
 * Deliveries one page holds: about two seconds' worth of requests at the destination's rate (at least 10, at most
 * 100 requests), so its profiles are read together and still fresh when sent; never more than 1,000 deliveries.
 */
export const pageSize = (destination: Pick<SigningDestination, 'batch' | 'ratePerSecond'>) =>
  Math.max(
    destination.batch,
    Math.min(1000, destination.batch * Math.min(100, Math.max(10, Math.ceil(destination.ratePerSecond * 2)))),
  );

/** Spaces the starts of a worker's requests: at most `ratePerSecond` a second. */
class Pacing {
  private nextAt = 0;

  // The monotonic clock: a step of the wall clock neither stalls a worker nor lets it burst.
  async next(ratePerSecond: number): Promise<void> {
    const now = performance.now();
    const wait = this.nextAt - now;
    this.nextAt = Math.max(now, this.nextAt) + 1000 / ratePerSecond;
    if (wait > 0) await sleep(wait);
  }
}

/**
 * Writes outcomes in batches, one write at a time: those gathered over `recordEveryMs` when the next one comes, and
 * the rest at `close`; `written` is told each batch once it is stored.
 */
class OutcomeWriter {
  private waiting: Delivery[] = [];
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private lastAt = performance.now();

  constructor(
    private readonly deliveries: DeliveryStore,
    private readonly written: (rows: Delivery[]) => void,
  ) {}

  add(rows: Delivery[]): void {
    this.waiting.push(...rows);
    if (performance.now() - this.lastAt >= recordEveryMs) this.flush();
  }

  private flush(): void {
    const rows = this.waiting;
    this.waiting = [];
    this.lastAt = performance.now();
    if (rows.length === 0) return;
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        await this.deliveries.record(rows);
        this.written(rows);
      } catch (error) {
        this.failure = error;
      }
    });
  }

  /** Every outcome written; throws if a write failed (its rows, and any after it, stay due and are sent again). */
  async close(): Promise<void> {
    this.flush();
    await this.writing;
    if (this.failure) throw this.failure;
  }
}

export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const logger = deps.logger.child({ component: 'destinations' });
  /** Rows settled without being sent (their profile could not be read yet), counted as `deferred`, not `retried`. */
  const deferredRows = new WeakSet<Delivery>();
  const outcomes = deps.metrics.counter(
    'cdp_destination_deliveries_total',
    'Delivery outcomes by destination: delivered, retried, dead, or deferred (not sent: its profile could not be read yet)',
    ['destination', 'outcome'],
  );
  const latency = deps.metrics.histogram(
    'cdp_destination_delivery_seconds',
    'How long a destination took to answer a delivery request',
    ['destination'],
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const workers = new Map<string, Worker>();
  let closed = false;

  /** The request's headers: the destination's own, then the platform's, which it may not override. */
  function headersOf(destination: SigningDestination, body: string, idempotencyKey: string): Record<string, string> {
    return {
      ...destination.headers,
      'content-type': contentTypeOf(body),
      'user-agent': 'cdp-destinations/0.1',
      'idempotency-key': idempotencyKey,
      [signatureHeader.toLowerCase()]: signatureOf(destination.secret, body, Math.floor(Date.now() / 1000)),
    };
  }

  /** Rendered or why not: a delivery whose profile is not found yet, or whose template fails, says why. */
  type Rendered = { delivery: Delivery; problem: null } | { delivery: Delivery; problem: string; fatal: boolean };

  /** Renders what has no body yet, the profiles of a whole page read together. */
  async function render(destination: SigningDestination, due: Delivery[]): Promise<Rendered[]> {
    const unrendered = due.filter((delivery) => !delivery.body);
    let payloads: Array<Payload | null>;
    try {
      payloads = unrendered.length > 0 ? await deps.payloads.payloadsOf(destination, unrendered) : [];
    } catch (error) {
      const problem = `could not read the profile: ${(error as Error).message}`;
      return due.map((delivery) => (delivery.body ? { delivery, problem: null } : { delivery, problem, fatal: false }));
    }
    const payloadOf = new Map(unrendered.map((delivery, index) => [delivery.deliveryId, payloads[index] ?? null]));
    const rendered: Rendered[] = [];
    for (const delivery of due) {
      if (delivery.body) {
        rendered.push({ delivery, problem: null });
        continue;
      }
      const payload = payloadOf.get(delivery.deliveryId);
      if (!payload) {
        rendered.push({ delivery, problem: 'the profile is not resolved yet', fatal: false });
        continue;
      }
      try {
        const body = await renderBody(destination.template ?? '', payload);
        rendered.push({ delivery: { ...delivery, body, profileId: payload.profile.profileId }, problem: null });
      } catch (error) {
        rendered.push({ delivery, problem: `the template failed: ${(error as Error).message}`, fatal: true });
      }
    }
    return rendered;
  }

  /** The request body of a group: one delivery's body, or in batch mode a JSON array of them (text bodies as strings). */
  function bodyOf(destination: SigningDestination, group: Delivery[]): { body: string; key: string } {
    if (destination.batch === 1 && group.length === 1)
      return { body: (group[0] as Delivery).body, key: (group[0] as Delivery).deliveryId };
    const items = group.map((delivery) =>
      contentTypeOf(delivery.body) === 'application/json' ? delivery.body : JSON.stringify(delivery.body),
    );
    const ids = group.map((delivery) => delivery.deliveryId).sort();
    return {
      body: `[${items.join(',')}]`,
      key: `bat_${createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 24)}`,
    };
  }

  /**
   * The rows of a group as they stand after an attempt (not yet written). A deferred one was not sent (its profile is
   * not readable yet): it is not counted as an attempt, and waits as long as it has already waited (at least the
   * first retry's wait, at most the longest), so a profile the resolver writes a moment later costs one short wait
   * and one that never comes is asked for less and less often until the retry horizon.
   */
  function settle(
    destination: SigningDestination,
    group: Delivery[],
    outcome: { answer: Answer | null; error: string | null; fatal: boolean; deferred?: boolean },
  ): Delivery[] {
    const now = Date.now();
    const { answer, error, fatal, deferred = false } = outcome;
    const { baseMs, maxMs } = deps.config.backoff;
    const delivered = answer !== null && answer.status >= 200 && answer.status < 300;
    const reason =
      error ??
      (answer && !delivered ? `HTTP ${answer.status}${answer.body ? `: ${answer.body.slice(0, 500)}` : ''}` : '');
    const rows = group.map((delivery): Delivery => {
      const row = settled(delivery);
      if (deferred && row.status === 'pending') deferredRows.add(row);
      return row;
    });
    if (answer) latency.observe({ destination: destination.id }, answer.latencyMs / 1000);
    return rows;

    function settled(delivery: Delivery): Delivery {
      const attempts = deferred ? delivery.attempts : delivery.attempts + 1;
      const base = {
        ...delivery,
        attempts,
        updatedAt: now,
        lastStatus: answer?.status ?? 0,
        lastError: reason,
        latencyMs: answer?.latencyMs ?? 0,
      };
      if (delivered) return { ...base, status: 'delivered' };
      if (fatal || (answer && permanent(answer.status)))
        return { ...base, status: 'dead', lastError: `refused: ${reason}` };
      const decision = nextAttempt({
        attempts,
        createdAt: delivery.createdAt,
        now,
        retryAfterMs: deferred
          ? Math.min(Math.max(now - delivery.createdAt, baseMs), maxMs)
          : retryAfterMs(answer?.retryAfter, now),
        backoff: deps.config.backoff,
        horizonMs: deps.config.retryHorizonMs,
      });
      return 'dead' in decision
        ? { ...base, status: 'dead', lastError: `${decision.dead}: ${reason}` }
        : { ...base, status: 'pending', nextAttemptAt: decision.retryAt };
    }
  }

  /** Counts outcomes once they are stored, and says which deliveries are dead. */
  function written(destination: SigningDestination, rows: Delivery[]) {
    for (const row of rows)
      outcomes.inc({
        destination: destination.id,
        outcome: row.status !== 'pending' ? row.status : deferredRows.has(row) ? 'deferred' : 'retried',
      });
    const dead = rows.filter((row) => row.status === 'dead').length;
    if (dead > 0)
      logger.warn(
        { destination: destination.id, dead, reason: rows.find((row) => row.status === 'dead')?.lastError },
        'deliveries are dead',
      );
  }

  /** One request for a group of rendered deliveries: their rows as they stand after it. */
  async function send(destination: SigningDestination, group: Delivery[]): Promise<Delivery[]> {
    const { body, key } = bodyOf(destination, group);
    let answer: Answer | null = null;
    let error: string | null = null;
    let fatal = false;
    try {
      answer = await deps.sender.post(destination.url, headersOf(destination, body, key), body);
    } catch (failure) {
      error = failure instanceof RefusedAddress ? failure.message : `request failed: ${(failure as Error).message}`;
      fatal = failure instanceof RefusedAddress;
    }
    return settle(destination, group, { answer, error, fatal });
  }

  /**
   * A page of due deliveries: rendered together, sent in groups (up to `maxInFlight` requests at once, started at most
   * `ratePerSecond`), and their outcomes written a batch at a time (about `recordEveryMs` worth, and all before the
   * next page is read, so a row is never sent twice by one worker). A crash before a row's outcome is written sends
   * it again, with the same `Idempotency-Key`.
   */
  async function sendPage(destination: SigningDestination, due: Delivery[], pacing: Pacing, stopped: () => boolean) {
    const writer = new OutcomeWriter(deps.deliveries, (rows) => written(destination, rows));
    const ready: Delivery[] = [];
    for (const rendered of await render(destination, due)) {
      if (rendered.problem === null) ready.push(rendered.delivery);
      else
        writer.add(
          settle(destination, [rendered.delivery], {
            answer: null,
            error: rendered.problem,
            fatal: rendered.fatal,
            deferred: !rendered.fatal,
          }),
        );
    }
    const groups: Delivery[][] = [];
    for (let index = 0; index < ready.length; index += destination.batch)
      groups.push(ready.slice(index, index + destination.batch));
    const inFlight = new Set<Promise<void>>();
    for (const group of groups) {
      if (stopped()) break;
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      await pacing.next(destination.ratePerSecond);
      const request: Promise<void> = send(destination, group)
        .then(
          (rows) => writer.add(rows),
          // Not settled: the group stays due and is sent again at the next look.
          (error: unknown) => logger.error({ err: error, destination: destination.id }, 'could not settle a request'),
        )
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
    await writer.close();
  }

  function startWorker(initial: SigningDestination): Worker {
    const pause = wakeableSleep();
    let stopped = false;
    const worker: Worker = {
      destination: initial,
      wake: () => pause.wake(),
      async stop() {
        stopped = true;
        pause.wake();
        await loop;
      },
    };
    const loop = (async () => {
      const pacing = new Pacing();
      while (!stopped) {
        const destination = worker.destination;
        let due: Delivery[] = [];
        const share = deps.share();
        try {
          due = await deps.deliveries.due(destination.id, Date.now(), pageSize(destination), share);
        } catch (error) {
          logger.error({ err: error, destination: destination.id }, 'could not read due deliveries; trying again');
        }
        if (due.length === 0) {
          await pause.sleep(deps.config.pollMs);
          continue;
        }
        try {
          // A rebalance may have given part of the page to another instance: the rest waits for its owner's look.
          await sendPage(destination, due, pacing, () => stopped || !sameShare(share, deps.share()));
        } catch (error) {
          // Not recorded: the deliveries stay due and are tried again at the next look.
          logger.error({ err: error, destination: destination.id }, 'could not record a delivery attempt');
          await pause.sleep(deps.config.pollMs);
        }
      }
    })();
    return worker;
  }

  /** Workers being stopped (a paused or deleted destination's), until their last request is recorded. */
  const stopping = new Map<string, Promise<void>>();

  /** Workers follow the definitions: one per active destination, stopped when it is paused or deleted. */
  async function refresh(): Promise<void> {
    if (closed) return;
    const active = (await deps.store.list()).filter((destination) => destination.status === 'active');
    const ids = new Set(active.map((destination) => destination.id));
    for (const [id, worker] of workers) {
      if (!ids.has(id)) {
        workers.delete(id);
        stopping.set(
          id,
          worker.stop().finally(() => stopping.delete(id)),
        );
      }
    }
    for (const destination of active) {
      const worker = workers.get(destination.id);
      if (worker) {
        worker.destination = destination;
        continue;
      }
      // Paused and resumed again quickly: the old worker finishes its request first, so one destination never has two.
      await stopping.get(destination.id);
      if (!closed && !workers.has(destination.id)) workers.set(destination.id, startWorker(destination));
    }
  }

  let refreshing: Promise<void> = Promise.resolve();
  const refreshSoon = () => {
    refreshing = refreshing
      .then(refresh)
      .catch((error: unknown) => logger.error({ err: error }, 'could not read the destinations; trying again'));
  };
  refreshSoon();
  deps.store.onChange(refreshSoon);
  // Definitions changed by another process are picked up within a few polls.
  const timer = setInterval(refreshSoon, Math.max(deps.config.pollMs * 5, 1000));
  timer.unref();

  return {
    wake(destinationIds) {
      for (const id of destinationIds) workers.get(id)?.wake();
    },
    async sendTest(destination) {
      const id = `dlv_test_${randomBytes(8).toString('hex')}`;
      const body = await renderBody(destination.template ?? '', samplePayload(destination, id, Date.now()));
      try {
        return { answer: await deps.sender.post(destination.url, headersOf(destination, body, id), body), error: null };
      } catch (failure) {
        return { answer: null, error: (failure as Error).message };
      }
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await refreshing;
      await Promise.all([...workers.values()].map((worker) => worker.stop()));
      workers.clear();
      await Promise.all(stopping.values());
    },
  };
}
