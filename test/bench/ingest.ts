// `pnpm bench ingest`: requests/s and latency of the tracking API on both runtimes, against a Fastify hello-world.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon, { type Result } from 'autocannon';
import Fastify from 'fastify';
import { createLogger, loadConfig } from '@cdp/runtime';
import { startPlatform } from '@cdp/cdp/platform';
import { startLocalKafka } from '../../infra/kafka/local-kafka';
import { basicAuth } from '../harness/http';

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

const trackBody = (i: number) =>
  JSON.stringify({
    userId: `user-${i % 1000}`,
    event: 'Product Viewed',
    properties: { sku: `sku-${i}`, price: 19.99, currency: 'EUR' },
    context: { library: { name: 'bench', version: '1.0.0' } },
  });
const batchBody = JSON.stringify({
  batch: Array.from({ length: batchSize }, (_, i) => ({
    type: 'track',
    userId: `user-${i % 1000}`,
    event: 'Product Viewed',
    properties: { sku: `sku-${i}`, price: 19.99 },
  })),
});

interface Row {
  runtime: string;
  trackRps: number;
  trackP50: number;
  trackP99: number;
  batchEventsPerSecond: number;
  halfLoadP99: number;
  rssMb: number;
  errors: number;
}

async function measure(target: 'embedded' | 'kafka', env: Record<string, string>): Promise<Row> {
  const server = await startServer(target, env);
  const headers = { 'content-type': 'application/json', authorization: basicAuth(server.writeKey) };
  const track = await load({ url: `${server.url}/v1/track`, method: 'POST', headers, body: trackBody(1) });
  const batch = await load({
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
    batchEventsPerSecond: Math.round(batch.requests.average * batchSize),
    halfLoadP99: half.latency.p99,
    rssMb,
    errors,
  };
}

async function main(): Promise<void> {
  const hello = await startServer('hello');
  const baseline = await load({ url: hello.url });
  const postBaseline = await load({
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
    `hello-world Fastify baseline (GET): ${helloRps} req/s, p50 ${baseline.latency.p50} ms, p99 ${baseline.latency.p99} ms, RSS ${helloRss} MB`,
  );
  out(
    `hello-world with a track body (POST, JSON parsed): ${Math.round(postBaseline.requests.average)} req/s, p99 ${postBaseline.latency.p99} ms\n`,
  );
  out(
    '| runtime | track req/s | track vs hello | track p50 ms | track p99 ms | batch(100) events/s | p99 at half load ms | RSS MB | errors |',
  );
  out('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    out(
      `| ${row.runtime} | ${row.trackRps} | ${Math.round((row.trackRps / helloRps) * 100)}% | ${row.trackP50} | ${row.trackP99} | ${row.batchEventsPerSecond} | ${row.halfLoadP99} | ${row.rssMb} | ${row.errors} |`,
    );
  }
  out(
    '\ntargets: track >= 50% of hello-world; batch >= 100k events/s embedded, >= 50k into Kafka; p99 at half load < 50 ms',
  );
}

if (process.argv[2] === '--serve') await serve(process.argv[3] as Target);
else await main();
