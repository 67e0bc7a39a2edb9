// `pnpm bench segments`: evaluation passes, preview latency and CSV audience export over 1M profiles / 10M events in chDB.
//
// Environment:
//   BENCH_PROFILES  profiles, each with one identify carrying plan, country and age (default 1000000; 2% merged into another)
//   BENCH_EVENTS    events in all, identifies included (default 10000000)
//   BENCH_ARRIVALS  messages of live traffic stored between the first evaluation pass and the second (default 60000)
//   BENCH_PREVIEWS  timed previews, spread over the ten custom rules (default 20)
//   BENCH_PROFILE_READS  timed profile reads by userId, of profiles picked at random (default 50)
//   KAFKA_BROKERS   publish segment changes on this broker; else on the embedded log in the temp data directory
//   BENCH_DATA_DIR  keep the store in this directory and reuse its events on the next run (default: a temp dir, removed)
//   BENCH_FRESHNESS_SECONDS  seconds of sustained orders for the membership freshness measure (default 120; 0 skips it)
//   BENCH_FRESHNESS_RATE     orders a second during it (default 1000)
//   BENCH_PARTS     evaluation, freshness or both (default); freshness alone serves a kept store (BENCH_DATA_DIR)
//   BENCH_PROFILE=1 writes a CPU profile of the serving process's evaluation part (from the first pass to the rule counts;
//                   every part also runs with --cpu-prof) to bench-profiles/
//
// The data, the query API and the segments service live in one child process (chDB takes one data directory per
// process), so the export's memory is that process's own, sampled from /proc; this process only sends requests.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnPart } from './resolver/child';
import { exportCsv } from './segments/export';
import { customSegments, exportedSegmentName, smallerExportName } from './segments/rules';
import type { ChangeTimes, FreshnessServed } from './segments/freshness';
import type { Evaluated, Served } from './segments/server';
import { measureFreshness, percentile, type Freshness } from './segments/traffic';

