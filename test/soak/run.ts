// `pnpm soak`: the platform under a steady load for a long time, with reads mixed in, to show that memory stays flat,
// the resolver keeps up and errors do not grow. Not part of `vitest run`; prints a Markdown table per runtime and
// exits 1 when a criterion fails.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deploy, resolverLag, type Deployment, type Runtime } from '../faults/runner';
import { metricOf, metricsPage } from '../harness/http';
import { rng } from '../generators/customers';
import { CustomerStream, ReadPool, memoryVerdict, quantile, residentBytes, type MemoryVerdict } from './load';

const usage = `pnpm soak [--minutes N] [--runtime distributed|embedded|both] [--rate R] [--profile-reads P] [--all-new]

Measures the capacity first (60 s of /v1/batch at full speed, then until the resolver has written it all, with the
reads below running throughout), then sends 100-event batches at half of it (or R events/s) for N minutes (default
30) with P profile reads a second (default 3) and the KPIs and the segment list every 5 s, sampling every 10 s. The
customers first seen by the end of the warm-up come back after it with new events (a steady customer base);
--all-new keeps sending new customers only, whose identifiers the resolver's graph holds in memory by design (about
400 MB a million). --runtime both (the default) runs distributed (Kafka broker + cdp ingest + cdp start), then
embedded (one cdp start). Progress on stderr, the tables on stdout, what each process logged (warnings and errors)
in a directory under the system's temp directory, named on stderr; exit 1 when a criterion fails.`;

const batchSize = 100;
const sampleIntervalMs = 10_000;
const requestTimeoutMs = 15_000;
/** Long enough for the first customers to be 30 s old and read, as in the soak. */
const saturationMs = 60_000;
const saturationSenders = 8;
const maxWritesInFlight = 256;
const maxReadsInFlight = 32;
/** Profiles read are of customers whose last batch was accepted at least this long ago. */
const readAgeMs = 30_000;
/** Lag allowed after the warm-up, in seconds of load. */
const lagBoundSeconds = 30;
const drainTimeoutMs = 300_000;
/** The capacity measurement's backlog is the full-speed burst; a busy machine may need long to write it. */
const capacityDrainTimeoutMs = 900_000;
const checkTimeoutMs = 60_000;
const memoryTolerancePercent = 10;

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const megabytes = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const count = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number | null) => (value === null ? '–' : `${Math.round(value)} ms`);

interface Answer {
  /** The status, '503 + Retry-After', 'timeout' or 'network error'. */
  status: string;
  outcome: 'ok' | 'refused' | 'error';
  ms: number;
}

async function call(url: string, init: RequestInit): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
    await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (response.status === 200) return { status: '200', outcome: 'ok', ms: elapsed };
    if (response.status === 503 && response.headers.get('retry-after'))
      return { status: '503 + Retry-After', outcome: 'refused', ms: elapsed };
    return { status: String(response.status), outcome: 'error', ms: elapsed };
  } catch (error) {
    const status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'network error';
    return { status, outcome: 'error', ms: performance.now() - started };
  }
}

type ReadKind = 'profile' | 'kpis' | 'segments';
const readKinds: ReadKind[] = ['profile', 'kpis', 'segments'];

/** Requests and their answers over a stretch of the run (a sampling window, or a half). */
class Tally {
  eventsSent = 0;
  eventsAccepted = 0;
  writes = 0;
  reads = 0;
  /** Answers other than 200 and 503 + Retry-After, timeouts and requests the driver could not send included. */
  errors = 0;
  refusals = 0;
  readErrors = 0;
  statuses = new Map<string, number>();
  /** Times of the answers 200 (another answer's time says little: a 429 is quick, a timeout is the client's). */
  writeMs: number[] = [];
  readMs: Record<ReadKind, number[]> = { profile: [], kpis: [], segments: [] };

