// `pnpm bench peers`: RudderStack's open-source data plane (rudder-server, Go, its job queue in PostgreSQL 15) built
// from pinned sources and measured beside `cdp start` and ingest alone, under the same load on the same machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createLogger, loadConfig } from '@cdp/runtime';
import { startPlatform } from '@cdp/cdp/platform';
import { startLocalKafka } from '../../infra/kafka/local-kafka';
import { basicAuth, freePort, metricOf } from '../harness/http';
import { trackBatchBody } from './bodies';
import { cpuOf, exitedChildrenCpuOf, memoryOf } from './proc';

const peerDir = path.resolve(process.env.PEER_DIR ?? path.join(os.tmpdir(), 'cdp-peer-rudderstack'));
const gitBase = process.env.PEER_GIT_BASE ?? 'https://github.com';
const pgBin = process.env.PEER_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const fixedEventsPerSecond = Number(process.env.BENCH_FIXED_EVENTS ?? 10_000);
const drainSeconds = Number(process.env.BENCH_DRAIN_SECONDS ?? 60);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const systemNames = ['rudder-gateway', 'cdp-ingest', 'rudder-embedded', 'rudder-kafka', 'cdp-start'] as const;
type SystemName = (typeof systemNames)[number];
const batchSize = 100;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const out = (line: string) => process.stdout.write(`${line}\n`);

const usage = `usage: pnpm bench peers [--help]

Builds RudderStack's rudder-server from pinned sources (once, into PEER_DIR) and measures, one at a time, under the same
load (POST /v1/batch, ${batchSize} track events a request, loopback only):
  rudder-gateway   rudder-server APP_TYPE=GATEWAY: events stored in its PostgreSQL job queue
  cdp-ingest       this project's ingest alone: events appended to the embedded log
  rudder-embedded  rudder-server gateway + processor + router, no destination
  rudder-kafka     the same with a Kafka destination (its built-in Kafka transform) to a local Apache Kafka broker
  cdp-start        \`cdp start\`: ingest, log, identity resolution into chDB, segments, query API in one process

Each system: a warm-up, a run at a fixed offered load, then a saturated run while its memory and CPU are sampled; then
how much of the accepted events its downstream had finished when the load stopped, and how long it took to catch up.

Environment:
  PEER_DIR              where sources, the build, data and logs live (default: $TMPDIR/cdp-peer-rudderstack)
  PEER_GIT_BASE         where to clone rudderlabs/* from when PEER_DIR lacks them (default: https://github.com; a
                        directory holding rudderlabs/<name> clones works too)
  PEER_REBUILD=1        build again even if PEER_DIR/bin/rudder-server exists
  PEER_PG_BIN           PostgreSQL 15 binaries (default: /usr/lib/postgresql/15/bin; Debian: apt-get install postgresql-15)
  BENCH_SYSTEMS         comma-separated subset of: ${systemNames.join(', ')}
  BENCH_SECONDS         saturated and fixed-load run length (default 15)
  BENCH_WARMUP_SECONDS  warm-up length (default 3)
  BENCH_CONNECTIONS     connections (default 10)
  BENCH_FIXED_EVENTS    offered events/s of the fixed-load run (default 10000)
  BENCH_DRAIN_SECONDS   how long to wait for a downstream to catch up (default 60)
  BENCH_ROUNDS          rounds over the systems, order alternating (default 1)
`;

// ------------------------------------------------------------------------------------------------ build the peer --

/**
 * rudder-server at the head of 2026-08-19, and the modules a Go module proxy may refuse (403 "This module version is
 * not available": the one this benchmark was written with did), always taken from their sources so that every build
 * is the same. rudder-schemas v0.12.0 was not published as source;
 * its last commit before it gets the three cluster-migration identifiers rudder-server names (cluster mode only).
 * The AWS Personalize events module is a compile stand-in (test/bench/peers/personalizeevents). None of them is on
 * the path of an event this benchmark sends.
 */
