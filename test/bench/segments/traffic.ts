// Parent side of the freshness measure: orders sent at a steady rate over HTTP, and how long each first order of a new
// customer took from its 200 to the first segment change of its profile on the feed.
import { readFileSync } from 'node:fs';
import type { Part } from '../resolver/child';
import type { ChangeTimes, FreshnessServed } from './freshness';

export interface Freshness {
  firstPassMs: number;
  sent: number;
  /** First orders of new customers looked at, and how many of them had a change on the feed by the end. */
  measured: number;
  seen: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  fullPasses: number;
  drift: number;
  aheadOfFollowing: number;
  swept: number;
  rssMb: { start: number; peak: number; end: number };
}

/** How many first orders are looked up afterwards (every profile lookup is an HTTP request). */
const sampleSize = 2000;
/** Requests carry this many events; at 1,000 events/s that is 100 requests a second. */
const perRequest = 10;
/** A customer's second order comes at least this long after the first, so the first's changes are told apart. */
const secondOrderAfterMs = 10_000;
/** After the traffic, changes still on their way get this long. */
const graceMs = 15_000;

const rssMbOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** The nearest-rank percentile of some values. */
export function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] ?? NaN;
}

/** Sends `rate` orders a second for `seconds` to a freshness part, half of them a new customer's first, then measures. */
export async function measureFreshness(
  part: Part<FreshnessServed | ChangeTimes>,
  rate: number,
  seconds: number,
  progress: (line: string) => void,
): Promise<Freshness> {
  const served = (await part.next()) as FreshnessServed;
  const pid = part.child.pid!;
  const start = rssMbOf(pid);
  const rss = { start, peak: start, end: 0 };
  const run = `r${Date.now().toString(36)}`;
  const firsts: Array<{ userId: string; sentAt: number; okAt: number }> = [];
  const seconders: Array<{ userId: string; at: number }> = [];
  let sent = 0;
  let failed = 0;
  let customers = 0;
  const inFlight = new Set<Promise<void>>();

  const post = (events: Array<Record<string, unknown>>, onOk: (at: number) => void) => {
    const request = fetch(`${served.url}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${served.writeKey}:`).toString('base64')}`,
      },
      body: JSON.stringify({ batch: events }),
    })
      .then(async (response) => {
        await response.arrayBuffer();
        if (response.status === 200) onOk(Date.now());
        else failed += events.length;
      })
      .catch(() => {
        failed += events.length;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  const order = (userId: string) => ({
    type: 'track',
    userId,
    event: 'Order Completed',
    messageId: `${userId}-${sent}`,
    properties: { revenue: 20 + (sent % 80), channel: 'web' },
  });
  const startedAt = Date.now();
  const endAt = startedAt + seconds * 1000;
  let lastReport = startedAt;
  while (Date.now() < endAt) {
    const due = Math.floor(((Date.now() - startedAt) / 1000) * rate);
    while (sent + perRequest <= due && inFlight.size < 200) {
      const events: Array<Record<string, unknown>> = [];
      const newOnes: string[] = [];
      for (let index = 0; index < perRequest; index += 1) {
        const ready = seconders[0];
        if (index % 2 === 1 && ready && ready.at <= Date.now()) {
          seconders.shift();
          events.push(order(ready.userId));
        } else {
          const userId = `${run}-c${customers++}`;
          newOnes.push(userId);
          events.push(order(userId));
        }
        sent += 1;
      }
      const sentAt = Date.now();
      post(events, (okAt) => {
        for (const userId of newOnes) {
          firsts.push({ userId, sentAt, okAt });
          seconders.push({ userId, at: okAt + secondOrderAfterMs });
        }
      });
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      rss.peak = Math.max(rss.peak, rssMbOf(pid));
      progress(`freshness: ${sent} orders sent (${failed} refused), server RSS ${Math.round(rssMbOf(pid))} MB`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(inFlight);
  await new Promise((resolve) => setTimeout(resolve, graceMs));
  rss.end = rssMbOf(pid);
  rss.peak = Math.max(rss.peak, rss.end);

  // Every n-th first order, spread over the run, looked up to its profile and matched to the feed's arrivals.
  const step = Math.max(1, Math.floor(firsts.length / sampleSize));
  const sample = firsts.filter((_, index) => index % step === 0).slice(0, sampleSize);
  const profiles: Array<{ profileId: string; sentAt: number; okAt: number }> = [];
  for (const { userId, sentAt, okAt } of sample) {
    const response = await fetch(`${served.url}/v1/profiles/user_id:${userId}`, {
      headers: { authorization: `Bearer ${served.readKey}` },
    });
    const body = (await response.json()) as { profileId?: string };
    if (body.profileId) profiles.push({ profileId: body.profileId, sentAt, okAt });
  }
  part.child.stdin!.write(`times ${JSON.stringify(profiles.map((profile) => profile.profileId))}\n`);
  const { times, fullPasses, drift, aheadOfFollowing, swept } = (await part.next()) as ChangeTimes;
  // A change may even come before the client has read its 200: the first after the request was sent is its own.
  const latencies = profiles.flatMap(({ profileId, sentAt, okAt }) => {
    const arrived = (times[profileId] ?? []).find((at) => at >= sentAt);
    return arrived === undefined ? [] : [Math.max(0, arrived - okAt)];
  });
  return {
    firstPassMs: served.firstPassMs,
    sent: sent - failed,
    measured: sample.length,
    seen: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    maxMs: Math.max(...latencies),
    fullPasses,
    drift,
    aheadOfFollowing,
    swept,
    rssMb: rss,
  };
}
