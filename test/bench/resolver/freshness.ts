// Freshness under load: steady batches to ingest over HTTP, and for sampled events the time until the profile API shows them.
import { performance } from 'node:perf_hooks';
import { spawnPart } from './child';
import { customerMessages } from './events';
import { platformClient, type PlatformClient } from './freshness-client';
import type { ServedPlatform } from './freshness-server';

export interface FreshnessResult {
  runtime: string;
  seconds: number;
  /** Events ingest accepted per second over the run (the target rate if it kept up). */
  eventsPerSecond: number;
  samples: number;
  /** Samples not seen within the probe timeout; they rank last. */
  unseen: number;
  /** Until the read that showed the event returned: what a client polling the API sees. */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Until that read was sent: the pipeline's share, without the read's own time. */
  sentP50Ms: number;
  sentP95Ms: number;
  errors: number;
  readsPerSecond: number;
  /** Median time one profile read took during the run. */
  readP50Ms: number;
  /** Events accepted by ingest but not yet written by the resolver, largest seen and when the load stopped. */
  maxBacklog: number;
  endBacklog: number;
  /** The server's longest event-loop delay during the load. */
  maxLoopDelayMs: number;
}

const batchSize = 50;
/** A profile read under this load takes a few hundred ms (chDB serves reads between the resolver's inserts), so a sample every 100 ms would outrun the pollers. */
const sampleEveryMs = Number(process.env.BENCH_SAMPLE_MS ?? 500);
const pollEveryMs = 15;
export const probeTimeoutMs = 60_000;
const maxBatchesInFlight = 64;
/**
 * Profile reads in flight at once. Reads share chDB with the resolver's inserts, so one poll loop per sample would
 * measure the query API's queue instead of the pipeline: a few pollers serve the oldest samples first.
 */
const pollers = Number(process.env.BENCH_READERS ?? 4);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Seen {
  returnedMs: number;
  sentMs: number;
}

interface Sample {
  userId: string;
  acceptedAt: number;
  lastPolledAt: number;
  polling: boolean;
}

/** Polls sampled userIds until each is visible or times out; the oldest pending samples are polled first. */
function sampleWatcher(http: PlatformClient) {
  const pending: Sample[] = [];
  const outcomes: Array<Seen | null> = [];
  let posting = 0;
  let closed = false;
  const settle = (sample: Sample, seen: Seen | null) => {
    pending.splice(pending.indexOf(sample), 1);
    outcomes.push(seen);
  };
  async function poll(): Promise<void> {
    while (!closed || posting > 0 || pending.length > 0) {
      const now = performance.now();
      // Among the oldest few (a younger sample may sit on a partition that is ahead), the one polled longest ago.
      const sample = pending
        .slice(0, pollers * 2)
        .filter((candidate) => !candidate.polling && now - candidate.lastPolledAt >= pollEveryMs)
        .sort((a, b) => a.lastPolledAt - b.lastPolledAt)[0];
      if (!sample) {
        await sleep(2);
        continue;
      }
      sample.polling = true;
      sample.lastPolledAt = now;
      const seen = await http.visible(sample.userId);
      sample.polling = false;
      const age = performance.now() - sample.acceptedAt;
      if (seen) settle(sample, { returnedMs: age, sentMs: now - sample.acceptedAt });
      else if (age > probeTimeoutMs) settle(sample, null);
    }
  }
  const running = Array.from({ length: pollers }, () => poll());
  return {
    /** Sends one marked event for a fresh userId; its clock starts at the 200. */
    async add(userId: string): Promise<void> {
      posting += 1;
      try {
        if (await http.post('/v1/track', { userId, event: 'Freshness Probe', properties: { channel: 'web' } })) {
          pending.push({ userId, acceptedAt: performance.now(), lastPolledAt: 0, polling: false });
        } else outcomes.push(null);
      } finally {
        posting -= 1;
      }
    },
    async finish(): Promise<Array<Seen | null>> {
      closed = true;
      await Promise.all(running);
      return outcomes;
    },
  };
}

/** Waits, unmeasured, until one event shows: consumer groups have joined and the first link round trip is done. */
async function warmUp(http: PlatformClient, userId: string): Promise<boolean> {
  if (!(await http.post('/v1/track', { userId, event: 'Warm-up' }))) return false;
  for (
    const deadline = Date.now() + 120_000;
    Date.now() < deadline && http.counts.errors < 20;
    await sleep(pollEveryMs)
  ) {
    if (await http.visible(userId)) return true;
  }
  return false;
}