const sources = [
  { dir: 'rudder-server', repo: 'rudderlabs/rudder-server', commit: 'f2655fbbe2260deb4e01c2a54da1a827291713bb' },
  { dir: 'rudder-schemas', repo: 'rudderlabs/rudder-schemas', commit: 'b3fb4bd675ce4813a1e8e6cd4939ec0c4622571d' },
  { dir: 'sql-tunnels', repo: 'rudderlabs/sql-tunnels', commit: '6c837ee324d9d5025fca3f1108001c5d58478c4f' },
  { dir: 'sqlconnect-go', repo: 'rudderlabs/sqlconnect-go', commit: 'e582b5dcdbd9d0dc1cdad30befc6527c1faabd23' },
];
const replacements = {
  'github.com/rudderlabs/rudder-schemas': 'rudder-schemas',
  'github.com/rudderlabs/sql-tunnels': 'sql-tunnels',
  'github.com/rudderlabs/sqlconnect-go': 'sqlconnect-go',
  'github.com/aws/aws-sdk-go-v2/service/personalizeevents': 'stubs/personalizeevents',
};

function checkout({ dir, repo, commit }: (typeof sources)[number]): void {
  const target = path.join(peerDir, dir);
  if (!existsSync(path.join(target, '.git'))) {
    out(`cloning ${gitBase}/${repo}`);
    execFileSync('git', ['clone', '-q', `${gitBase}/${repo}`, target], { stdio: 'inherit' });
  }
  // -f: a build before this one edited go.mod (the replacements) and, in rudder-schemas, the patched file.
  try {
    execFileSync('git', ['-C', target, 'checkout', '-q', '-f', commit], { stdio: 'ignore' });
  } catch {
    execFileSync('git', ['-C', target, 'fetch', '-q', 'origin'], { stdio: 'inherit' });
    execFileSync('git', ['-C', target, 'checkout', '-q', '-f', commit], { stdio: 'inherit' });
  }
}

/** The additions of rudder-schemas v0.12.0 that rudder-server compiles against (its cluster migration types). */
function patchSchemas(): void {
  const file = path.join(peerDir, 'rudder-schemas/go/cluster/migration.go');
  let text = readFileSync(file, 'utf8');
  if (text.includes('AckWithJobsDBs')) return;
  const edits: Array<[RegExp, string]> = [
    [/(\tPartitions \[\]string `json:"partitions"`[^\n]*\n)/, '$1\tJobsDB string `json:"jobsDb,omitempty"`\n'],
    [
      /(\tAckKeyPrefix string `json:"ackKeyPrefix"`[^\n]*\n)\}\n/,
      '$1\n\tFeatures PartitionMigrationFeatures `json:"features"`\n}\n\n' +
        'type PartitionMigrationFeatures struct {\n\tJobsDBFanout bool `json:"jobsDbFanout"`\n}\n\n' +
        'func (pm *PartitionMigration) AckWithJobsDBs(nodeIndex int, nodeName string, jobsDBs []string) *PartitionMigrationAck {\n' +
        '\treturn &PartitionMigrationAck{NodeIndex: nodeIndex, NodeName: nodeName, JobsDBs: jobsDBs}\n}\n',
    ],
    [
      /(\tNodeName +string `json:"nodeName"`[^\n]*\n)(\}\n\n\/\/ ReloadGatewayCommand)/,
      '$1\tJobsDBs []string `json:"jobsDbs,omitempty"`\n$2',
    ],
  ];
  for (const [pattern, replacement] of edits) {
    if (!pattern.test(text)) throw new Error(`${file} does not have the shape this benchmark patches (${pattern})`);
    text = text.replace(pattern, replacement);
  }
  writeFileSync(file, text);
  execFileSync('gofmt', ['-w', file]);
}

