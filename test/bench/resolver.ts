// `pnpm bench resolver`: resolver throughput Kafka → ClickHouse, identity-graph memory, and end-to-end freshness under load.
//
// Environment:
//   BENCH_EVENTS       events pre-produced for the throughput runs (default 200000)
//   BENCH_IDENTIFIERS  identifiers in the memory run's graph (default 1000000: customers × anonymous, userId, email, phone)
//   BENCH_SECONDS      length of each freshness run (default 20)
//   BENCH_RATE         events/s sent to ingest during the freshness runs (default 5000, as batches of 50)
//   BENCH_SAMPLE_MS    one marked event per this many ms, each for a fresh userId (default 500)
//   BENCH_READERS      profile reads the samples' pollers keep in flight (default 4)
//   BENCH_TIMEOUT_SECONDS  how long a throughput run may take before it fails (default 600)
//   BENCH_PARTS        which parts to run, comma-separated: throughput, inserts, memory, freshness (default all)
//   BENCH_RUNTIMES     the runtimes of the throughput and freshness parts, comma-separated: kafka, embedded (default both)
//   BENCH_INSERT_ROUNDS  rounds of the inserts part, each one batch in each format; then as many inserts with every
//                        view on events, with none and with each alone (default 8)
//   BENCH_PROFILE=1    writes --cpu-prof profiles of every measured process to bench-profiles/
//   CDP_CHDB_CONNECTIONS  chDB connections of the measured resolver and platform (default 8; 1 = one at a time)
//   KAFKA_BROKERS      a broker to use; else a local one is started from the Kafka jars and stopped at the end
//
// Every measured part runs in a process of its own (chDB takes one data directory per process, and the graph's memory
// is measured in a fresh heap); each removes its temp directory, and its topics live on a broker that stops with the run.
import os from 'node:os';
import { startLocalKafka } from '../../infra/kafka/local-kafka';
import { runPart } from './resolver/child';
import { measureFreshness, probeTimeoutMs, type FreshnessResult } from './resolver/freshness';
import type { InsertsResult } from './resolver/inserts';
import type { MemoryResult } from './resolver/memory';
import type { ThroughputResult } from './resolver/throughput';

const usage = `usage: pnpm bench resolver

Measures one resolver's throughput from Kafka (and the embedded log) into chDB, one insert of its
batch and what the views on events add to it, the identity graph's memory per million identifiers,
and end-to-end freshness at a steady ingest rate.

environment:
  BENCH_EVENTS       events pre-produced for the throughput runs (default 200000)
  BENCH_IDENTIFIERS  identifiers in the memory run's graph (default 1000000)
  BENCH_SECONDS      length of each freshness run (default 20)
  BENCH_RATE         events/s sent to ingest during the freshness runs (default 5000)
  BENCH_SAMPLE_MS    one marked event per this many ms (default 500)
  BENCH_READERS      profile reads in flight polling the samples (default 4)
  BENCH_TIMEOUT_SECONDS  limit of each throughput run (default 600)
  BENCH_PARTS        throughput,inserts,memory,freshness (default all)
  BENCH_RUNTIMES     kafka,embedded: the throughput and freshness parts' runtimes (default both)
  BENCH_INSERT_ROUNDS  inserts of each kind in the inserts part (default 8)
  BENCH_PROFILE=1    --cpu-prof profiles of the measured processes into bench-profiles/
  CDP_CHDB_CONNECTIONS  chDB connections of the measured resolver and platform (default 8)
  KAFKA_BROKERS      use this broker instead of starting a local one
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}

const events = Number(process.env.BENCH_EVENTS ?? 200_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rate = Number(process.env.BENCH_RATE ?? 5000);
const parts = new Set(
  (process.env.BENCH_PARTS ?? 'throughput,inserts,memory,freshness').split(',').map((part) => part.trim()),
);
const allRuntimes = ['kafka', 'embedded'] as const;
const runtimes = allRuntimes.filter((runtime) =>
  (process.env.BENCH_RUNTIMES ?? allRuntimes.join(','))
    .split(',')
    .map((each) => each.trim())
    .includes(runtime),
);

const out = (line: string) => process.stdout.write(`${line}\n`);
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');
const percent = (share: number) => `${Math.round(share * 100)}%`;
const milliseconds = (ms: number) =>
  Number.isFinite(ms) ? `${thousands(ms)} ms` : `> ${thousands(probeTimeoutMs)} ms`;

function throughputRow(result: ThroughputResult): string {
  const perBatch = Math.round(result.events / Math.max(1, result.batches));
  const detail =
    `${thousands(result.events)} events pre-produced at ${thousands(result.produceEventsPerSecond)}/s; first write after ${thousands(result.firstWriteMs)} ms; ` +
    `${result.batches} batches of ~${thousands(perBatch)}; handler busy ${percent(result.handlerBusy)} of wall time, of which ClickHouse inserts ` +
    `${percent(result.insertShare)}, link round trips ${percent(result.linkShare)}, the rest decode and resolve`;
  const target = result.runtime === 'kafka' ? '≥ 50,000 events/s' : '(comparison)';
  return `| throughput → ClickHouse (chDB), 1 resolver | ${result.runtime} | ${thousands(result.eventsPerSecond)} events/s | ${target} | ${detail} |`;
}

function insertsRow(result: InsertsResult): string {
  const rate = (ms: number) => `${thousands((result.rows / ms) * 1000)} rows/s`;
  const detail = `median of ${result.rounds} rounds, the formats alternating on fresh rows of the same customer base; JSONEachRow, as the resolver wrote before: ${thousands(result.jsonEachRowMs)} ms (${rate(result.jsonEachRowMs)}), ${(result.jsonEachRowMs / result.tabSeparatedMs).toFixed(1)}× the time`;
  return `| one batch of ${thousands(result.rows)} events into \`events\` (chDB, its views live), TabSeparated | — | ${thousands(result.tabSeparatedMs)} ms (${rate(result.tabSeparatedMs)}) | — | ${detail} |`;
}