export async function measureFreshness(
  runtime: 'embedded' | 'kafka',
  env: Record<string, string>,
  seconds: number,
  rate: number,
): Promise<FreshnessResult> {
  const server = spawnPart<ServedPlatform>(new URL('./freshness-server.ts', import.meta.url), [runtime], { env });
  try {
    const http = platformClient(await server.next());
    const tag = `${runtime}${process.pid}`;
    if (!(await warmUp(http, `warmup-${tag}`))) {
      throw new Error(
        `the ${runtime} platform never showed the warm-up event (last error: ${http.counts.lastError || 'none'})`,
      );
    }
    Object.assign(http.counts, { reads: 0, errors: 0, readMs: [] });

    const intervalMs = (1000 * batchSize) / rate;
    const totalBatches = Math.floor((seconds * 1000) / intervalMs);
    const messages = customerMessages(totalBatches * batchSize, `f${tag}`);
    const watcher = sampleWatcher(http);
    let sentBatches = 0;
    let samples = 0;
    let acceptedEvents = 0;
    const sending = new Set<Promise<unknown>>();
    const progress: Array<Promise<{ backlog: number; loopDelayMs: number }>> = [];
    const track = (request: Promise<unknown>) => {
      sending.add(request);
      void request.then(
        () => sending.delete(request),
        () => sending.delete(request),
      );
    };
    const startedAt = performance.now();
    for (let now = startedAt; now - startedAt < seconds * 1000; now = performance.now()) {
      const elapsed = now - startedAt;
      const due = Math.min(totalBatches, Math.floor(elapsed / intervalMs) + 1);
      // Paced by the clock: a late tick sends the batches it owes, up to a bound on requests in flight.
      while (sentBatches < due && sending.size < maxBatchesInFlight) {
        const batch = messages.slice(sentBatches * batchSize, (sentBatches + 1) * batchSize);
        sentBatches += 1;
        track(http.post('/v1/batch', { batch }).then((ok) => (acceptedEvents += ok ? batch.length : 0)));
      }
      if (samples < Math.floor(elapsed / sampleEveryMs) + 1) track(watcher.add(`fresh-${tag}-${samples++}`));
      if (progress.length < Math.floor(elapsed / 1000) + 1)
        progress.push(http.progress().catch(() => ({ backlog: 0, loopDelayMs: 0 })));
      await sleep(1);
    }
    const sendSeconds = (performance.now() - startedAt) / 1000;
    while (sending.size > 0) await Promise.all(sending);
    const end = await http.progress();
    const scrapes = [...(await Promise.all(progress)), end];
    const outcomes = await watcher.finish();
    const readSeconds = (performance.now() - startedAt) / 1000;
    // An unseen sample is slower than any seen one: it ranks last.
    const unseen = outcomes.filter((outcome) => outcome === null).map(() => Number.POSITIVE_INFINITY);
    const ranked = (pick: (seen: Seen) => number) => [
      ...outcomes.flatMap((outcome) => (outcome ? [pick(outcome)] : [])).sort((a, b) => a - b),
      ...unseen,
    ];
    const returned = ranked((seen) => seen.returnedMs);
    const sent = ranked((seen) => seen.sentMs);
    return {
      runtime,
      seconds,
      eventsPerSecond: Math.round(acceptedEvents / sendSeconds),
      samples: outcomes.length,
      unseen: unseen.length,
      p50Ms: percentile(returned, 50),
      p95Ms: percentile(returned, 95),
      maxMs: returned[returned.length - 1] ?? Number.NaN,
      sentP50Ms: percentile(sent, 50),
      sentP95Ms: percentile(sent, 95),
      errors: http.counts.errors,
      readsPerSecond: Math.round(http.counts.reads / readSeconds),
      readP50Ms: percentile(
        [...http.counts.readMs].sort((a, b) => a - b),
        50,
      ),
      maxBacklog: Math.max(...scrapes.map((scrape) => scrape.backlog)),
      endBacklog: end.backlog,
      maxLoopDelayMs: Math.max(...scrapes.map((scrape) => scrape.loopDelayMs)),
    };
  } finally {
    await server.stop();
  }
}
