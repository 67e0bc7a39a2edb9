// Faults under load: a bounded load generator sends a generated customer base with a known truth while one fault is
// injected at a seeded moment, then the runner waits for the platform to catch up and compares what it stores with
// the truth. Shared by `pnpm test:faults` (every fault) and the short subset CI runs in vitest.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalKafka, type LocalKafka } from '../../infra/kafka/local-kafka';
import { generateCustomers, rng, type GeneratedCustomers, type TruthProfile } from '../generators/customers';
import type { Message } from '../generators/history';
import { kpis, truthMessages } from '../reference/analytics';
import { differences } from '../reference/differences';
import { freePort, metricOf, metricsPage } from '../harness/http';
import { spawnCdp, type CdpProcess } from '../harness/process';

export type Runtime = 'distributed' | 'embedded';

/** Every fault, and the runtime it applies to. */
export const faults = {
  'kill -9 ingest': 'distributed',
  'kill -9 resolver + segments + query-api': 'distributed',
  'kill -9 broker, restart': 'distributed',
  'SIGSTOP broker 35 s': 'distributed',
  'client retries after timeout (distributed)': 'distributed',
  'ClickHouse out of disk 30 s (distributed)': 'distributed',
  'ingest clock 1 h ahead for 20 s': 'distributed',
  'kill -9 cdp start': 'embedded',
  'kill -9 cdp start, torn log tail': 'embedded',
  'client retries after timeout (embedded)': 'embedded',
  'ClickHouse out of disk 30 s (embedded)': 'embedded',
} as const satisfies Record<string, Runtime>;
export type FaultName = keyof typeof faults;

export interface FaultResult {
  fault: FaultName;
  runtime: Runtime;
  /** Requests sent, retries included. */
  requests: number;
  /** Distinct messageIds sent. */
  sent: number;
  /** Distinct messageIds answered 200 at least once. */
  accepted: number;
  /** Customers whose profile differs from the truth in events, orders, revenue or a segment's membership. */
  profilesWrong: number;
  /** Where the KPIs over the whole data set differ from the reference computation's (empty: equal). */
  analyticsDifferences: string[];
  /**
   * The clock fault only: events whose stored time is the client's, those shifted by exactly the ingest host's step
   * (received while its clock was wrong), and the rest.
   */
  timestamps?: { asSent: number; shiftedByStep: number; otherwise: number };
  /** Events the profiles count, over every generated customer. */
  stored: number;
  expected: number;
  lost: number;
  countedTwice: number;
  /** 5xx answers other than 503 with Retry-After. */
  serverErrors: number;
  /** 503 with Retry-After: a refusal the client may retry. */
  refusals: number;
  /** Other 4xx answers (client input is valid, so these are defects too). */
  clientErrors: number;
  /** From the end of the fault until the profiles equal the truth and the resolver's lag is zero; null: not within the bound. */
  recoverMs: number | null;
  /** Restarts of a process whose /readyz stayed 503, as an orchestrator would do. */
  restarts: number;
}

export interface RunOptions {
  customers?: number;
  seed?: number;
  /** How long to wait for the profiles to equal the truth after the fault. */
  recoverTimeoutMs?: number;
  log?: (line: string) => void;
  /** A running broker to use (its own topics) for a fault that leaves the broker alone; else a broker of the run's own. */
  brokers?: string;
}

const batchSize = 25;
const senders = 2;
// Longer than ingest's 10 s wait for the log, so a stalled log shows as its 503 rather than as a client timeout.
const requestTimeoutMs = 15_000;
/** The retrying client's timeout: short enough that many requests are abandoned while the server still works on them. */
const impatientTimeoutMs = 15;
const sendDeadlineMs = 240_000;
/** How long the resolving process may answer /readyz with 503 after a fault before it is restarted. */
const unreadyRestartMs = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The processes of one runtime, started by name so a fault can kill one and start it again on the same port. */
export interface Deployment {
  /** Where the load goes. */
  ingestUrl(): string;
  /** Where profiles and the resolver's metrics are read. */
  readUrl(): string;
  env: Record<string, string>;
  kill(name: string): Promise<void>;
  start(name: string): Promise<void>;
  kafka?: { instance: LocalKafka; dataDir: string };
  /** The last lines each running process printed, to say why a run did not recover. */
  outputs(): string;
  /** Writes all each running process printed to `<dir>/<name>.log`; returns the files written. */
  saveOutputs(dir: string): string[];
  /** The pid of each running process by name (the broker's is on `kafka`). */
  pids(): Record<string, number>;
  dataDir: string;
  /** The mounted ClickHouse directory a fault can fill, when deployed with one. */
  clickhouseVolume: string | null;
  close(): Promise<void>;
}