  record(kind: 'write' | ReadKind, answer: Answer, events = 0): void {
    if (kind === 'write') {
      this.writes += 1;
      this.eventsSent += events;
      if (answer.outcome === 'ok') this.eventsAccepted += events;
      if (answer.outcome === 'ok') this.writeMs.push(answer.ms);
    } else {
      this.reads += 1;
      if (answer.outcome === 'ok') this.readMs[kind].push(answer.ms);
      else this.readErrors += 1;
    }
    if (answer.outcome === 'error') this.errors += 1;
    if (answer.outcome === 'refused') this.refusals += 1;
    if (answer.outcome !== 'ok') this.count(`${kind} ${answer.status}`);
  }

  notSent(kind: 'write' | ReadKind, status: string): void {
    this.errors += 1;
    if (kind === 'write') this.writes += 1;
    else {
      this.reads += 1;
      this.readErrors += 1;
    }
    this.count(`${kind} ${status}`);
  }

  private count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}

const allReads = (tally: Tally) => readKinds.flatMap((kind) => tally.readMs[kind]);

async function metricSum(url: string, name: string): Promise<number | null> {
  const text = await metricsPage(url, requestTimeoutMs);
  return text === null ? null : metricOf(text, name);
}

/** The load's connection to one deployment: posts batches, books what was accepted, remembers customers to read. */
class Driver {
  readonly stream: CustomerStream;
  readonly pool = new ReadPool(readAgeMs);
  /** Events answered 200 since the deployment started. */
  accepted = 0;
  private readonly writeAuth: string;
  private readonly readAuth: string;

  constructor(
    readonly deployment: Deployment,
    runtime: Runtime,
  ) {
    this.stream = new CustomerStream({ prefix: `soak-${runtime}-${Date.now().toString(36)}`, seed: 11 });
    this.writeAuth = `Basic ${Buffer.from(`${deployment.env.CDP_WRITE_KEY}:`).toString('base64')}`;
    this.readAuth = `Bearer ${deployment.env.CDP_READ_KEY}`;
  }

