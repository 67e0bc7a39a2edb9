// The cdp command sizes libuv's thread pool before anything starts it, so every chDB connection can run a query at once.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@cdp/runtime';

const threadPool = fileURLToPath(new URL('../bin/thread-pool.cjs', import.meta.url));
// chDB is the runtime's dependency: the probe loads it from there.
const runtimePackage = fileURLToPath(new URL('../../runtime/package.json', import.meta.url));
// The platform's default connections, which the CommonJS file (it cannot read the config module) must agree with.
const connections = loadConfig({}).clickhouse.chdbConnections ?? 8;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-thread-pool-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// Opens `connections` chDB sessions on one directory, starts a slow query on each, and prints the most of them the
// engine ever ran at once (system.processes, read synchronously on the main thread, which needs no pool thread).
const probe = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(runtimePackage)});
const { Session } = require('chdb');
const connections = Number(process.argv[1]);
const sessions = Array.from({ length: connections + 1 }, () => new Session(${JSON.stringify(dataDir)}));
const observer = sessions.pop();
let done = false;
const running = Promise.all(sessions.map((session) => session.queryAsync('SELECT sleep(2) AS pool_probe', { format: 'CSV' }))).finally(() => (done = true));
let most = 0;
while (!done && most < connections) {
  const seen = Number(String(observer.query("SELECT count() FROM system.processes WHERE query LIKE '%AS pool_probe%' AND query NOT LIKE '%system.processes%'", 'CSV')).trim());
  most = Math.max(most, seen);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await running;
process.stdout.write(JSON.stringify({ pool: process.env.UV_THREADPOOL_SIZE ?? null, most }));
process.exit(0);
`;

async function runProbe(env: Record<string, string>, preload: boolean): Promise<{ pool: string | null; most: number }> {
  const { UV_THREADPOOL_SIZE: _, ...inherited } = process.env;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...(preload ? ['--require', threadPool] : []), '--input-type=module', '-e', probe, String(connections)],
    { env: { ...inherited, ...env }, timeout: 60_000 },
  );
  return JSON.parse(stdout) as { pool: string | null; most: number };
}

describe('the thread pool of the cdp command', () => {
  it('lets every default connection run a query at once, where the default pool runs four', async () => {
    expect(await runProbe({}, true)).toEqual({ pool: String(connections + 4), most: connections });
    expect(await runProbe({}, false)).toEqual({ pool: null, most: 4 });
  });

  it('follows CDP_CHDB_CONNECTIONS and keeps a UV_THREADPOOL_SIZE already set', async () => {
    expect((await runProbe({ CDP_CHDB_CONNECTIONS: '2' }, true)).pool).toBe('6');
    expect(await runProbe({ UV_THREADPOOL_SIZE: '5' }, true)).toEqual({ pool: '5', most: Math.min(5, connections) });
  });
});