const keys = (prefix: string) => ({
  CDP_WRITE_KEY: `wk_faults_${prefix}_0123456789`,
  CDP_READ_KEY: `rk_faults_${prefix}_0123456789`,
  CDP_ADMIN_KEY: `ak_faults_${prefix}_0123456789`,
});

export interface DeployExtras {
  /** A tmpfs of this many MiB mounted as the ClickHouse directory of the process that writes it (root only). */
  clickhouseVolumeMb?: number;
  /** Ingest's clock through libfaketime, its offset read at every call from the file `clockFile` names. */
  ingestClock?: boolean;
  /**
   * The resolver's batch size: 100 unless given, so a fault lands in the middle of a batch's writes; `'default'` runs
   * the platform's own (a soak measures the platform as shipped).
   */
  resolverBatchSize?: number | 'default';
}

/** Debian's libfaketime (`apt-get install faketime`), the multi-threaded build. */
export function libfaketime(): string {
  const found = ['x86_64-linux-gnu', 'aarch64-linux-gnu', '.']
    .map((triplet) => path.join('/usr/lib', triplet, 'faketime/libfaketimeMT.so.1'))
    .find((candidate) => existsSync(candidate));
  if (!found) throw new Error('libfaketime is not installed: apt-get install faketime');
  return found;
}

