// `pnpm bench merges`: a survivor's stored ids (what every profile read asks first) on a large merge map, through the
// primary key as `storedIdsOfMany` reads them, against collapsing the whole map with FINAL, in one run.
//
// Environment:
//   BENCH_MERGES  losers (default 2000000), each with a merge row; a tenth get a second row, pointed at another survivor
//   BENCH_RUNS    timed reads of each form per size (default 9)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storedIdsOfMany } from '@cdp/profiles';
import { createClickHouse, createLogger, migrate, named } from '@cdp/runtime';
import { clickhouseMigrationsDir } from '@cdp/schemas';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`usage: pnpm bench merges

Fills profile_merges of a fresh chDB store with BENCH_MERGES losers (default 2000000, spread over half as many
survivors, in eight inserts) and a second, newer row for a tenth of them pointing at another survivor (2.2M rows),
then times the stored ids of 1 and of 50 survivors as profile reads ask them (storedIdsOfMany), alternating with the
same answer read by collapsing the whole map with FINAL and filtering by survivor (the form before), BENCH_RUNS times
each (default 9); both must give the same rows.
`);
  process.exit(0);
}

const merges = Number(process.env.BENCH_MERGES ?? 2_000_000);
const runs = Number(process.env.BENCH_RUNS ?? 9);
const survivorCount = Math.max(1, Math.floor(merges / 2));
const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-merges-'));
const logger = createLogger({ level: 'warn', name: 'bench-merges' });
const clickhouse = await createClickHouse({ url: null, database: 'bench', chdbPath: dir } as never, logger);
const { client } = clickhouse;
try {
  await migrate(client, clickhouseMigrationsDir, logger);
  const started = performance.now();
  const part = Math.ceil(merges / 8);
  for (let from = 0; from < merges; from += part)
    await client.command(
      named('bench.fillMerges', {
        query: `INSERT INTO profile_merges (loser_id, survivor_id, version)
          SELECT concat('prf_l', toString(number)), concat('prf_s', toString(number % {survivors:UInt64})), 1
          FROM numbers({from:UInt64}, {count:UInt64})`,
        query_params: { survivors: survivorCount, from, count: Math.min(part, merges - from) },
      }),
    );
  await client.command(
    named('bench.repointMerges', {
      query: `INSERT INTO profile_merges (loser_id, survivor_id, version)
        SELECT concat('prf_l', toString(number)), concat('prf_s', toString((number + 7) % {survivors:UInt64})), 2
        FROM numbers({merges:UInt64}) WHERE number % 10 = 0`,
      query_params: { survivors: survivorCount, merges },
    }),
  );
  process.stderr.write(
    `filled ${merges.toLocaleString('en')} merge rows in ${Math.round(performance.now() - started)} ms\n`,
  );

  // The form before: the whole map collapsed, then filtered by survivor.
  const wholeMap = async (survivors: string[]) => {
    const result = await client.query(
      named('bench.absorbedWholeMap', {
        query: `SELECT DISTINCT survivor_id, loser_id FROM profile_merges FINAL
          WHERE survivor_id IN {survivors:Array(String)} AND loser_id NOT IN {survivors:Array(String)}`,
        query_params: { survivors },
        format: 'JSONEachRow',
      }),
    );
    const stored = new Map(survivors.map((survivor) => [survivor, [survivor]]));
    for (const row of await result.json<{ survivor_id: string; loser_id: string }>())
      stored.get(row.survivor_id)?.push(row.loser_id);
    return stored;
  };
  const same = (a: Map<string, string[]>, b: Map<string, string[]>) =>
    JSON.stringify([...a].map(([key, ids]) => [key, [...ids].sort()])) ===
    JSON.stringify([...b].map(([key, ids]) => [key, [...ids].sort()]));
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

  const rows: string[] = [];
  for (const size of [1, 50]) {
    const survivors = Array.from({ length: size }, (_, index) => `prf_s${(index * 9973 + 3) % survivorCount}`);
    const timings = { keyed: [] as number[], whole: [] as number[] };
    let ids = 0;
    for (let run = 0; run < runs; run++) {
      let at = performance.now();
      const keyed = await storedIdsOfMany(client, survivors);
      timings.keyed.push(performance.now() - at);
      at = performance.now();
      const whole = await wholeMap(survivors);
      timings.whole.push(performance.now() - at);
      if (!same(keyed, whole)) throw new Error(`the two forms differ for ${size} survivors`);
      ids = [...keyed.values()].reduce((sum, list) => sum + list.length, 0);
    }
    rows.push(
      `| ${size} | ${ids} | ${median(timings.keyed).toFixed(1)} ms | ${median(timings.whole).toFixed(1)} ms | ${(median(timings.whole) / median(timings.keyed)).toFixed(1)}× |`,
    );
  }
  process.stdout.write(
    [
      `\nmerges benchmark: ${merges.toLocaleString('en')} merge rows over ${survivorCount.toLocaleString('en')} survivors, chDB in process, median of ${runs} reads each, alternating\n`,
      '| survivors asked | stored ids found | storedIdsOfMany (losers by primary key) | whole map with FINAL (before) | ratio |',
      '|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  await clickhouse.close();
  rmSync(dir, { recursive: true, force: true });
}
