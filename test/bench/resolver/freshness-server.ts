// Child part: the whole platform (ingest, resolver, query API) on one runtime, serving until its stdin closes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, loadConfig } from '@cdp/runtime';
import { startPlatform } from '@cdp/cdp/platform';
import { report } from './child';

export interface ServedPlatform {
  url: string;
  writeKey: string;
  readKey: string;
}

const runtime = process.argv[2] === 'kafka' ? 'kafka' : 'embedded';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-fresh-'));
const served = {
  writeKey: `wk_bench_key_${process.pid}_${Date.now()}`,
  readKey: `rk_bench_key_${process.pid}_${Date.now()}`,
};
const config = loadConfig({
  CDP_DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: '0',
  CDP_WRITE_KEY: served.writeKey,
  CDP_READ_KEY: served.readKey,
  CDP_TOPIC_PREFIX: `bench${process.pid}.`,
  // Compared runs set it: how many connections chDB's calls share.
  CDP_CHDB_CONNECTIONS: process.env.CDP_CHDB_CONNECTIONS,
  ...(runtime === 'kafka' ? { KAFKA_BROKERS: process.env.KAFKA_BROKERS } : {}),
});
const platform = await startPlatform(
  config,
  createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench-fresh' }),
);
report({ url: platform.url as string, ...served } satisfies ServedPlatform);

process.stdin.resume();
process.stdin.on('end', () => {
  void platform
    .close()
    .finally(() => rmSync(dataDir, { recursive: true, force: true }))
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