function viewsRow(result: InsertsResult): string {
  const { everyMs, noneMs, alone } = result.views;
  const each = Object.entries(alone)
    .sort(([, a], [, b]) => b - a)
    .map(([view, ms]) => `\`${view}\` +${thousands(Math.max(0, ms - noneMs))}`)
    .join(', ');
  const perEvent =
    ((result.large.everyMs - result.large.noneMs - (everyMs - noneMs)) / (result.largeRows - result.rows)) * 1000;
  const detail =
    `medians of ${result.rounds} inserts each, TabSeparated, fresh rows; each view alone, above none: ${each} ms; ` +
    `${thousands(result.largeRows)} events: every view ${thousands(result.large.everyMs)} ms, none ${thousands(result.large.noneMs)} ms, ` +
    `so the views cost about ${thousands(everyMs - noneMs - (perEvent * result.rows) / 1000)} ms an insert and ${perEvent.toFixed(1)} µs an event`;
  return `| what the views on \`events\` add to one batch of ${thousands(result.rows)} | — | every view ${thousands(everyMs)} ms, none ${thousands(noneMs)} ms | — | ${detail} |`;
}

function memoryRow(result: MemoryResult): string {
  const detail = `${thousands(result.identifiers)} identifiers from ${thousands(result.records)} link records (customers × anonymous, userId, email, phone), applied at ${thousands(result.recordsPerSecond)} records/s`;
  return `| identity graph memory per 1M identifiers | — | RSS ${result.rssMbPerMillion} MB, heap ${result.heapMbPerMillion} MB | — | ${detail} |`;
}

function freshnessRow(result: FreshnessResult): string {
  const detail =
    `${thousands(result.eventsPerSecond)} events/s accepted for ${result.seconds} s; ${result.samples} samples (${result.unseen} unseen), max ${milliseconds(result.maxMs)}; ` +
    `until the showing read was sent: p50 ${milliseconds(result.sentP50Ms)}, p95 ${milliseconds(result.sentP95Ms)}; ` +
    `${thousands(result.readsPerSecond)} profile reads/s polling, median read ${thousands(result.readP50Ms)} ms; ` +
    `resolver backlog max ${thousands(result.maxBacklog)}, ${thousands(result.endBacklog)} events at the end; ` +
    `server event-loop delay up to ${thousands(result.maxLoopDelayMs)} ms; ${result.errors} errors`;
  return `| freshness p50 / p95, 200 → visible in the profile API | ${result.runtime} | ${milliseconds(result.p50Ms)} / ${milliseconds(result.p95Ms)} | p95 ≤ 2,000 ms | ${detail} |`;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const needsKafka = (parts.has('throughput') || parts.has('freshness')) && runtimes.includes('kafka');
  const kafka = !needsKafka
    ? null
    : process.env.KAFKA_BROKERS
      ? { brokers: process.env.KAFKA_BROKERS, stop: async () => undefined }
      : await startLocalKafka();
  const env = (runtime: (typeof allRuntimes)[number]): Record<string, string> =>
    runtime === 'kafka' && kafka ? { KAFKA_BROKERS: kafka.brokers } : {};
  try {
    if (parts.has('throughput')) {
      for (const runtime of runtimes) {
        const result = await runPart<ThroughputResult>(
          new URL('./resolver/throughput.ts', import.meta.url),
          [runtime],
          { env: { ...env(runtime), BENCH_EVENTS: String(events) } },
        );
        rows.push(throughputRow(result));
      }
    }
    if (parts.has('inserts')) {
      const inserts = await runPart<InsertsResult>(new URL('./resolver/inserts.ts', import.meta.url), []);
      rows.push(insertsRow(inserts), viewsRow(inserts));
    }
    if (parts.has('memory')) {
      rows.push(
        memoryRow(
          await runPart<MemoryResult>(new URL('./resolver/memory.ts', import.meta.url), [], { node: ['--expose-gc'] }),
        ),
      );
    }
    if (parts.has('freshness')) {
      for (const runtime of runtimes)
        rows.push(freshnessRow(await measureFreshness(runtime, env(runtime), seconds, rate)));
    }
  } finally {
    await kafka?.stop();
  }

  const kafkaSource = process.env.KAFKA_BROKERS
    ? `Kafka at ${process.env.KAFKA_BROKERS}`
    : 'a local single-node Kafka on the same machine';
  out(
    `\nresolver benchmark: ${os.cpus().length} cores, Node ${process.version}, ${kafkaSource}; timings vary with other load on the machine\n`,
  );
  out('| measure | runtime | result | target | detail |');
  out('|---|---|---|---|---|');
  for (const row of rows) out(row);
}

await main();