const usage = `usage: pnpm bench segments

Generates profiles and events inside a fresh chDB store (migrations applied by the platform), merges the
parts of profile_firsts as the store does once they are ten minutes old, creates ten custom segments through
the API next to the built-ins, times two evaluation passes of the segments service (the first: everyone
enters; the second: after a minute of live traffic), preview latency over HTTP, and CSV exports of a smaller
custom audience and then of the largest, with the serving process's memory.

environment:
  BENCH_PROFILES  profiles, each with one identify with plan, country, age traits (default 1000000)
  BENCH_EVENTS    events in all, identifies included (default 10000000)
  BENCH_ARRIVALS  messages stored between the two passes, a minute of live traffic (default 60000)
  BENCH_PREVIEWS  timed previews over the ten custom rules (default 20)
  BENCH_PROFILE_READS  timed profile reads (GET /v1/profiles/user_id:…) of random profiles (default 50)
  KAFKA_BROKERS   publish segment changes on this broker (default: the embedded log, in the temp dir)
  BENCH_DATA_DIR  keep the store in this directory and reuse its events on the next run, with its segments,
                  membership and passes cleared (default: a temp dir, removed); the data's windows end when it was
                  generated
  BENCH_FRESHNESS_SECONDS  then, the whole platform on that store twice (full passes only, then following profile
                  changes): orders at a steady rate over HTTP for this many seconds, half of them a new customer's
                  first, timed from the 200 to the first change of the customer on the segment feed (default 120; 0 skips)
  BENCH_FRESHNESS_RATE     orders a second (default 1000)
  BENCH_PARTS     which parts run, comma-separated: evaluation (generation or the kept store, passes, previews,
                  profile reads, exports), freshness (default both); freshness alone needs BENCH_DATA_DIR
  BENCH_PROFILE=1 a CPU profile of the serving process from its first pass to its rule counts (the passes, the
                  minute of traffic, the pass builds), into bench-profiles/; every part also runs with --cpu-prof
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}

const partNames = ['evaluation', 'freshness'] as const;
const parts = new Set((process.env.BENCH_PARTS ?? partNames.join(',')).split(',').map((part) => part.trim()));
const unknownParts = [...parts].filter((part) => !(partNames as readonly string[]).includes(part));
if (unknownParts.length > 0 || parts.size === 0) {
  process.stderr.write(`BENCH_PARTS: unknown part ${unknownParts.join(', ')}; the parts are ${partNames.join(', ')}\n`);
  process.exit(2);
}
if (!parts.has('evaluation') && !process.env.BENCH_DATA_DIR) {
  process.stderr.write('BENCH_PARTS without evaluation needs BENCH_DATA_DIR: a store an earlier run kept\n');
  process.exit(2);
}
const previews = Number(process.env.BENCH_PREVIEWS ?? 20);
const profileReads = Number(process.env.BENCH_PROFILE_READS ?? 50);
const freshnessSeconds = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 120);
const freshnessRate = Number(process.env.BENCH_FRESHNESS_RATE ?? 1000);
const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`${line}\n`);
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The whole platform on the benchmark's store, following profile changes or not, under steady orders. */
async function freshnessOf(dataDir: string, follow: boolean): Promise<Freshness> {
  progress(
    `freshness, ${follow ? 'following profile changes' : 'full passes only'}: starting the platform (its first full pass first)`,
  );
  // Before following, a full pass every minute was how segments kept up; following, full passes come at the default.
  const env: Record<string, string> = {
    BENCH_DATA_DIR: dataDir,
    CDP_SEGMENTS_FOLLOW: String(follow),
    ...(follow ? {} : { CDP_SEGMENTS_INTERVAL_MS: '60000' }),
  };
  const part = spawnPart<FreshnessServed | ChangeTimes>(new URL('./segments/freshness.ts', import.meta.url), [], {
    env,
  });
  try {
    return await measureFreshness(part, freshnessRate, freshnessSeconds, progress);
  } finally {
    await part.stop();
  }
}
/** Generation (or the kept store), evaluation passes, previews, profile reads and exports: its rows and data line. */
async function evaluationPart(dataDir: string): Promise<{ rows: string[]; data: string }> {
  const server = spawnPart<Served | Evaluated | { error: string }>(
    new URL('./segments/server.ts', import.meta.url),
    [],
    { env: { BENCH_DATA_DIR: dataDir } },
  );
  const rows: string[] = [];
  try {
    const served = (await server.next()) as Served;
    const { url, key, load } = served;
    const call = async (method: string, path: string, body?: unknown) => {
      const started = performance.now();
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const parsed = (await response.json()) as Record<string, unknown>;
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
      return { ms: performance.now() - started, body: parsed };
    };

    const ids = new Map<string, string>();
    for (const segment of customSegments)
      ids.set(segment.name, String((await call('POST', '/v1/segments', segment)).body.id));
    progress('custom segments created; evaluating');
    server.child.stdin!.write('evaluate\n');
    const evaluated = (await server.next()) as Evaluated | { error: string };
    if ('error' in evaluated) throw new Error(`evaluation: ${evaluated.error}`);
    const [first, second] = evaluated.passes;
    if (!first || !second) throw new Error('evaluation: missing passes');

    progress('previews');
    const previewMs: Array<{ name: string; ms: number; count: number }> = [];
    for (let run = 0; run < previews; run += 1) {
      const segment = customSegments[run % customSegments.length]!;
      const { ms, body } = await call('POST', '/v1/segments/preview', { rule: segment.rule });
      previewMs.push({ name: segment.name, ms, count: Number(body.count) });
    }

    progress('profile reads');
    const readMs: number[] = [];
    for (let run = 0; run < profileReads; run += 1) {
      // Generated profile n has userId u<n> (load.ts); one at random, so reads do not find the same granules warm.
      const userId = `u${Math.floor(Math.random() * load.generated)}`;
      const { ms, body } = await call('GET', `/v1/profiles/user_id:${userId}`);
      if (!Array.isArray(body.identities) || body.identities.length === 0)
        throw new Error(`profile of ${userId}: no identities in ${JSON.stringify(body)}`);
      readMs.push(ms);
    }

    progress('export');
    const listed = (await call('GET', '/v1/segments')).body.segments as Array<{ id: string; size: number }>;
    const exportOf = async (name: string) => {
      const segmentId = ids.get(name)!;
      const exported = await exportCsv({
        url,
        key,
        segmentId,
        traits: ['plan', 'country'],
        serverPid: server.child.pid!,
      });
      return { ...exported, audience: listed.find((segment) => segment.id === segmentId)?.size ?? 0 };
    };
    // The smaller audience first: if the larger one then needs no more memory, memory does not grow with the audience.
    const smaller = await exportOf(smallerExportName);
    const exported = await exportOf(exportedSegmentName);

    const sqlTotal = evaluated.sqlAlone.reduce((sum, query) => sum + query.ms, 0);
    const slowest = [...evaluated.sqlAlone].sort((a, b) => b.ms - a.ms).slice(0, 3);
    const passDetail = (pass: typeof first) =>
      `${evaluated.segments} segments (${evaluated.segments - customSegments.length} built-in, ${customSegments.length} custom); ` +
      `${thousands(pass.entered)} entered, ${thousands(pass.exited)} exited, ${thousands(pass.published)} changes published on ${served.runtime === 'kafka' ? 'Kafka' : 'the embedded log'}; ` +
      `store calls ${pass.queries
        .slice(0, 6)
        .map((query) => `${query.name} ${query.seconds.toFixed(1)} s (${thousands(query.calls)})`)
        .join(', ')}`;
    const previewTimes = previewMs.map((preview) => preview.ms);
    const slowestPreview = [...previewMs].sort((a, b) => b.ms - a.ms)[0]!;
    const p95 = percentile(previewTimes, 0.95);
    rows.push(
      `| evaluation, first pass (everyone enters) | ${seconds(first.ms)} | ≤ 10 s | ${passDetail(first)}; ${thousands(evaluated.members)} memberships after |`,
    );
    rows.push(
      `| evaluation, second pass (after a minute of live traffic) | ${seconds(second.ms)} | ≤ 10 s | ${thousands(evaluated.arrivals)} messages of the last minute stored after the first pass; ${passDetail(second)} |`,
    );
    rows.push(
      `| a pass's profiles alone, everyone rolled up | ${seconds(evaluated.profilesAllMs)} | — | as a process's first pass builds them: stats and the rules' traits of every survivor rolled up and kept, RFM scores, behaviour counts |`,
    );
    rows.push(
      `| a pass's profiles alone, changed survivors rolled up | ${seconds(evaluated.profilesChangedMs)} | — | as every later pass builds them: only survivors with rows written since the previous pass rolled up again |`,
    );
    rows.push(
      `| compiled member SQL alone, every segment | ${seconds(sqlTotal)} | — | \`SELECT count() FROM (rule)\` on those profiles, one after another; slowest ${slowest.map((query) => `${query.name} ${seconds(query.ms)}`).join(', ')} |`,
    );
    rows.push(
      `| preview p50 / p95 (HTTP) | ${thousands(percentile(previewTimes, 0.5))} / ${thousands(p95)} ms | p95 ≤ 1,000 ms | ${previewMs.length} runs over the ${customSegments.length} custom rules; ` +
        `slowest: ${slowestPreview.name} ${thousands(slowestPreview.ms)} ms (count ${thousands(slowestPreview.count)}) |`,
    );
    rows.push(
      `| profile read p50 / p95 (HTTP, by userId) | ${thousands(percentile(readMs, 0.5))} / ${thousands(percentile(readMs, 0.95))} ms | — | ` +
        `${readMs.length} reads of random profiles, one at a time, nothing else running; max ${thousands(Math.max(...readMs))} ms |`,
    );
    const exportRow = (label: string, run: typeof exported) =>
      `| ${label} | ${thousands(run.rows / run.seconds)} rows/s | ≥ 100,000 rows/s, flat memory | ${thousands(run.rows)} rows of a ${thousands(run.audience)}-member audience ` +
      `(traits plan, country), ${thousands(run.bytes / 1024 / 1024)} MB in ${run.seconds.toFixed(1)} s, first byte after ${thousands(run.firstByteMs)} ms; ` +
      `server RSS ${thousands(run.rssBeforeMb)} MB before, peak ${thousands(run.rssPeakMb)} MB during (+${thousands(run.rssPeakMb - run.rssBeforeMb)} MB), ` +
      `${thousands(run.rssAfterMb)} MB after |`;
    rows.push(exportRow('CSV export of a smaller audience first (HTTP, streamed to the end)', smaller));
    rows.push(exportRow('CSV export (HTTP, streamed to the end)', exported));
    return {
      rows,
      data:
        `data: ${thousands(load.events)} events (one identify per profile), ${thousands(load.profiles)} profiles (${thousands(load.merges)} more merged away), ` +
        `${thousands(load.orders)} orders; profile_stats ${thousands(load.profileStatsRows)} rows, profile_traits ${thousands(load.profileTraitRows)} rows, identities ${thousands(load.identities)} rows; ` +
        `${thousands(load.diskMb)} MB on disk; ` +
        (load.seconds > 0
          ? `generated and loaded in ${load.seconds.toFixed(0)} s (materialized views included)\n`
          : `reused from ${process.env.BENCH_DATA_DIR}\n`),
    };
  } finally {
    await server.stop();
  }
}

