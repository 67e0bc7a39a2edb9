// `pnpm bench ingest`: requests/s and latency of the tracking API on both runtimes, against a Fastify hello-world.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon, { type Result } from 'autocannon';
import Fastify from 'fastify';
import { createLogger, loadConfig } from '@cdp/runtime';
import { encodeEvent, parseMessage, type EventRecord } from '@cdp/schemas';
import { startPlatform } from '@cdp/cdp/platform';
import { startLocalKafka } from '../../infra/kafka/local-kafka';
import { basicAuth } from '../harness/http';
import { trackBatchBody } from './bodies';
import { cpuOf } from './proc';
// The steps of one event, timed in this process (the service exports only its routes).
import { enrich } from '../../services/ingest/src/enrich';
import { inspectJson } from '../../services/ingest/src/inspect';
import { toEvent } from '../../services/ingest/src/pipeline';

type Target = 'hello' | 'embedded' | 'kafka';
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const batchSize = 100;

/** Child mode: one server per process, so the load generator does not share its event loop. */
async function serve(target: Target): Promise<void> {
  let url: string;
  let writeKey = '';
  let close: () => Promise<void>;
  if (target === 'hello') {
    const app = Fastify();
    app.get('/', async () => ({ hello: 'world' }));
    // The same hello-world, but reading the JSON body a track request carries: the cost of HTTP plus parsing alone.
    app.post('/', async () => ({ success: true }));
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    close = () => app.close();
  } else {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-'));
    writeKey = `wk_bench_key_${process.pid}_${Date.now()}`;
    const config = loadConfig({
      CDP_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      CDP_WRITE_KEY: writeKey,
      CDP_TOPIC_PREFIX: `bench${process.pid}.`,
      // The limiter stays in the path (its cost is measured) but never trips.
      CDP_RATE_LIMIT_PER_SECOND: '1000000000',
      ...(target === 'kafka' ? { KAFKA_BROKERS: process.env.KAFKA_BROKERS } : {}),
    });
    // Ingest alone, as `cdp ingest` runs it: the resolver is another process in production.
    const platform = await startPlatform(config, createLogger({ level: 'warn', name: 'bench' }), ['ingest']);
    url = platform.url as string;
    close = async () => {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  process.stdout.write(`${JSON.stringify({ url, writeKey })}\n`);
  // The parent closes stdin when it is done: answer with the resident memory, then stop.
  process.stdin.resume();
  process.stdin.on('end', () => {
    const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
    process.stdout.write(`${JSON.stringify({ rssMb })}\n`);
    void close().then(() => process.exit(0));
  });
}

interface Server {
  url: string;
  writeKey: string;
  /** CPU seconds the server process has used so far (every thread). */
  cpu(): number;
  stop(): Promise<number>;
}

async function startServer(target: Target, env: Record<string, string> = {}): Promise<Server> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', 'bench-profiles'] : []),
      new URL(import.meta.url).pathname,
      '--serve',
      target,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  // The server's own log lines share stdout: wait for the line that carries the wanted field.
  const lineWith = async <T>(field: string): Promise<T | null> => {
    for (;;) {
      const line = await lines.next();
      if (line.done) return null;
      try {
        const parsed = JSON.parse(line.value) as Record<string, unknown>;
        if (field in parsed) return parsed as T;
      } catch {
        // not ours
      }
    }
  };
  const started = await lineWith<{ url: string; writeKey: string }>('url');
  if (!started) throw new Error(`the ${target} server did not start`);
  return {
    url: started.url,
    writeKey: started.writeKey,
    cpu: () => cpuOf(child.pid as number),
    async stop() {
      child.stdin!.end();
      const last = await lineWith<{ rssMb: number }>('rssMb');
      await new Promise((resolve) => child.once('exit', resolve));
      return last ? last.rssMb : Number.NaN;
    },
  };
}

function load(options: autocannon.Options): Promise<Result> {
  return autocannon({ connections, duration: seconds, ...options });
}

/** A load against the server, and the server's CPU microseconds per request it answered 2xx. */
async function loadTimed(server: Server, options: autocannon.Options): Promise<{ result: Result; cpuUs: number }> {
  const before = server.cpu();
  const result = await load(options);
  return { result, cpuUs: ((server.cpu() - before) * 1e6) / Math.max(1, result['2xx']) };
}

const trackBody = (i: number) =>
  JSON.stringify({
    userId: `user-${i % 1000}`,
    event: 'Product Viewed',
    properties: { sku: `sku-${i}`, price: 19.99, currency: 'EUR' },
    context: { library: { name: 'bench', version: '1.0.0' } },
  });
const batchBody = trackBatchBody(batchSize);

interface Row {
  runtime: string;
  trackRps: number;
  trackP50: number;
  trackP99: number;
  /** The server's CPU per track request, µs: steadier than a rate on a shared machine. */
  trackCpuUs: number;
  batchEventsPerSecond: number;
  /** The server's CPU per event of the batches, µs. */
  batchCpuUs: number;
  halfLoadP99: number;
  rssMb: number;
  errors: number;
}

async function measure(target: 'embedded' | 'kafka', env: Record<string, string>): Promise<Row> {
  const server = await startServer(target, env);
  const headers = { 'content-type': 'application/json', authorization: basicAuth(server.writeKey) };
  const { result: track, cpuUs: trackCpuUs } = await loadTimed(server, {
    url: `${server.url}/v1/track`,
    method: 'POST',
    headers,
    body: trackBody(1),
  });
  const { result: batch, cpuUs: batchCpuUs } = await loadTimed(server, {
    url: `${server.url}/v1/batch`,
    method: 'POST',
    headers,
    body: batchBody,
    connections: 10,
  });
  const half = await load({
    url: `${server.url}/v1/track`,
    method: 'POST',
    headers,
    body: trackBody(2),
    overallRate: Math.max(1, Math.floor(track.requests.average / 2)),
  });
  const rssMb = await server.stop();
  const errors = [track, batch, half].reduce((sum, result) => sum + result.errors + result.non2xx, 0);
  return {
    runtime: target,
    trackRps: Math.round(track.requests.average),
    trackP50: track.latency.p50,
    trackP99: track.latency.p99,
    trackCpuUs: Math.round(trackCpuUs),
    batchEventsPerSecond: Math.round(batch.requests.average * batchSize),
    batchCpuUs: Math.round((batchCpuUs / batchSize) * 10) / 10,
    halfLoadP99: half.latency.p99,
    rssMb,
    errors,
  };
}

/** Microseconds per call of `step`: the fastest of five rounds of `rounds` calls, after a warm-up. */
function perCall(step: (index: number) => unknown, rounds = 40_000): number {
  for (let index = 0; index < rounds; index += 1) step(index);
  let fastest = Infinity;
  for (let round = 0; round < 5; round += 1) {
    const started = performance.now();
    for (let index = 0; index < rounds; index += 1) step(index);
    fastest = Math.min(fastest, performance.now() - started);
  }
  return (fastest * 1000) / rounds;
}

/**
 * Each step of one event of the batch body in this process, without HTTP or the log: what a batch pays per event
 * whatever the machine's other load, beside JSON.parse of the event's text (what any JSON API pays for it).
 */
function eventSteps(): Array<{ step: string; us: number }> {
  const text = JSON.stringify((JSON.parse(batchBody) as { batch: unknown[] }).batch[1]);
  const item: unknown = JSON.parse(text);
  const request = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36' };
  const receivedAt = Date.now();
  const parsed = parseMessage(item);
  if (!parsed.ok) throw new Error(`the bench's event is not valid: ${JSON.stringify(parsed.issues)}`);
  const enriched = (): EventRecord =>
    enrich({ message: parsed.message, receivedAt, source: 'bench', request, batchSentAt: null, batchContext: null });
  const event = enriched();
  return [
    { step: 'JSON.parse of the event (baseline)', us: perCall(() => JSON.parse(text)) },
    { step: 'inspect (depth, keys)', us: perCall(() => inspectJson(item)) },
    { step: 'validate (zod)', us: perCall(() => parseMessage(item)) },
    { step: 'enrich', us: perCall(enriched) },
    { step: 'Avro encode', us: perCall(() => encodeEvent(event)) },
    {
      step: 'inspect → validate → enrich → time bounds (toEvent)',
      us: perCall((index) => toEvent({ item, index, receivedAt, source: 'bench', request, bodyBytes: text.length })),
    },
  ];
}

async function main(): Promise<void> {
  const steps = eventSteps();
  const hello = await startServer('hello');
  const { result: baseline, cpuUs: helloCpuUs } = await loadTimed(hello, { url: hello.url });
  const { result: postBaseline, cpuUs: helloPostCpuUs } = await loadTimed(hello, {
    url: hello.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: trackBody(0),
  });
  const helloRss = await hello.stop();
  const rows = [await measure('embedded', {})];
  const kafka = process.env.KAFKA_BROKERS
    ? { brokers: process.env.KAFKA_BROKERS, stop: async () => undefined }
    : await startLocalKafka();
  try {
    rows.push(await measure('kafka', { KAFKA_BROKERS: kafka.brokers }));
  } finally {
    await kafka.stop();
  }

  const helloRps = Math.round(baseline.requests.average);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `\ningest benchmark: ${seconds} s per measurement, ${connections} connections (batch: 10), ${os.cpus().length} cores, Node ${process.version}`,
  );
  out(
    `hello-world Fastify baseline (GET): ${helloRps} req/s, p50 ${baseline.latency.p50} ms, p99 ${baseline.latency.p99} ms, CPU ${Math.round(helloCpuUs)} µs/req, RSS ${helloRss} MB`,
  );
  out(
    `hello-world with a track body (POST, JSON parsed): ${Math.round(postBaseline.requests.average)} req/s, p99 ${postBaseline.latency.p99} ms, CPU ${Math.round(helloPostCpuUs)} µs/req\n`,
  );
  out(
    '| runtime | track req/s | track vs hello | track p50 ms | track p99 ms | track CPU µs/req | batch(100) events/s | batch CPU µs/event | p99 at half load ms | RSS MB | errors |',
  );
  out('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    out(
      `| ${row.runtime} | ${row.trackRps} | ${Math.round((row.trackRps / helloRps) * 100)}% | ${row.trackP50} | ${row.trackP99} | ${row.trackCpuUs} | ${row.batchEventsPerSecond} | ${row.batchCpuUs} | ${row.halfLoadP99} | ${row.rssMb} | ${row.errors} |`,
    );
  }
  out('\n| one event of the batch, in process | µs |');
  out('|---|---|');
  for (const { step, us } of steps) out(`| ${step} | ${us.toFixed(2)} |`);
  out(
    '\ntargets: track >= 50% of hello-world; batch >= 100k events/s embedded, >= 50k into Kafka; p99 at half load < 50 ms',
  );
}

if (process.argv[2] === '--serve') await serve(process.argv[3] as Target);
else await main();
