// `pnpm bench destinations`: deliveries/s to a local receiver (one per request and batched), event → delivery latency
// of event and segment triggers, and the server's memory while N follow-ups are stored and then paged by the poller;
// against a plain HTTP POST loop to the same receiver, measured in the same run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@cdp/runtime';
import { send } from '../harness/http';
import { spawnCdp } from '../harness/process';
import { startReceiver, type WebhookReceiver } from '../harness/webhook-receiver';
import { percentile } from './segments/traffic';

const usage = `usage: pnpm bench destinations [--pending N]

Starts \`cdp start\` (embedded log, or Kafka when KAFKA_BROKERS is set) and a local webhook receiver in this process.

  --pending N        follow-ups stored (from 1,000 customers) and then fired by the timer poller (default 1000000)
environment:
  BENCH_DELIVERIES   event deliveries timed for deliveries/s, each way (default 2000)
  BENCH_LATENCY      events (and segment entries) timed one at a time for latency (default 100)
  BENCH_PAGE_SECONDS at most how long the poller is watched firing the due follow-ups (default 600)
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}
const flag = process.argv.indexOf('--pending');
const pending = flag >= 0 ? Number(process.argv[flag + 1]) : 1_000_000;
const deliveries = Number(process.env.BENCH_DELIVERIES ?? 2000);
const latencyCount = Number(process.env.BENCH_LATENCY ?? 100);
const pageSeconds = Number(process.env.BENCH_PAGE_SECONDS ?? 600);
const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`${line}\n`);
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');
const secret = 'whsec_bench_secret_0123456789';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-destinations-'));
const keys = { write: 'wk_bench_destinations', read: 'rk_bench_destinations', admin: 'ak_bench_destinations' };
const cdp = await spawnCdp(['start'], {
  CDP_DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'warn',
  CDP_WRITE_KEY: keys.write,
  CDP_READ_KEY: keys.read,
  CDP_ADMIN_KEY: keys.admin,
  CDP_DESTINATIONS_ALLOW: '127.0.0.0/8,::1',
  CDP_DESTINATIONS_POLL_MS: '100',
  CDP_DESTINATIONS_TIMER_POLL_MS: '500',
  // A delivery tried before the resolver placed its new customer is tried again soon, not minutes later.
  CDP_DESTINATIONS_BACKOFF_BASE_MS: '200',
  CDP_DESTINATIONS_BACKOFF_MAX_MS: '1000',
  // A new segment is evaluated soon, and then followed profile by profile.
  CDP_SEGMENTS_INTERVAL_MS: '2000',
});
const rssMb = () => {
  const status = readFileSync(`/proc/${cdp.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

async function admin(method: string, route: string, body?: unknown) {
  const response = await fetch(`${cdp.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
const destination = async (url: string, triggers: unknown[], extra: Record<string, unknown> = {}) =>
  (await admin('POST', '/v1/destinations', { name: `bench_${Date.now()}`, url, secret, triggers, ...extra }))
    .id as string;
async function batch(messages: unknown[]) {
  for (let start = 0; start < messages.length; start += 500) {
    const answer = await send(
      cdp.url,
      '/v1/batch',
      { batch: messages.slice(start, start + 500) },
      { writeKey: keys.write },
    );
    if (answer.status !== 200) throw new Error(`batch: ${answer.status}`);
  }
}
/** Follow-ups the timer poller has fired, from the server's metrics. */
async function timersFired(): Promise<number> {
  const text = await (await fetch(`${cdp.url}/metrics`)).text();
  return Number(/^cdp_destination_timers_total\{kind="follow_up",outcome="fired"\} (\d+)/m.exec(text)?.[1] ?? 0);
}
/** Deliveries the receiver has had: a batched request counts each of its items. */
const itemsOf = (receiver: WebhookReceiver) =>
  receiver.requests.reduce((sum, request) => {
    const body = JSON.parse(request.body) as unknown;
    return sum + (Array.isArray(body) ? body.length : 1);
  }, 0);

const rows: string[] = [];
try {
  // Baseline: the same number of POSTs, one after another, from this process to the same kind of receiver.
  const plain = await startReceiver();
  const body = JSON.stringify({ id: 'x', trigger: { kind: 'event' }, profile: { traits: {} } });
  const plainStart = performance.now();
  for (let index = 0; index < deliveries; index += 1)
    await fetch(plain.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const plainRate = deliveries / ((performance.now() - plainStart) / 1000);
  await plain.close();
  rows.push(
    `| plain HTTP POST loop (baseline) | ${thousands(plainRate)} req/s | — | ${deliveries} POSTs, one at a time |`,
  );

  for (const size of [1, 100]) {
    const receiver = await startReceiver();
    const event = `Bench Rate ${size}`;
    await destination(receiver.url, [{ kind: 'event', event }], { batch: size, ratePerSecond: 1000 });
    // Profiles first, so the measured span is sending, not waiting for the resolver to place a new customer.
    const users = Array.from({ length: Math.ceil(deliveries / 10) }, (_, index) => `rate${size}_${index}`);
    await batch(users.map((userId) => ({ type: 'identify', userId, traits: { plan: 'free' } })));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const started = performance.now();
    await batch(
      Array.from({ length: deliveries }, (_, index) => ({ type: 'track', userId: users[index % users.length], event })),
    );
    await waitFor(() => itemsOf(receiver) >= deliveries || null, { timeoutMs: 600_000, what: `${event} delivered` });
    const rate = deliveries / ((performance.now() - started) / 1000);
    rows.push(
      `| deliveries/s, batch ${size} | ${thousands(rate)} deliveries/s | — | ${deliveries} event triggers, ${receiver.requests.length} requests, sent in batches of 500 |`,
    );
    await receiver.close();
  }

  {
    const receiver = await startReceiver();
    const event = 'Bench Latency';
    await destination(receiver.url, [{ kind: 'event', event }], { ratePerSecond: 1000 });
    const userId = 'latency_user';
    await batch([{ type: 'identify', userId, traits: { plan: 'free' } }]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const latencies: number[] = [];
    for (let index = 0; index < latencyCount; index += 1) {
      const sentAt = Date.now();
      await send(cdp.url, '/v1/track', { userId, event }, { writeKey: keys.write });
      await waitFor(() => receiver.requests.length > index || null, { timeoutMs: 60_000, what: 'the delivery' });
      latencies.push(receiver.requests[index]!.receivedAt - sentAt);
    }
    rows.push(
      `| event trigger → delivery | p50 ${thousands(percentile(latencies, 0.5))} ms, p95 ${thousands(percentile(latencies, 0.95))} ms | p95 ≤ 2,000 ms | ${latencyCount} events, one at a time |`,
    );
    await receiver.close();
  }

  {
    const receiver = await startReceiver();
    const madeAt = new Date().toISOString();
    const segment = await admin('POST', '/v1/segments', {
      name: 'bench_gold',
      rule: { trait: 'plan', equals: 'gold' },
    });
    await destination(receiver.url, [{ kind: 'segment', segmentId: segment.id, on: 'entered' }], {
      ratePerSecond: 1000,
    });
    await waitFor(async () => String((await admin('GET', `/v1/segments/${segment.id}`)).evaluatedAt) > madeAt || null, {
      timeoutMs: 120_000,
      what: 'the segment evaluated',
    });
    const latencies: number[] = [];
    for (let index = 0; index < latencyCount; index += 1) {
      const sentAt = Date.now();
      await send(
        cdp.url,
        '/v1/identify',
        { userId: `gold_${index}`, traits: { plan: 'gold' } },
        { writeKey: keys.write },
      );
      await waitFor(() => receiver.requests.length > index || null, { timeoutMs: 120_000, what: 'the delivery' });
      latencies.push(receiver.requests[index]!.receivedAt - sentAt);
    }
    rows.push(
      `| segment entry → delivery | p50 ${thousands(percentile(latencies, 0.5))} ms, p95 ${thousands(percentile(latencies, 0.95))} ms | — | ${latencyCount} new customers entering, one at a time |`,
    );
    await receiver.close();
  }

  {
    // Paused: the due follow-ups become pending deliveries the poller writes page by page, and nothing is sent. The
    // orders come from a fixed set of customers, so what grows with N is the timers, not the identity graph; as an
    // after-purchase survey would, each is checked for an awaited event (none comes) before it fires.
    const receiver = await startReceiver();
    const delaySeconds = 30;
    const customers = Math.min(pending, 1000);
    const id = await destination(receiver.url, [
      {
        kind: 'followUp',
        event: 'Bench Order',
        after: { value: delaySeconds, unit: 'seconds' },
        unless: { event: 'Bench Survey' },
      },
    ]);
    await admin('PATCH', `/v1/destinations/${id}`, { status: 'paused' });
    const storing: number[] = [rssMb()];
    const sampler = setInterval(() => storing.push(rssMb()), 1000);
    const started = performance.now();
    for (let start = 0; start < pending; start += 10_000) {
      const count = Math.min(10_000, pending - start);
      await batch(
        Array.from({ length: count }, (_, index) => ({
          type: 'track',
          userId: `order_${(start + index) % customers}`,
          event: 'Bench Order',
          properties: { order_id: `o_${start + index}` },
        })),
      );
      progress(`stored ${thousands(start + count)} follow-ups, server RSS ${thousands(rssMb())} MB`);
    }
    const storeSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const paging: number[] = [];
    const pageSampler = setInterval(() => paging.push(rssMb()), 1000);
    const firstFiring = await waitFor(async () => ((await timersFired()) > 0 ? performance.now() : null), {
      timeoutMs: delaySeconds * 1000 + 120_000,
      what: 'the first follow-up fired',
    });
    let fired = 0;
    for (;;) {
      fired = await timersFired();
      const seconds = (performance.now() - firstFiring) / 1000;
      if (fired >= pending || seconds >= pageSeconds) break;
      progress(`fired ${thousands(fired)} follow-ups in ${Math.round(seconds)} s, server RSS ${thousands(rssMb())} MB`);
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
    const pagingSeconds = (performance.now() - firstFiring) / 1000;
    clearInterval(pageSampler);
    const span = (samples: number[]) =>
      `min ${thousands(Math.min(...samples))} MB, max ${thousands(Math.max(...samples))} MB, last ${thousands(samples.at(-1) ?? 0)} MB`;
    rows.push(
      `| server RSS storing ${thousands(pending)} follow-ups | ${span(storing)} | flat | ${thousands(pending / storeSeconds)} events/s accepted, ${thousands(customers)} customers |`,
    );
    rows.push(
      `| timer poller firing them | ${thousands(fired / pagingSeconds)} timers/s | — | ${thousands(fired)} of ${thousands(pending)} fired in ${thousands(pagingSeconds)} s (stops at all or ${pageSeconds} s) |`,
    );
    rows.push(`| server RSS while the poller fires them | ${span(paging)} | flat | sampled each second |`);
    await receiver.close();
  }

  out('');
  out(`destinations bench: ${os.cpus().length} cores, embedded log${process.env.KAFKA_BROKERS ? ' (Kafka)' : ''}`);
  out('| measure | result | target | detail |');
  out('|---|---|---|---|');
  for (const row of rows) out(row);
} finally {
  cdp.child.kill('SIGTERM');
  await cdp.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