/** The whole platform on the store twice, full passes only and then following, under steady orders: its rows. */
async function freshnessPart(dataDir: string): Promise<string[]> {
  const rows: string[] = [];
  const before = await freshnessOf(dataDir, false);
  const after = await freshnessOf(dataDir, true);
  const ms = (value: number) => (Number.isFinite(value) ? `${thousands(value)} ms` : '—');
  const detail = (run: Freshness) =>
    `${thousands(run.sent)} orders in ${freshnessSeconds} s; ${thousands(run.seen)} of ${thousands(run.measured)} sampled first orders had a change by the end, max ${ms(run.maxMs)}; ` +
    `${run.fullPasses} full passes, drift ${run.drift} (and ${thousands(run.aheadOfFollowing)} changes ahead of following), ${thousands(run.swept)} profiles swept; server RSS ${thousands(run.rssMb.start)} MB at the start, peak ${thousands(run.rssMb.peak)}, end ${thousands(run.rssMb.end)}`;
  rows.push(
    `| first full pass of the whole platform on start | ${seconds(after.firstPassMs)} | ≤ 10 s | full passes only: ${seconds(before.firstPassMs)} |`,
  );
  rows.push(
    `| membership freshness p50 / p95, full passes every minute only (before) | ${ms(before.p50Ms)} / ${ms(before.p95Ms)} | — | ${detail(before)} |`,
  );
  rows.push(
    `| membership freshness p50 / p95, following profile changes (full passes every 5 minutes) | ${ms(after.p50Ms)} / ${ms(after.p95Ms)} | p95 ≤ 5 s | ${detail(after)} |`,
  );
  return rows;
}

async function main(): Promise<void> {
  // The freshness parts serve the store the first part built: it lives in a directory this process owns.
  const ownDir = process.env.BENCH_DATA_DIR ? null : mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-segments-'));
  const dataDir = process.env.BENCH_DATA_DIR ?? ownDir!;
  try {
    const evaluated = parts.has('evaluation') ? await evaluationPart(dataDir) : null;
    const rows = [
      ...(evaluated?.rows ?? []),
      ...(parts.has('freshness') && freshnessSeconds > 0 ? await freshnessPart(dataDir) : []),
    ];
    out(
      `\nsegments benchmark: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, chDB in the serving process; ` +
        `one run on a shared machine, so timings are noisy\n`,
    );
    out(evaluated?.data ?? `data: the store in ${dataDir} as earlier runs left it, its segments included\n`);
    out('| measure | result | target | detail |');
    out('|---|---|---|---|');
    for (const row of rows) out(row);
  } finally {
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  }
}

await main();