async function buildPeer(): Promise<string> {
  const binary = path.join(peerDir, 'bin', 'rudder-server');
  if (existsSync(binary) && process.env.PEER_REBUILD !== '1') return binary;
  mkdirSync(path.join(peerDir, 'logs'), { recursive: true });
  for (const source of sources) checkout(source);
  patchSchemas();
  cpSync(
    fileURLToPath(new URL('./peers/personalizeevents', import.meta.url)),
    path.join(peerDir, 'stubs/personalizeevents'),
    {
      recursive: true,
    },
  );
  const server = path.join(peerDir, 'rudder-server');
  execFileSync(
    'go',
    [
      'mod',
      'edit',
      ...Object.entries(replacements).map(([module, dir]) => `-replace=${module}=${path.join(peerDir, dir)}`),
    ],
    { cwd: server },
  );
  const log = path.join(peerDir, 'logs', 'build.log');
  out(`building rudder-server (a cold build takes about 5 minutes on 2 cores; output in ${log})`);
  const started = Date.now();
  const child = spawn('go', ['build', '-o', binary, '.'], {
    cwd: server,
    stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
  });
  const ticker = setInterval(() => out(`  still building, ${Math.round((Date.now() - started) / 1000)} s`), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(ticker);
  if (code !== 0) throw new Error(`go build failed (exit ${code}); see ${log}`);
  out(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

// ------------------------------------------------------------------------------------------------ processes -------

async function waitFor(url: string, timeoutSeconds: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`the process behind ${url} exited (${child.exitCode})`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${url}`);
}

async function stopChild(child: ChildProcess, timeoutSeconds = 60): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
  await exited;
  clearTimeout(timer);
}

/** A process and all its descendants, from /proc (PostgreSQL forks a process per connection). */
function treeOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const pids = [root];
  for (let index = 0; index < pids.length; index += 1) pids.push(...(children.get(pids[index] as number) ?? []));
  return pids;
}

const sum = (values: number[]) => values.reduce((total, value) => total + (Number.isFinite(value) ? value : 0), 0);
/** Proportional set size, MB: shared memory (PostgreSQL's buffers) counted once across its processes. */
const pssOf = (pid: number) => {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};

interface Running {
  url: string;
  writeKey: string;
  pid: number;
  /** PostgreSQL's postmaster, when the system keeps its queue there. */
  postgresPid?: number;
  /** Of the events accepted so far, how many the system's last stage has finished (stored, resolved, delivered). */
  downstream(accepted: number): Promise<number>;
  /** The event loop's delay p99 and max in ms since the last call (this project's processes: Node's monitor). */
  eventLoopDelay?(): Promise<{ p99: number; max: number }>;
  stop(): Promise<void>;
}

interface System {
  name: SystemName;
  /** What its last stage does with an event. */
  downstream: string;
  start(): Promise<Running>;
}

interface Postgres {
  port: number;
  pid: number;
  /** Events in the gateway's queue whose jobs are not yet in a final state. */
  pending(): number;
  stop(): void;
}

async function startPostgres(): Promise<Postgres> {
  const dataDir = path.join(peerDir, 'pgdata');
  const socketDir = path.join(peerDir, 'pgsock');
  const log = path.join(peerDir, 'logs', 'postgres.log');
  if (!existsSync(path.join(pgBin, 'initdb'))) {
    throw new Error(`PostgreSQL 15 is not at ${pgBin}: apt-get install postgresql-15, or set PEER_PG_BIN`);
  }
  // PostgreSQL refuses to run as root.
  const asOwner = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const run = (command: string, args: string[]) =>
    execFileSync(asOwner[0] ?? command, [...asOwner.slice(1), ...(asOwner.length ? [command] : []), ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  // A server a killed run left behind on this data directory stops before the directory is made anew.
  if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    try {
      run(path.join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not running
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(socketDir, { recursive: true });
  writeFileSync(log, '');
  if (asOwner.length) execFileSync('chown', ['postgres:postgres', dataDir, socketDir, log]);
  const port = await freePort();
  run(path.join(pgBin, 'initdb'), ['-D', dataDir, '-U', 'rudder', '--auth=trust']);
  // PostgreSQL's defaults otherwise (fsync on, synchronous_commit on, shared_buffers 128MB).
  run(path.join(pgBin, 'pg_ctl'), [
    '-D',
    dataDir,
    '-l',
    log,
    '-w',
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories='${socketDir}' -c max_connections=200`,
    'start',
  ]);
  const psql = (database: string, sql: string) =>
    execFileSync(
      path.join(pgBin, 'psql'),
      ['-qAt', '-h', '127.0.0.1', '-p', String(port), '-U', 'rudder', '-d', database, '-c', sql],
      { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim();
  const stop = () => run(path.join(pgBin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
  try {
    psql('postgres', 'create database jobsdb');
  } catch (error) {
    stop();
    throw error;
  }
  return {
    port,
    pid: Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    pending() {
      // The gateway's queue is split into tables (gw_jobs_1, gw_jobs_2, gw_jobs_1_1 after a compaction, each with its
      // status table); a table whose jobs are all final is archived and dropped, so what stays true to count is what
      // is still pending, in events, in one statement over the tables listed.
      for (let attempt = 1; ; attempt += 1) {
        const suffixes = psql(
          'jobsdb',
          "select substring(tablename from '^gw_jobs_(.*)$') from pg_tables where tablename ~ '^gw_jobs_[0-9]+(_[0-9]+)*$'",
        )
          .split('\n')
          .filter(Boolean);
        if (suffixes.length === 0) return 0;
        const perTable = suffixes.map(
          (suffix) =>
            `select coalesce(sum(job.event_count), 0) as events from gw_jobs_${suffix} job where not exists ` +
            `(select 1 from gw_job_status_${suffix} status where status.job_id = job.job_id ` +
            `and status.job_state in ('succeeded', 'aborted', 'filtered', 'migrated'))`,
        );
        try {
          return Number(
            psql('jobsdb', `select coalesce(sum(events), 0) from (${perTable.join(' union all ')}) pending`),
          );
        } catch (error) {
          // A table dropped between the listing and the count: list again.
          const stderr = String((error as { stderr?: unknown }).stderr ?? '');
          if (attempt < 5 && stderr.includes('does not exist')) continue;
          throw error;
        }
      }
    },
    stop,
  };
}

/**
 * rudder-server waits for `GET <transformer>/features` before it serves, and calls its control plane now and then;
 * none of it is on an event's path here (its workspace comes from a file, the Kafka transform is built in). This
 * answers them all 404, so it uses its defaults, and nothing leaves loopback.
 */
async function startControlPlaneStandIn(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer((request, response) => {
    request.resume();
    response.writeHead(404, { 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Undo steps run last to first, each whatever the others did: what a start set up when it or the run ends. */
function cleanupList(name: string) {
  const steps: Array<() => unknown> = [];
  return {
    add: (step: () => unknown) => steps.push(step),
    async run() {
      for (const step of steps.splice(0).reverse()) {
        try {
          await step();
        } catch (error) {
          out(`${name}: while stopping: ${(error as Error).message}`);
        }
      }
    },
  };
}

function rudderSystem(name: SystemName, appType: 'GATEWAY' | 'EMBEDDED', binary: string): System {
  const withKafka = name === 'rudder-kafka';
  return {
    name,
    downstream:
      appType === 'GATEWAY'
        ? 'stored in its PostgreSQL job queue'
        : withKafka
          ? 'processed, delivered to Kafka'
          : 'processed (no destination)',
    async start() {
      const writeKey = 'peer-write-key';
      const cleanup = cleanupList(name);
      try {
        const postgres = await startPostgres();
        cleanup.add(() => postgres.stop());
        const controlPlane = await startControlPlaneStandIn();
        cleanup.add(() => controlPlane.close());
        const destinations = [];
        let admin: Admin | undefined;
        // A topic of its own each start: the broker outlives a round.
        const kafkaTopic = `rudder-bench-${Date.now()}`;
        if (withKafka) {
          // A broker of its own, stopped with the system: the others are measured without a JVM beside them.
          const broker = await startLocalKafka();
          cleanup.add(() => broker.stop());
          const client = new Kafka({ brokers: [broker.brokers], logLevel: logLevel.NOTHING }).admin();
          await client.connect();
          cleanup.add(() => client.disconnect());
          admin = client;
          await admin.createTopics({ topics: [{ topic: kafkaTopic, numPartitions: 1 }], waitForLeaders: true });
          const [hostname, port] = broker.brokers.split(':');
          destinations.push({
            id: 'bench-kafka',
            name: 'bench kafka',
            enabled: true,
            workspaceId: 'bench-workspace',
            isProcessorEnabled: true,
            config: { hostname, port, topic: kafkaTopic, sslEnabled: false, useSASL: false },
            destinationDefinition: { id: 'bench-destdef-kafka', name: 'KAFKA', displayName: 'Kafka', config: {} },
            transformations: [],
          });
        }
        const workspace = path.join(peerDir, 'conf', `${name}.workspace.json`);
        mkdirSync(path.dirname(workspace), { recursive: true });
        writeFileSync(
          workspace,
          JSON.stringify({
            workspaceId: 'bench-workspace',
            enableMetrics: false,
            sources: [
              {
                id: 'bench-source-1',
                name: 'bench http source',
                writeKey,
                enabled: true,
                workspaceId: 'bench-workspace',
                config: {},
                sourceDefinition: { id: 'bench-srcdef-http', name: 'HTTP', category: '', type: 'cloud' },
                destinations,
              },
            ],
            settings: {
              dataRetention: { disableReportingPii: true, useSelfStorage: false, retentionPeriod: 'default' },
            },
          }),
        );
        const port = await freePort();
        const dataDir = path.join(peerDir, 'rsdata');
        rmSync(dataDir, { recursive: true, force: true });
        mkdirSync(dataDir, { recursive: true });
        const log = path.join(peerDir, 'logs', `${name}.log`);
        const env: Record<string, string> = {
          CONFIG_PATH: path.join(peerDir, 'rudder-server/config/config.yaml'),
          APP_TYPE: appType,
          JOBS_DB_HOST: '127.0.0.1',
          JOBS_DB_PORT: String(postgres.port),
          JOBS_DB_USER: 'rudder',
          JOBS_DB_PASSWORD: 'rudder',
          JOBS_DB_DB_NAME: 'jobsdb',
          JOBS_DB_SSL_MODE: 'disable',
          RSERVER_BACKEND_CONFIG_CONFIG_FROM_FILE: 'true',
          RSERVER_BACKEND_CONFIG_CONFIG_JSONPATH: workspace,
          RSERVER_GATEWAY_WEB_PORT: String(port),
          RSERVER_ENABLE_STATS: 'false',
          RSERVER_DIAGNOSTICS_ENABLE_DIAGNOSTICS: 'false',
          RSERVER_WAREHOUSE_MODE: 'off',
          // The Kafka destination's transform in process (Go), not compared with rudder-transformer's (Node).
          RSERVER_PROCESSOR_TRANSFORMER_EMBEDDED_KAFKA_ENABLED: 'true',
          RSERVER_PROCESSOR_TRANSFORMER_EMBEDDED_KAFKA_VERIFY: 'false',
          GO_ENV: 'production',
          LOG_LEVEL: 'WARN',
          INSTANCE_ID: '1',
          RUDDER_TMPDIR: dataDir,
          WORKSPACE_TOKEN: 'unused-config-from-file',
          ...Object.fromEntries(
            [
              'DEST_TRANSFORM_URL',
              'USER_TRANSFORM_URL',
              'CONFIG_BACKEND_URL',
              'SUPPRESS_USER_BACKEND_URL',
              'SUPPRESS_USER_BACKUP_SERVICE_URL',
              'CP_ROUTER_URL',
              'REPORTING_URL',
              'ALERTA_URL',
              'WAREHOUSE_URL',
            ].map((key) => [key, controlPlane.url]),
          ),
        };
        const child = spawn(binary, [], {
          env: { ...process.env, ...env },
          stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
        });
        cleanup.add(() => stopChild(child));
        const url = `http://127.0.0.1:${port}`;
        try {
          await waitFor(`${url}/health`, 120, child);
        } catch (error) {
          throw new Error(`${(error as Error).message}; see ${log}`);
        }
        return {
          url,
          writeKey,
          pid: child.pid as number,
          postgresPid: postgres.pid,
          async downstream(accepted) {
            // Stored: nothing takes jobs off the gateway's queue in this mode, so every stored job is pending.
            if (appType === 'GATEWAY') return postgres.pending();
            if (admin) {
              // Delivered: the messages on the destination's topic.
              const offsets = await admin.fetchTopicOffsets(kafkaTopic);
              return sum(offsets.map((offset) => Number(offset.high)));
            }
            return accepted - postgres.pending();
          },
          stop: () => cleanup.run(),
        };
      } catch (error) {
        await cleanup.run();
        throw error;
      }
    },
  };
}

function cdpSystem(name: SystemName): System {
  const whole = name === 'cdp-start';
  return {
    name,
    downstream: whole ? 'identities resolved into chDB (profiles, segments)' : 'appended to the embedded log',
    async start() {
      const dataDir = path.join(peerDir, 'cdpdata');
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true });
      const writeKey = 'cdp-bench-write-key';
      const port = await freePort();
      const log = path.join(peerDir, 'logs', `${name}.log`);
      const env = {
        CDP_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        CDP_WRITE_KEY: writeKey,
        CDP_READ_KEY: 'cdp-bench-read-key',
        CDP_RATE_LIMIT_PER_SECOND: '0',
        LOG_LEVEL: 'warn',
      };
      const args = whole
        ? [path.join(repoRoot, 'services/cdp/bin/cdp.cjs'), 'start']
        : ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-ingest'];
      const child = spawn(process.execPath, args, {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
      });
      const url = `http://127.0.0.1:${port}`;
      const metrics = async () => (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      try {
        await waitFor(`${url}/readyz`, 120, child);
      } catch (error) {
        await stopChild(child, 5);
        throw new Error(`${(error as Error).message}; see ${log}`);
      }
      return {
        url,
        writeKey,
        pid: child.pid as number,
        downstream: async () =>
          metricOf(await metrics(), whole ? 'cdp_resolver_events_written_total' : 'cdp_ingest_events_accepted_total'),
        // Each read of /metrics starts the monitor's histogram anew: both figures from one read.
        eventLoopDelay: async () => {
          const text = await metrics();
          return {
            p99: metricOf(text, 'cdp_nodejs_eventloop_lag_p99_seconds') * 1000,
            max: metricOf(text, 'cdp_nodejs_eventloop_lag_max_seconds') * 1000,
          };
        },
        stop: () => stopChild(child),
      };
    },
  };
}

/** Child mode: this project's ingest alone, as `cdp ingest` runs it on the embedded log. */
async function serveIngest(): Promise<void> {
  const config = loadConfig({
    CDP_DATA_DIR: process.env.CDP_DATA_DIR,
    HOST: '127.0.0.1',
    PORT: process.env.PORT,
    CDP_WRITE_KEY: process.env.CDP_WRITE_KEY,
    CDP_RATE_LIMIT_PER_SECOND: '0',
  });
  const platform = await startPlatform(config, createLogger({ level: 'warn', name: 'ingest-only' }), ['ingest']);
  process.on('SIGTERM', () => void platform.close().then(() => process.exit(0)));
}

// ------------------------------------------------------------------------------------------------ measuring -------

const batchBody = trackBatchBody(batchSize);

interface Row {
  system: SystemName;
  downstream: string;
  eventsPerSecond: number;
  /** Events the downstream finished per second during the saturated run: what the whole system keeps up with. */
  downstreamPerSecond: number;
  p50: number;
  p99: number;
  cpuSeconds: number;
  cpuUsPerEvent: number;
  rssMb: number;
  postgresPssMb: number;
  postgresCpuSeconds: number;
  fixedEventsPerSecond: number;
  fixedP50: number;
  fixedP99: number;
  /** The server's event-loop delay during the fixed load, ms (p99 / max), where it reports it. */
  fixedLoopDelay?: { p99: number; max: number };
  /** Share of the accepted events the downstream had finished when the saturated load stopped. */
  doneAtEnd: number;
  /** Seconds after the load until the downstream had finished every accepted event (Infinity: not within the wait). */
  caughtUpSeconds: number;
  errors: number;
}

async function measure(system: System): Promise<Row> {
  out(`${system.name}: starting`);
  const running = await system.start();
  try {
    const options = (duration: number, extra: autocannon.Options | object = {}): autocannon.Options => ({
      url: `${running.url}/v1/batch`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(running.writeKey) },
      body: batchBody,
      connections,
      duration,
      ...extra,
    });
    out(`${system.name}: warm-up ${warmupSeconds} s, fixed load ${fixedEventsPerSecond} events/s for ${seconds} s`);
    const warmup = await autocannon(options(warmupSeconds));
    await running.eventLoopDelay?.();
    const fixed = await autocannon(options(seconds, { overallRate: Math.max(1, fixedEventsPerSecond / batchSize) }));
    const fixedDelay = await running.eventLoopDelay?.();
    const serverTree = () => treeOf(running.pid);
    const postgresTree = () => (running.postgresPid ? treeOf(running.postgresPid) : []);
    // PostgreSQL's backends come and go (autovacuum workers, connections): those that ended count in the postmaster.
    const postgresCpu = () =>
      running.postgresPid ? sum(postgresTree().map(cpuOf)) + exitedChildrenCpuOf(running.postgresPid) : 0;
    const downstreamBefore = await running.downstream((warmup['2xx'] + fixed['2xx']) * batchSize);
    const cpuBefore = sum(serverTree().map(cpuOf));
    const postgresCpuBefore = postgresCpu();
    let rssMb = 0;
    let postgresPssMb = 0;
    const sampler = setInterval(() => {
      rssMb = Math.max(rssMb, sum(serverTree().map((pid) => memoryOf(pid, 'VmRSS'))));
      postgresPssMb = Math.max(postgresPssMb, sum(postgresTree().map(pssOf)));
    }, 500);
    out(`${system.name}: saturated for ${seconds} s`);
    let saturated: Result;
    try {
      saturated = await autocannon(options(seconds));
    } finally {
      clearInterval(sampler);
    }
    const cpuSeconds = sum(serverTree().map(cpuOf)) - cpuBefore;
    const postgresCpuSeconds = postgresCpu() - postgresCpuBefore;
    const accepted = [warmup, fixed, saturated].reduce((total, result) => total + result['2xx'], 0) * batchSize;
    const loadEnded = Date.now();
    const downstreamAfter = await running.downstream(accepted);
    const doneAtEnd = downstreamAfter / accepted;
    let caughtUpSeconds = doneAtEnd >= 1 ? 0 : Infinity;
    let polls = 0;
    while (caughtUpSeconds === Infinity && Date.now() - loadEnded < drainSeconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const done = await running.downstream(accepted);
      if (done >= accepted) caughtUpSeconds = (Date.now() - loadEnded) / 1000;
      else if (++polls % 10 === 0) out(`${system.name}: downstream ${done} of ${accepted} events`);
    }
    return {
      system: system.name,
      downstream: system.downstream,
      eventsPerSecond: Math.round((saturated['2xx'] * batchSize) / saturated.duration),
      downstreamPerSecond: Math.round((downstreamAfter - downstreamBefore) / saturated.duration),
      p50: saturated.latency.p50,
      p99: saturated.latency.p99,
      cpuSeconds,
      cpuUsPerEvent: (cpuSeconds * 1e6) / Math.max(1, saturated['2xx'] * batchSize),
      rssMb,
      postgresPssMb,
      postgresCpuSeconds,
      fixedEventsPerSecond: Math.round((fixed['2xx'] * batchSize) / fixed.duration),
      fixedP50: fixed.latency.p50,
      fixedP99: fixed.latency.p99,
      fixedLoopDelay: fixedDelay,
      doneAtEnd,
      caughtUpSeconds,
      errors: [warmup, fixed, saturated].reduce((total, result) => total + result.errors + result.non2xx, 0),
    };
  } finally {
    await running.stop();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    out(usage);
    return;
  }
  const wanted = (process.env.BENCH_SYSTEMS ?? systemNames.join(',')).split(',').map((name) => name.trim());
  const unknown = wanted.filter((name) => !systemNames.includes(name as SystemName));
  if (unknown.length) throw new Error(`unknown BENCH_SYSTEMS ${unknown.join(', ')}; known: ${systemNames.join(', ')}`);
  mkdirSync(path.join(peerDir, 'logs'), { recursive: true });
  const binary = wanted.some((name) => name.startsWith('rudder-')) ? await buildPeer() : '';
  const systems: Record<SystemName, System> = {
    'rudder-gateway': rudderSystem('rudder-gateway', 'GATEWAY', binary),
    'rudder-embedded': rudderSystem('rudder-embedded', 'EMBEDDED', binary),
    'rudder-kafka': rudderSystem('rudder-kafka', 'EMBEDDED', binary),
    'cdp-ingest': cdpSystem('cdp-ingest'),
    'cdp-start': cdpSystem('cdp-start'),
  };
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? wanted : [...wanted].reverse();
    for (const name of order) rows.push(await measure(systems[name as SystemName]));
  }

  out(
    `\npeers benchmark: POST /v1/batch of ${batchSize} track events, ${connections} connections, ${warmupSeconds} s warm-up, ` +
      `${seconds} s fixed at ${fixedEventsPerSecond} events/s, ${seconds} s saturated; ${os.cpus().length} cores; ` +
      `rudder-server ${sources[0]!.commit.slice(0, 9)} with PostgreSQL 15, Node ${process.version}\n`,
  );
  out(
    '| system | downstream | events/s accepted, saturated | downstream events/s meanwhile | p50 ms | p99 ms | ' +
      'server CPU s | CPU µs/event | server RSS MB | PostgreSQL PSS MB | PostgreSQL CPU s | fixed-load events/s | ' +
      'fixed p50 ms | fixed p99 ms | fixed: event-loop delay p99 / max ms | downstream done at end of load | ' +
      'caught up after s | errors |',
  );
  out('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const dash = (value: number, text: string) => (value > 0 ? text : '-');
  for (const row of rows) {
    out(
      `| ${row.system} | ${row.downstream} | ${row.eventsPerSecond} | ${row.downstreamPerSecond} | ${row.p50} | ${row.p99} | ${row.cpuSeconds.toFixed(1)} | ` +
        `${row.cpuUsPerEvent.toFixed(1)} | ${Math.round(row.rssMb)} | ${dash(row.postgresPssMb, String(Math.round(row.postgresPssMb)))} | ` +
        `${dash(row.postgresCpuSeconds, row.postgresCpuSeconds.toFixed(1))} | ${row.fixedEventsPerSecond} | ${row.fixedP50} | ` +
        `${row.fixedP99} | ${row.fixedLoopDelay ? `${Math.round(row.fixedLoopDelay.p99)} / ${Math.round(row.fixedLoopDelay.max)}` : '-'} | ` +
        `${Math.round(row.doneAtEnd * 100)}% | ` +
        `${Number.isFinite(row.caughtUpSeconds) ? row.caughtUpSeconds.toFixed(1) : `> ${drainSeconds}`} | ${row.errors} |`,
    );
  }
  const best = (name: SystemName, of: (row: Row) => number) =>
    Math.max(0, ...rows.filter((row) => row.system === name).map(of));
  const ratio = (ours: SystemName, theirs: SystemName, of: (row: Row) => number) =>
    best(ours, of) && best(theirs, of) ? `${(best(ours, of) / best(theirs, of)).toFixed(2)}×` : 'not measured';
  const accepted = (row: Row) => row.eventsPerSecond;
  const finished = (row: Row) => row.downstreamPerSecond;
  out(
    `\nbest of the runs, ours / theirs: accepted cdp-start / rudder-embedded ${ratio('cdp-start', 'rudder-embedded', accepted)}, ` +
      `cdp-start / rudder-kafka ${ratio('cdp-start', 'rudder-kafka', accepted)}, cdp-ingest / rudder-gateway ` +
      `${ratio('cdp-ingest', 'rudder-gateway', accepted)}; finished downstream cdp-start / rudder-embedded ` +
      `${ratio('cdp-start', 'rudder-embedded', finished)}, cdp-start / rudder-kafka ${ratio('cdp-start', 'rudder-kafka', finished)}`,
  );
  out(`targets: cdp-start >= 2× the peer's whole system; fixed-load p99 < 50 ms`);
}

if (process.argv.includes('--serve-ingest')) await serveIngest();
else await main();