  async write(): Promise<{ answer: Answer; events: number }> {
    const batch = this.stream.next(batchSize);
    const answer = await call(`${this.deployment.ingestUrl()}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: this.writeAuth },
      body: JSON.stringify({ batch: batch.messages }),
    });
    const ok = answer.outcome === 'ok';
    this.stream.settle(batch, ok);
    if (ok) {
      this.accepted += batch.messages.length;
      for (const ref of batch.completed) this.pool.add(ref, Date.now());
    }
    return { answer, events: batch.messages.length };
  }

  read(pathAndQuery: string): Promise<Answer> {
    return call(`${this.deployment.readUrl()}${pathAndQuery}`, { headers: { authorization: this.readAuth } });
  }

  async profileEvents(ref: string): Promise<number | null> {
    const response = await fetch(`${this.deployment.readUrl()}/v1/profiles/${encodeURIComponent(ref)}`, {
      headers: { authorization: this.readAuth },
      signal: AbortSignal.timeout(requestTimeoutMs),
    }).catch(() => null);
    if (response?.status !== 200) return null;
    const body = (await response.json()) as { stats?: { events?: number } };
    return body.stats?.events ?? null;
  }

  /** Waits until the resolver's lag is 0 and it has written every accepted event; the ms it took, or null. */
  async drain(timeoutMs: number): Promise<number | null> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const lag = await resolverLag(this.deployment.readUrl());
      const written = await metricSum(this.deployment.readUrl(), 'cdp_resolver_events_written_total');
      if (lag === 0 && written !== null && written >= this.accepted) return Date.now() - started;
      await sleep(500);
    }
    return null;
  }
}

/**
 * The reads a console open on the overview makes, from `t0` while `running()`: each second `profileReads` profiles of
 * customers sent at least 30 s earlier; every 5 s the KPIs of the generated months and, 2 s later, the segment list.
 */
async function readMix(
  driver: Driver,
  profileReads: number,
  t0: number,
  running: () => boolean,
  send: (kind: ReadKind, path: string) => void,
): Promise<void> {
  const random = rng(5);
  for (let second = 1; ; second += 1) {
    await sleep(t0 + second * 1000 - Date.now());
    if (!running()) return;
    for (let index = 0; index < profileReads; index += 1) {
      const ref = driver.pool.pick(Date.now(), random);
      if (ref) send('profile', `/v1/profiles/${encodeURIComponent(ref)}`);
    }
    if (second % 5 === 0) send('kpis', '/v1/analytics/kpis?from=2025-01-01&to=2025-04-01&tz=UTC');
    if (second % 5 === 2) send('segments', '/v1/segments');
  }
}

interface Capacity {
  /** Events/s ingest accepted at full speed. */
  ingest: number;
  /** Events/s from the first request until the resolver had written them all. */
  endToEnd: number;
  errors: number;
  /** The reads made meanwhile, the soak's mix: without them the capacity overstates what the platform sustains. */
  reads: Tally;
}

/**
 * Full speed for a minute, then until the resolver has caught up, with the soak's reads running throughout: the
 * pipeline's capacity is the slower of ingest and the resolver while they share the machine with the reads.
 */
async function measureCapacity(driver: Driver, profileReads: number): Promise<Capacity> {
  const started = Date.now();
  let accepted = 0;
  let errors = 0;
  let measuring = true;
  const reads = new Tally();
  const pending = new Set<Promise<void>>();
  const readsDone = readMix(
    driver,
    profileReads,
    started,
    () => measuring,
    (kind, path) => {
      if (pending.size >= maxReadsInFlight) {
        reads.notSent(kind, `not sent (${maxReadsInFlight} in flight)`);
        return;
      }
      const read = driver.read(path).then((answer) => reads.record(kind, answer));
      pending.add(read);
      void read.finally(() => pending.delete(read));
    },
  );
  const sender = async () => {
    while (Date.now() - started < saturationMs) {
      const { answer, events } = await driver.write();
      if (answer.outcome === 'ok') accepted += events;
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: saturationSenders }, sender));
  const sentMs = Date.now() - started;
  log(`  full speed: ${count(accepted)} events accepted in ${(sentMs / 1000).toFixed(1)} s; waiting for the resolver`);
  const drained = await driver.drain(capacityDrainTimeoutMs);
  measuring = false;
  await readsDone;
  await Promise.all([...pending]);
  if (drained === null) {
    const written = await metricSum(driver.deployment.readUrl(), 'cdp_resolver_events_written_total');
    throw new Error(
      `the resolver had written ${written ?? '?'} of ${driver.accepted} accepted events after ${capacityDrainTimeoutMs / 1000} s`,
    );
  }
  return { ingest: (accepted / sentMs) * 1000, endToEnd: (accepted / (sentMs + drained)) * 1000, errors, reads };
}

interface Sample {
  atMs: number;
  rss: Record<string, number | null>;
  lag: number | null;
  /** What the process that owns the store says its memory holds, when it answered. */
  parts: MemoryParts | null;
}

/**
 * The parts of the store owner's memory shown beside its RSS, each a row of the table and one series of `/metrics`
 * (one sample; a series missing from a page is no sample, not 0): the store's tracked memory, its allocator's live and
 * resident memory, the JS heap, and Node's memory outside it (Buffers and other native objects V8 is told of).
 */
const memoryPartSeries = [
  {
    label: "cdp start's ClickHouse, tracked (`MemoryTracking`)",
    series: 'cdp_clickhouse_memory_bytes{metric="MemoryTracking"}',
  },
  {
    label: "cdp start's ClickHouse allocator, live (jemalloc's `allocated`)",
    series: 'cdp_clickhouse_allocator_bytes{measure="allocated"}',
  },
  {
    label: "cdp start's ClickHouse allocator, resident (jemalloc's `resident`)",
    series: 'cdp_clickhouse_allocator_bytes{measure="resident"}',
  },
  { label: "cdp start's JS heap (total)", series: 'cdp_nodejs_heap_size_total_bytes' },
  {
    label: "cdp start's Node memory outside the heap (Buffers; `external`)",
    series: 'cdp_nodejs_external_memory_bytes',
  },
];

/** The store owner's memory parts (in `memoryPartSeries` order, NaN where missing) and the store memory of each named call running. */
interface MemoryParts {
  values: number[];
  running: Map<string, number>;
}

async function memoryParts(url: string): Promise<MemoryParts | null> {
  const text = await metricsPage(url, requestTimeoutMs);
  if (text === null) return null;
  const lines = text.split('\n');
  const running = new Map<string, number>();
  for (const match of text.matchAll(/^cdp_clickhouse_running_memory_bytes\{query="([^"]+)"\} (\S+)/gm))
    running.set(match[1] as string, Number(match[2]));
  return {
    values: memoryPartSeries.map(({ series }) => {
      const line = lines.find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
    }),
    running,
  };
}

interface SoakResult {
  runtime: Runtime;
  minutes: number;
  rate: number;
  capacity: Capacity | null;
  processes: Array<{ name: string; judged: boolean; memory: MemoryVerdict | null }>;
  /** The store owner's memory in parts over the same quarters, and the calls seen holding the most store memory. */
  parts: {
    /** In `memoryPartSeries` order. */
    verdicts: Array<MemoryVerdict | null>;
    holders: Holder[];
  };
  lagMax: number | null;
  lagEnd: number | null;
  lagBound: number;
  drainMs: number | null;
  halves: [Tally, Tally];
  check: { customers: number; equal: number; lost: number; extra: number; unsure: number; unreadable: number };
}

/** The processes whose memory is sampled, by a name for the table. */
function processes(deployment: Deployment, runtime: Runtime): Array<{ name: string; pid: number; judged: boolean }> {
  const pids = deployment.pids();
  const platform =
    runtime === 'distributed'
      ? [
          { name: 'cdp ingest', pid: pids.ingest as number },
          { name: 'cdp start (resolver, segments, query API)', pid: pids.rest as number },
          { name: 'Kafka broker', pid: deployment.kafka?.instance.pid as number },
        ]
      : [{ name: 'cdp start', pid: pids.start as number }];
  return [
    ...platform.map((entry) => ({ ...entry, judged: true })),
    { name: 'load generator (this script; not judged)', pid: process.pid, judged: false },
  ];
}

async function soak(
  driver: Driver,
  runtime: Runtime,
  minutes: number,
  rate: number,
  profileReads: number,
  allNew: boolean,
): Promise<SoakResult> {
  const durationMs = minutes * 60_000;
  const warmUpMs = Math.min(0.2 * durationMs, 300_000);
  // After the warm-up the customers seen so far come back: memory then says what the platform holds per customer
  // base, not how many new people it was shown.
  const closing = allNew ? undefined : setTimeout(() => driver.stream.closePopulation(), warmUpMs);
  const watched = processes(driver.deployment, runtime);
  const halves: [Tally, Tally] = [new Tally(), new Tally()];
  let window = new Tally();
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  let writesInFlight = 0;
  let readsInFlight = 0;
  const t0 = Date.now();
  const elapsed = () => Date.now() - t0;
  const record = (kind: 'write' | ReadKind, startedAt: number, answer: Answer, events = 0) => {
    halves[startedAt < durationMs / 2 ? 0 : 1].record(kind, answer, events);
    window.record(kind, answer, events);
  };
  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };
  // A request the driver holds back because too many are unanswered counts as an error, without a latency.
  const notSent = (kind: 'write' | ReadKind, cap: number) => {
    const tallies = [halves[elapsed() < durationMs / 2 ? 0 : 1], window];
    for (const tally of tallies) tally.notSent(kind, `not sent (${cap} in flight)`);
  };

  // Paced, not closed-loop: batch n leaves at n × interval whatever the answers to the earlier ones.
  const writes = async () => {
    const intervalMs = (batchSize / rate) * 1000;
    let scheduled = 0;
    while (elapsed() < durationMs) {
      const due = Math.floor(elapsed() / intervalMs) + 1;
      for (; scheduled < due; scheduled += 1) {
        if (writesInFlight >= maxWritesInFlight) {
          notSent('write', maxWritesInFlight);
          continue;
        }
        const startedAt = elapsed();
        writesInFlight += 1;
        track(
          driver.write().then(({ answer, events }) => {
            writesInFlight -= 1;
            record('write', startedAt, answer, events);
          }),
        );
      }
      await sleep(t0 + scheduled * intervalMs - Date.now());
    }
  };

  const reads = () =>
    readMix(
      driver,
      profileReads,
      t0,
      () => elapsed() < durationMs,
      (kind, path) => {
        if (readsInFlight >= maxReadsInFlight) {
          notSent(kind, maxReadsInFlight);
          return;
        }
        const startedAt = elapsed();
        readsInFlight += 1;
        track(
          driver.read(path).then((answer) => {
            readsInFlight -= 1;
            record(kind, startedAt, answer);
          }),
        );
      },
    );

  const sampler = async () => {
    for (let index = 1; index * sampleIntervalMs <= durationMs; index += 1) {
      await sleep(t0 + index * sampleIntervalMs - Date.now());
      const rss: Record<string, number | null> = {};
      for (const { name, pid } of watched) rss[name] = await residentBytes(pid);
      const lag = await resolverLag(driver.deployment.readUrl());
      const parts = await memoryParts(driver.deployment.readUrl());
      samples.push({ atMs: index * sampleIntervalMs, rss, lag, parts });
      const current = window;
      window = new Tally();
      const clock = `${Math.floor(elapsed() / 60_000)}:${String(Math.floor(elapsed() / 1000) % 60).padStart(2, '0')}`;
      const memory = watched
        .map(({ name }) => `${name.split(' (')[0]} ${rss[name] == null ? 'gone' : megabytes(rss[name] as number)}`)
        .join(', ');
      const problems = [...current.statuses].map(([status, n]) => `${status}: ${n}`).join(', ') || 'none';
      log(
        `  [${runtime} ${clock}${index * sampleIntervalMs <= warmUpMs ? ' warm-up' : ''}] ${memory} | lag ${lag ?? '?'} | ` +
          `writes ${current.writes} p50 ${ms(quantile(current.writeMs, 0.5))} p99 ${ms(quantile(current.writeMs, 0.99))} | ` +
          `reads ${current.reads} p50 ${ms(quantile(allReads(current), 0.5))} p99 ${ms(quantile(allReads(current), 0.99))} | ` +
          `not 200: ${problems}`,
      );
    }
  };

  await Promise.all([writes(), reads(), sampler()]);
  clearTimeout(closing);
  await Promise.all([...pending]);

  const afterWarmUp = samples.filter((sample) => sample.atMs > warmUpMs);
  const lags = afterWarmUp.map((sample) => sample.lag).filter((lag): lag is number => lag !== null);
  const lagEnd = samples.at(-1)?.lag ?? null;
  log(`  load over; waiting for the resolver (lag ${lagEnd ?? '?'})`);
  const drainMs = await driver.drain(drainTimeoutMs);
  log(`  checking ${driver.stream.sample.length} sampled profiles`);
  return {
    runtime,
    minutes,
    rate,
    capacity: null,
    processes: watched.map(({ name, judged }) => ({
      name,
      judged,
      memory: memoryVerdict(
        afterWarmUp.map((sample) => sample.rss[name]).filter((value): value is number => typeof value === 'number'),
        memoryTolerancePercent,
      ),
    })),
    parts: partsOf(afterWarmUp),
    lagMax: lags.length > 0 ? Math.max(...lags) : null,
    lagEnd,
    lagBound: Math.round(rate * lagBoundSeconds),
    drainMs,
    halves,
    check: await checkProfiles(driver),
  };
}

/** `work` over `items`, at most `width` at a time, the results in the items' order. */
async function inParallel<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await work(items[index] as T);
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

/**
 * Each sampled customer's profile counts every event accepted for them; events of a batch answered otherwise may or
 * may not count. Read again until they all agree or the bound passes (a profile read is not a transaction).
 */
async function checkProfiles(driver: Driver): Promise<SoakResult['check']> {
  const sample = driver.stream.sample.filter((customer) => customer.accepted + customer.uncertain > 0);
  const until = Date.now() + checkTimeoutMs;
  for (;;) {
    let equal = 0;
    let lost = 0;
    let extra = 0;
    let unsure = 0;
    let unreadable = 0;
    const stored = await inParallel(sample, 4, (customer) => driver.profileEvents(customer.ref));
    sample.forEach((customer, index) => {
      const events = stored[index] ?? null;
      if (events === null) unreadable += 1;
      else if (events === customer.accepted) equal += 1;
      else if (events < customer.accepted) lost += customer.accepted - events;
      else if (events > customer.accepted + customer.uncertain)
        extra += events - customer.accepted - customer.uncertain;
      else unsure += 1;
    });
    const result = { customers: sample.length, equal, lost, extra, unsure, unreadable };
    if ((lost === 0 && extra === 0 && unreadable === 0) || Date.now() > until) return result;
    await sleep(1_000);
  }
}

function verdicts(r: SoakResult): Array<{ criterion: string; pass: boolean; detail: string }> {
  const judged = r.processes.filter((p) => p.judged);
  const [first, last] = r.halves;
  return [
    {
      criterion: `memory flat (each process's mean RSS over the last quarter within ${memoryTolerancePercent} % of the first quarter after the warm-up)`,
      pass: judged.every((p) => p.memory?.flat === true),
      detail: judged
        .map((p) => `${p.name} ${p.memory ? `${p.memory.changePercent.toFixed(1)} %` : 'no samples'}`)
        .join(', '),
    },
    {
      criterion: `lag bounded (after the warm-up at most ${count(r.lagBound)} records, ${lagBoundSeconds} s of load; 0 within ${drainTimeoutMs / 1000} s after it)`,
      pass: r.lagMax !== null && r.lagMax <= r.lagBound && r.drainMs !== null,
      detail: `max ${r.lagMax === null ? '?' : count(r.lagMax)}, back to 0 ${r.drainMs === null ? 'not within the bound' : `in ${(r.drainMs / 1000).toFixed(1)} s`}`,
    },
    {
      criterion: 'no error growth (errors and 503 + Retry-After of the last half at most the first half’s)',
      pass: last.errors <= first.errors && last.refusals <= first.refusals,
      detail: `errors ${first.errors} → ${last.errors}, 503 + Retry-After ${first.refusals} → ${last.refusals}`,
    },
    {
      criterion: 'nothing lost (each sampled profile’s stats.events equals the events accepted for it)',
      pass: r.check.customers > 0 && r.check.lost === 0 && r.check.extra === 0 && r.check.unreadable === 0,
      detail: `${r.check.equal} of ${r.check.customers} equal, ${r.check.unsure} within their unanswered events, ${r.check.unreadable} not readable, ${r.check.lost} events missing, ${r.check.extra} too many`,
    },
  ];
}

/** A call seen holding store memory at the samples: its largest, how often, and its share of the verdict's quarters. */
interface Holder {
  name: string;
  maxBytes: number;
  samples: number;
  /** What it held on average over the first and the last quarter of the samples (0 where it was not running). */
  quarters: MemoryVerdict | null;
}

function partsOf(samples: Sample[]): SoakResult['parts'] {
  const answered = samples.flatMap((sample) => (sample.parts ? [sample.parts] : []));
  const names = new Set(answered.flatMap(({ running }) => [...running.keys()]));
  const holders = [...names].map((name): Holder => {
    const held = answered.map(({ running }) => running.get(name) ?? 0);
    return {
      name,
      maxBytes: Math.max(...held),
      samples: held.filter((bytes) => bytes > 0).length,
      quarters: memoryVerdict(held, memoryTolerancePercent),
    };
  });
  const finite = (values: number[]) => values.filter((value) => Number.isFinite(value));
  return {
    verdicts: memoryPartSeries.map((_, index) =>
      memoryVerdict(finite(answered.map(({ values }) => values[index] as number)), memoryTolerancePercent),
    ),
    holders: holders.sort((a, b) => b.maxBytes - a.maxBytes).slice(0, 5),
  };
}

/** A row of the memory table for a part of the store owner's memory, which the verdict does not judge alone. */
const partRow = (label: string, part: MemoryVerdict | null) =>
  part
    ? `| ${label} | ${megabytes(part.afterWarmUp)} | ${megabytes(part.atEnd)} | ${megabytes(part.max)} | ${part.changePercent >= 0 ? '+' : ''}${part.changePercent.toFixed(1)} % | (not judged) |`
    : `| ${label} | – | – | – | – | (not judged) |`;

function report(r: SoakResult): string {
  const [first, last] = r.halves;
  const lines = [
    `### ${r.runtime}: ${r.minutes} min at ${count(r.rate)} events/s`,
    '',
    r.capacity
      ? `Capacity measured first in the same run: ${saturationMs / 1000} s of \`/v1/batch\` (${batchSize} events, ${saturationSenders} senders) at full speed, ${count(r.capacity.ingest)} events/s accepted by ingest, ${count(r.capacity.endToEnd)} events/s until the resolver had written them all (${r.capacity.errors} errors), with the reads below running meanwhile (${count(r.capacity.reads.reads)} reads, ${r.capacity.reads.readErrors} not 200; p50 profile ${ms(quantile(r.capacity.reads.readMs.profile, 0.5))}, KPIs ${ms(quantile(r.capacity.reads.readMs.kpis, 0.5))}); the load is half of the latter.`
      : 'Rate given with --rate; capacity not measured.',
    '',
    '| process | RSS after warm-up (mean, first quarter) | RSS at end (mean, last quarter) | RSS max | change | flat |',
    '|---|---|---|---|---|---|',
    ...r.processes.map(({ name, memory }) =>
      memory
        ? `| ${name} | ${megabytes(memory.afterWarmUp)} | ${megabytes(memory.atEnd)} | ${megabytes(memory.max)} | ${memory.changePercent >= 0 ? '+' : ''}${memory.changePercent.toFixed(1)} % | ${memory.flat ? 'yes' : 'no'} |`
        : `| ${name} | – | – | – | – | no samples |`,
    ),
    ...memoryPartSeries.map(({ label }, index) => partRow(`↳ ${label}`, r.parts.verdicts[index] ?? null)),
    '',
    r.parts.holders.length > 0
      ? `The calls seen holding the most of the store's memory at a sample (${sampleIntervalMs / 1000} s apart), most first, with what each held on average over the first and the last quarter: ${r.parts.holders
          .map(
            (holder) =>
              `${holder.name} ${megabytes(holder.maxBytes)} (running at ${holder.samples} samples; ${holder.quarters ? `${megabytes(holder.quarters.afterWarmUp)} → ${megabytes(holder.quarters.atEnd)}` : '–'})`,
          )
          .join(', ')}.`
      : 'No call was seen running at a sample.',
    '',
    '| | first half | last half |',
    '|---|---|---|',
    `| events sent | ${count(first.eventsSent)} | ${count(last.eventsSent)} |`,
    `| events accepted | ${count(first.eventsAccepted)} | ${count(last.eventsAccepted)} |`,
    `| errors (not 200, not 503 + Retry-After; reads included) | ${first.errors} | ${last.errors} |`,
    `| 503 + Retry-After | ${first.refusals} | ${last.refusals} |`,
    `| reads (of which not 200) | ${count(first.reads)} (${first.readErrors}) | ${count(last.reads)} (${last.readErrors}) |`,
    `| write p50 / p99 (answers 200) | ${ms(quantile(first.writeMs, 0.5))} / ${ms(quantile(first.writeMs, 0.99))} | ${ms(quantile(last.writeMs, 0.5))} / ${ms(quantile(last.writeMs, 0.99))} |`,
    ...readKinds.map(
      (kind) =>
        `| read ${kind} p50 / p99 | ${ms(quantile(first.readMs[kind], 0.5))} / ${ms(quantile(first.readMs[kind], 0.99))} | ${ms(quantile(last.readMs[kind], 0.5))} / ${ms(quantile(last.readMs[kind], 0.99))} |`,
    ),
    `| resolver lag, max / at end | ${r.lagMax === null ? '?' : count(r.lagMax)} (after warm-up) | ${r.lagEnd === null ? '?' : count(r.lagEnd)} (end of load) |`,
    '',
  ];
  const statuses = new Map<string, number>();
  for (const half of r.halves)
    for (const [status, n] of half.statuses) statuses.set(status, (statuses.get(status) ?? 0) + n);
  if (statuses.size > 0)
    lines.push(`Answers other than 200: ${[...statuses].map(([status, n]) => `${status} × ${n}`).join(', ')}.`, '');
  for (const v of verdicts(r)) lines.push(`- ${v.pass ? 'PASS' : 'FAIL'} ${v.criterion}: ${v.detail}`);
  return lines.join('\n');
}

async function runOne(
  runtime: Runtime,
  minutes: number,
  rate: number | undefined,
  profileReads: number,
  allNew: boolean,
): Promise<SoakResult> {
  log(`${runtime}: starting`);
  const deployment = await deploy(runtime, undefined, { resolverBatchSize: 'default' });
  try {
    const driver = new Driver(deployment, runtime);
    let capacity: Capacity | null = null;
    if (rate === undefined) {
      capacity = await measureCapacity(driver, profileReads);
      rate = capacity.endToEnd / 2;
      log(
        `  capacity ${count(capacity.endToEnd)} events/s end to end (ingest alone ${count(capacity.ingest)}); soaking at ${count(rate)} for ${minutes} min`,
      );
    } else log(`  soaking at ${count(rate)} events/s for ${minutes} min`);
    return { ...(await soak(driver, runtime, minutes, rate, profileReads, allNew)), capacity };
  } catch (error) {
    log(deployment.outputs());
    throw error;
  } finally {
    // The processes log at warn: slow queries, refusals and store outages, each with its time, to explain a verdict.
    try {
      const logs = deployment.saveOutputs(path.join(os.tmpdir(), `cdp-soak-${runtime}-${Date.now()}`));
      log(`  what each process logged: ${logs.join(', ')}`);
    } catch (error) {
      log(`  could not keep what the processes logged: ${String(error)}`);
    }
    await deployment.close();
  }
}

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    runtime: { type: 'string', default: 'both' },
    rate: { type: 'string' },
    'profile-reads': { type: 'string', default: '3' },
    'all-new': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const rate = values.rate === undefined ? undefined : Number(values.rate);
const profileReads = Number(values['profile-reads']);
const allNew = values['all-new'];
const runtimes: Runtime[] | null =
  values.runtime === 'both'
    ? ['distributed', 'embedded']
    : values.runtime === 'distributed' || values.runtime === 'embedded'
      ? [values.runtime]
      : null;
if (values.help) {
  process.stdout.write(`${usage}\n`);
} else if (
  !runtimes ||
  !(minutes > 0) ||
  (rate !== undefined && !(rate > 0)) ||
  !Number.isInteger(profileReads) ||
  profileReads < 0
) {
  process.stderr.write(`${usage}\n`);
  process.exitCode = 2;
} else {
  const results: SoakResult[] = [];
  for (const runtime of runtimes) results.push(await runOne(runtime, minutes, rate, profileReads, allNew));
  process.stdout.write(
    `${results.map(report).join('\n\n')}\n\nMeasured ${new Date().toISOString().slice(0, 10)} with \`pnpm soak ${process.argv.slice(2).join(' ')}\`.\n`,
  );
  process.exitCode = results.every((r) => verdicts(r).every((v) => v.pass)) ? 0 : 1;
}