export async function deploy(runtime: Runtime, brokers?: string, extras: DeployExtras = {}): Promise<Deployment> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cdp-faults-'));
  const base: Record<string, string> = {
    ...keys(runtime),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    CDP_TOPIC_PARTITIONS: '3',
    CDP_CLICKHOUSE_REQUIRE_NAMES: 'true',
  };
  if (extras.resolverBatchSize !== 'default') base.CDP_RESOLVER_BATCH_SIZE = String(extras.resolverBatchSize ?? 100);
  let kafka: Deployment['kafka'];
  if (runtime === 'distributed' && brokers) {
    base.KAFKA_BROKERS = brokers;
    base.CDP_TOPIC_PREFIX = `${path.basename(root)}.`;
  } else if (runtime === 'distributed') {
    const kafkaDir = path.join(root, 'kafka');
    kafka = { instance: await startLocalKafka({ dataDir: kafkaDir }), dataDir: kafkaDir };
    base.KAFKA_BROKERS = kafka.instance.brokers;
  }
  // chDB takes one data directory per process and locks it, so the processes that read and write ClickHouse run
  // together (`cdp start`); ingest, which only reads its keys from ClickHouse, runs alone on a directory of its own.
  const layout: Record<string, { args: string[]; dataDir: string }> =
    runtime === 'distributed'
      ? {
          ingest: { args: ['ingest'], dataDir: path.join(root, 'ingest') },
          rest: { args: ['start'], dataDir: path.join(root, 'rest') },
        }
      : { start: { args: ['start'], dataDir: path.join(root, 'start') } };
  const ports = Object.fromEntries(
    await Promise.all(Object.keys(layout).map(async (name) => [name, await freePort()])),
  );
  const writer = runtime === 'distributed' ? 'rest' : 'start';
  const volume = extras.clickhouseVolumeMb
    ? path.join((layout[writer] as { dataDir: string }).dataDir, 'clickhouse')
    : null;
  if (volume) {
    mkdirSync(volume, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${extras.clickhouseVolumeMb}m`, 'tmpfs', volume]);
  }
  const ingest = runtime === 'distributed' ? 'ingest' : 'start';
  const clock: Record<string, string> = extras.ingestClock
    ? {
        LD_PRELOAD: libfaketime(),
        FAKETIME_TIMESTAMP_FILE: path.join(root, 'ingest-clock'),
        FAKETIME_NO_CACHE: '1',
        // A stepped wall clock leaves the monotonic clock alone, as an NTP step does.
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      }
    : {};
  if (extras.ingestClock) writeFileSync(path.join(root, 'ingest-clock'), '+0');
  const running = new Map<string, CdpProcess>();
  const start = async (name: string) => {
    const { args, dataDir } = layout[name] as { args: string[]; dataDir: string };
    const env = { ...base, ...(name === ingest ? clock : {}), CDP_DATA_DIR: dataDir, PORT: String(ports[name]) };
    running.set(name, await spawnCdp(args, env, 120_000));
  };
  const kill = async (name: string) => {
    const cdp = running.get(name);
    if (!cdp) return;
    cdp.child.kill('SIGKILL');
    await cdp.exited;
    running.delete(name);
  };
  for (const name of Object.keys(layout)) await start(name);
  const urlOf = (name: string) => `http://127.0.0.1:${ports[name]}`;
  const deployment: Deployment = {
    ingestUrl: () => urlOf(runtime === 'distributed' ? 'ingest' : 'start'),
    readUrl: () => urlOf(runtime === 'distributed' ? 'rest' : 'start'),
    env: base,
    kill,
    start,
    dataDir: (layout.start ?? layout.rest)?.dataDir as string,
    clickhouseVolume: volume,
    pids: () => Object.fromEntries([...running].map(([name, cdp]) => [name, cdp.child.pid as number])),
    outputs: () =>
      [...running].map(([name, cdp]) => `--- ${name}\n${cdp.output().split('\n').slice(-12).join('\n')}`).join('\n'),
    saveOutputs(dir) {
      mkdirSync(dir, { recursive: true });
      return [...running].map(([name, cdp]) => {
        const file = path.join(dir, `${name}.log`);
        writeFileSync(file, cdp.output());
        return file;
      });
    },
    async close() {
      for (const name of [...running.keys()]) await kill(name);
      if (deployment.kafka) await deployment.kafka.instance.stop().catch(() => undefined);
      if (volume) execFileSync('umount', ['--lazy', volume]);
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (kafka) deployment.kafka = kafka;
  return deployment;
}

interface Tally {
  requests: number;
  acceptedIds: Set<string>;
  sentIds: Set<string>;
  serverErrors: number;
  refusals: number;
  clientErrors: number;
  statuses: Map<string, number>;
}

/**
 * Sends every batch until it is answered 200 (or the deadline passes), with the same messageIds each time. The
 * impatient client abandons each request after a few ms and sends it again, and sends every batch once more after
 * its 200.
 */
async function sendAll(
  deployment: Deployment,
  data: GeneratedCustomers,
  impatient: boolean,
  onProgress: (sentBatches: number) => void,
  withSentAt = false,
): Promise<Tally> {
  const tally: Tally = {
    requests: 0,
    acceptedIds: new Set(),
    sentIds: new Set(),
    serverErrors: 0,
    refusals: 0,
    clientErrors: 0,
    statuses: new Map(),
  };
  const batches: Array<Array<Record<string, unknown>>> = [];
  for (let offset = 0; offset < data.messages.length; offset += batchSize)
    batches.push(data.messages.slice(offset, offset + batchSize));
  const deadline = Date.now() + sendDeadlineMs;
  let next = 0;
  let done = 0;
  const post = async (batch: Array<Record<string, unknown>>, timeoutMs: number): Promise<number | null> => {
    tally.requests += 1;
    for (const message of batch) tally.sentIds.add(message.messageId as string);
    try {
      const response = await fetch(`${deployment.ingestUrl()}/v1/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${deployment.env.CDP_WRITE_KEY}:`).toString('base64')}`,
        },
        // An SDK's sentAt: the client's clock at each attempt, for ingest's skew correction.
        body: JSON.stringify(withSentAt ? { batch, sentAt: new Date().toISOString() } : { batch }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      const status = response.status;
      tally.statuses.set(String(status), (tally.statuses.get(String(status)) ?? 0) + 1);
      if (status === 200) for (const message of batch) tally.acceptedIds.add(message.messageId as string);
      else if (status === 503 && response.headers.get('retry-after')) tally.refusals += 1;
      else if (status >= 500) tally.serverErrors += 1;
      else if (status >= 400) tally.clientErrors += 1;
      return status;
    } catch (error) {
      const name = (error as Error).name === 'TimeoutError' ? 'timeout' : 'network error';
      tally.statuses.set(name, (tally.statuses.get(name) ?? 0) + 1);
      return null;
    }
  };
  const sender = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as Array<Record<string, unknown>>;
      let attempt = 0;
      for (;;) {
        const status = await post(batch, impatient && attempt < 2 ? impatientTimeoutMs : requestTimeoutMs);
        attempt += 1;
        if (status === 200 || (status !== null && status >= 400 && status < 500) || Date.now() > deadline) break;
        await sleep(Math.min(100 * attempt, 1_000));
      }
      if (impatient) await post(batch, requestTimeoutMs);
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  return tally;
}

/** What a customer's profile says now, as far as the truth can check it. */
interface Observed {
  events: number;
  orders: number;
  revenue: number;
  /** In the run's own segment. */
  member: boolean;
}

async function readJson<T>(url: string, key: string): Promise<T | null> {
  const response = await fetch(url, {
    // An answer computed now: the analytics are compared with the truth after each fault, minutes apart or not.
    headers: { authorization: `Bearer ${key}`, 'cache-control': 'no-cache' },
    signal: AbortSignal.timeout(requestTimeoutMs),
  }).catch(() => null);
  if (response?.status !== 200) return null;
  return (await response.json()) as T;
}

async function readProfile(url: string, readKey: string, ref: string, segmentId: string): Promise<Observed | null> {
  const body = await readJson<{ stats?: { events: number; orders: number; revenue: number }; segments?: string[] }>(
    `${url}/v1/profiles/${encodeURIComponent(ref)}`,
    readKey,
  );
  if (!body?.stats) return null;
  return { ...body.stats, member: body.segments?.includes(segmentId) ?? false };
}

export async function resolverLag(url: string): Promise<number | null> {
  const text = await metricsPage(url, requestTimeoutMs);
  return text === null ? null : metricOf(text, 'cdp_resolver_lag_records');
}

/** Each customer's profile now (nothing counted when it has none yet). */
async function observe(deployment: Deployment, data: GeneratedCustomers, segmentId: string): Promise<Observed[]> {
  const observed: Observed[] = [];
  for (const truth of data.truth) {
    const ref = truth.identifiers[0] as string;
    const profile = await readProfile(deployment.readUrl(), deployment.env.CDP_READ_KEY as string, ref, segmentId);
    observed.push(profile ?? { events: 0, orders: 0, revenue: 0, member: false });
  }
  return observed;
}

/** The run's own segment: customers with two orders or more, which the truth answers on its own. */
const repeatBuyers = { stat: 'orders', gte: 2 } as const;

const agrees = (observed: Observed, truth: GeneratedCustomers['truth'][number]) =>
  observed.events === truth.events &&
  observed.orders === truth.orders &&
  Math.abs(observed.revenue - truth.revenue) < 1e-6 &&
  observed.member === truth.orders >= repeatBuyers.gte;

async function createSegment(deployment: Deployment): Promise<string> {
  const response = await fetch(`${deployment.readUrl()}/v1/segments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${deployment.env.CDP_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Repeat buyers', rule: repeatBuyers }),
  });
  if (response.status !== 201) throw new Error(`creating the segment: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** The window every generated event falls in. */
const everything = { from: '2024-12-01', to: '2025-07-01', tz: 'UTC' };

/**
 * The KPIs over the whole data set against the reference's recomputation from the messages; durations are left out
 * where the stored times carry each request's latency (messages sent with a sentAt).
 */
async function analyticsDifferences(deployment: Deployment, data: GeneratedCustomers, exactTimes: boolean) {
  const answer = await readJson<{ totals: Record<string, unknown> }>(
    `${deployment.readUrl()}/v1/analytics/kpis?${new URLSearchParams(everything)}`,
    deployment.env.CDP_READ_KEY as string,
  );
  if (!answer) return ['the KPIs did not answer 200'];
  const messages = data.messages as Message[];
  const expected: Record<string, unknown> = {
    ...kpis(truthMessages({ messages, customerOf: data.customerOf }), everything).totals,
  };
  const actual = { ...answer.totals };
  if (!exactTimes)
    for (const duration of ['medianFirstResponseMinutes', 'medianResolutionHours']) {
      delete expected[duration];
      delete actual[duration];
    }
  return differences(actual, expected);
}

/** Each stored event's time against the time its client gave: as sent (within the request's latency), or off by the step. */
async function timestampsAgainstSent(deployment: Deployment, data: GeneratedCustomers, stepMs: number) {
  const sentAt = new Map(
    data.messages.map((message) => [message.messageId as string, Date.parse(message.timestamp as string)]),
  );
  const tally = { asSent: 0, shiftedByStep: 0, otherwise: 0 };
  const latencyMs = requestTimeoutMs;
  for (const truth of data.truth) {
    let cursor: string | null = null;
    do {
      const query: string = new URLSearchParams({ limit: '1000', ...(cursor ? { cursor } : {}) }).toString();
      const page: { events: Array<{ messageId: string; timestamp: string }>; nextCursor: string | null } | null =
        await readJson(
          `${deployment.readUrl()}/v1/profiles/${encodeURIComponent(truth.identifiers[0] as string)}/events?${query}`,
          deployment.env.CDP_READ_KEY as string,
        );
      for (const event of page?.events ?? []) {
        const late = Date.parse(event.timestamp) - (sentAt.get(event.messageId) ?? Number.NaN);
        if (late >= 0 && late < latencyMs) tally.asSent += 1;
        else if (late >= stepMs && late < stepMs + latencyMs) tally.shiftedByStep += 1;
        else tally.otherwise += 1;
      }
      cursor = page?.nextCursor ?? null;
    } while (cursor);
  }
  return tally;
}

/** Fills a mounted directory to its last byte; returns the file to delete to free it. */
function fill(directory: string): string {
  const file = path.join(directory, 'fault-filler');
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 4096, 1])
      try {
        for (;;) writeSync(fd, Buffer.alloc(size));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
  } finally {
    closeSync(fd);
  }
  return file;
}

/** The embedded log's newest segment file of the events topic: where the last accepted event was appended. */
function newestSegment(dir: string): string {
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory() && entry.name !== 'clickhouse') walk(full);
      else if (entry.isFile() && entry.name.endsWith('.log') && full.includes('events')) files.push(full);
    }
  };
  walk(dir);
  const newest = files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) throw new Error(`no segment of the events topic under ${dir}`);
  return newest;
}

/** Injects the fault; resolves when it is over (the killed process or broker answers again). */
async function inject(fault: FaultName, deployment: Deployment, log: (line: string) => void): Promise<void> {
  switch (fault) {
    case 'kill -9 ingest':
      await deployment.kill('ingest');
      await deployment.start('ingest');
      return;
    case 'kill -9 resolver + segments + query-api':
      await deployment.kill('rest');
      await deployment.start('rest');
      return;
    case 'kill -9 cdp start':
      await deployment.kill('start');
      await deployment.start('start');
      return;
    case 'kill -9 cdp start, torn log tail': {
      await deployment.kill('start');
      // A write the kill cut short: a frame header that promises more bytes than follow. It was never acknowledged.
      const segment = newestSegment(deployment.dataDir);
      appendFileSync(segment, Buffer.from('\x00\x00\x01\x00torn-write-cut-short-by-kill'));
      log(`  tore the tail of ${path.relative(deployment.dataDir, segment)}`);
      await deployment.start('start');
      return;
    }
    case 'kill -9 broker, restart': {
      const kafka = deployment.kafka as NonNullable<Deployment['kafka']>;
      process.kill(kafka.instance.pid, 'SIGKILL');
      await kafka.instance.stop().catch(() => undefined);
      await sleep(2_000);
      kafka.instance = await startLocalKafka({ dataDir: kafka.dataDir, ports: kafka.instance.ports });
      return;
    }
    case 'SIGSTOP broker 35 s': {
      const kafka = deployment.kafka as NonNullable<Deployment['kafka']>;
      process.kill(kafka.instance.pid, 'SIGSTOP');
      await sleep(35_000);
      process.kill(kafka.instance.pid, 'SIGCONT');
      return;
    }
    case 'ClickHouse out of disk 30 s (distributed)':
    case 'ClickHouse out of disk 30 s (embedded)': {
      const filler = fill(deployment.clickhouseVolume as string);
      log(`  ClickHouse's directory is full`);
      await sleep(30_000);
      unlinkSync(filler);
      return;
    }
    case 'ingest clock 1 h ahead for 20 s':
      writeFileSync(clockFile(deployment), `+${clockStepMs / 1000}`);
      await sleep(20_000);
      writeFileSync(clockFile(deployment), '+0');
      return;
    case 'client retries after timeout (distributed)':
    case 'client retries after timeout (embedded)':
      return;
  }
}

const clockStepMs = 3_600_000;
/** The offset of ingest's clock: "+0", or seconds ahead as "+3600". */
const clockFile = (deployment: Deployment) => path.join(path.dirname(deployment.dataDir), 'ingest-clock');

export async function runFault(fault: FaultName, options: RunOptions = {}): Promise<FaultResult> {
  const log = options.log ?? (() => undefined);
  const runtime: Runtime = faults[fault];
  const seed = options.seed ?? 7;
  const data = generateCustomers({
    customers: options.customers ?? 60,
    seed,
    prefix: `faults-${seed}-${Object.keys(faults).indexOf(fault)}-${Date.now().toString(36)}`,
  });
  if (options.brokers && fault.includes('broker')) throw new Error(`${fault} needs a broker of its own`);
  const clockFault = fault.startsWith('ingest clock');
  const deployment = await deploy(runtime, options.brokers, {
    ...(fault.startsWith('ClickHouse out of disk') ? { clickhouseVolumeMb: 512 } : {}),
    ...(clockFault ? { ingestClock: true } : {}),
  });
  try {
    const segmentId = await createSegment(deployment);
    const impatient = fault.startsWith('client retries');
    const batches = Math.ceil(data.messages.length / batchSize);
    // The fault lands at a seeded moment between a fifth and three fifths of the load.
    const at = Math.floor(batches * (0.2 + 0.4 * rng(seed + fault.length)()));
    let faultEnded = Promise.resolve(Date.now());
    let triggered = false;
    const tally = await Promise.all([
      sendAll(
        deployment,
        data,
        impatient,
        (sent) => {
          if (sent < at || triggered) return;
          triggered = true;
          log(`  ${fault} after ${sent}/${batches} batches`);
          faultEnded = inject(fault, deployment, log).then(() => Date.now());
        },
        clockFault,
      ),
    ]).then(([result]) => result);
    const endedAt = await faultEnded;

    // Recovered: every customer's profile says what the truth says (events, orders, revenue, membership of the
    // run's segment) and the resolver has nothing left to read.
    const recoverTimeoutMs = options.recoverTimeoutMs ?? 180_000;
    let observed = await observe(deployment, data, segmentId);
    let recoverMs: number | null = null;
    let restarts = 0;
    let notReadySince: number | null = null;
    const until = Date.now() + recoverTimeoutMs;
    for (;;) {
      // An orchestrator restarts a process that stays unready (a consumer kafkajs gave up on stays stopped).
      const ready = await fetch(`${deployment.readUrl()}/readyz`, { signal: AbortSignal.timeout(requestTimeoutMs) })
        .then((response) => response.status === 200)
        .catch(() => false);
      notReadySince = ready ? null : (notReadySince ?? Date.now());
      if (notReadySince !== null && Date.now() - notReadySince > unreadyRestartMs) {
        const readiness = await fetch(`${deployment.readUrl()}/readyz`)
          .then((response) => response.text())
          .catch((error: unknown) => String(error));
        log(`  unready for ${unreadyRestartMs / 1000} s, restarting it; /readyz: ${readiness}`);
        const name = runtime === 'distributed' ? 'rest' : 'start';
        await deployment.kill(name);
        await deployment.start(name);
        restarts += 1;
        notReadySince = null;
      }
      const equal = observed.every((profile, index) => agrees(profile, data.truth[index] as TruthProfile));
      if (equal && (await resolverLag(deployment.readUrl())) === 0) {
        recoverMs = Date.now() - endedAt;
        break;
      }
      if (Date.now() > until) {
        const readiness = await fetch(`${deployment.readUrl()}/readyz`)
          .then((response) => response.text())
          .catch((error: unknown) => String(error));
        const wrong = observed
          .map((profile, index) => ({ profile, truth: data.truth[index] as TruthProfile }))
          .filter(({ profile, truth }) => !agrees(profile, truth))
          .slice(0, 5)
          .map(
            ({ profile, truth }) => `${truth.identifiers[0]}: ${JSON.stringify(profile)} ≠ ${JSON.stringify(truth)}`,
          );
        const first = `${deployment.readUrl()}/v1/profiles/${encodeURIComponent(data.truth[0]?.identifiers[0] as string)}`;
        const answer = await fetch(first, { headers: { authorization: `Bearer ${deployment.env.CDP_READ_KEY}` } })
          .then(async (response) => `${response.status} ${(await response.text()).slice(0, 500)}`)
          .catch((error: unknown) => String(error));
        log(
          `  not recovered; /readyz: ${readiness}\n  first profile: ${answer}\n  ${wrong.join('\n  ')}\n${deployment.outputs()}`,
        );
        break;
      }
      await sleep(500);
      observed = await observe(deployment, data, segmentId);
    }
    const counts = observed.map((profile) => profile.events);
    const expected = data.truth.reduce((sum, truth) => sum + truth.events, 0);
    let lost = 0;
    let countedTwice = 0;
    counts.forEach((count, index) => {
      const truth = data.truth[index]?.events ?? 0;
      if (count < truth) lost += truth - count;
      else countedTwice += count - truth;
    });
    log(`  statuses: ${JSON.stringify(Object.fromEntries(tally.statuses))}`);
    const analytics = await analyticsDifferences(deployment, data, !clockFault);
    if (analytics.length > 0) log(`  KPIs differ from the reference: ${analytics.join('; ')}`);
    const timestamps = clockFault ? await timestampsAgainstSent(deployment, data, clockStepMs) : undefined;
    if (timestamps) log(`  stored times: ${JSON.stringify(timestamps)}`);
    return {
      fault,
      runtime,
      requests: tally.requests,
      sent: tally.sentIds.size,
      accepted: tally.acceptedIds.size,
      stored: counts.reduce((sum, count) => sum + count, 0),
      expected,
      lost,
      countedTwice,
      serverErrors: tally.serverErrors,
      refusals: tally.refusals,
      clientErrors: tally.clientErrors,
      recoverMs,
      restarts,
      profilesWrong: observed.filter((profile, index) => !agrees(profile, data.truth[index] as TruthProfile)).length,
      analyticsDifferences: analytics,
      ...(timestamps ? { timestamps } : {}),
    };
  } finally {
    await deployment.close();
  }
}

/** The results as a Markdown table. */
export function table(results: FaultResult[]): string {
  const lines = [
    '| fault | runtime | requests | messageIds sent | accepted | events expected | stored | lost | counted twice | profiles ≠ truth | KPIs ≠ reference | 503 + Retry-After | other 4xx/5xx | restarts | time to recover |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results)
    lines.push(
      `| ${r.fault} | ${r.runtime} | ${r.requests} | ${r.sent} | ${r.accepted} | ${r.expected} | ${r.stored} | ${r.lost} | ${r.countedTwice} | ${r.profilesWrong} | ${r.analyticsDifferences.length} | ${r.refusals} | ${r.clientErrors + r.serverErrors} | ${r.restarts} | ${r.recoverMs === null ? 'not within the bound' : `${(r.recoverMs / 1000).toFixed(1)} s`} |`,
    );
  return lines.join('\n');
}
