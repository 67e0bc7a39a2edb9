// Starts a single-node KRaft Apache Kafka from Maven Central jars with the machine's Java, for tests and dev without Docker.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino, type Logger } from 'pino';
import { ensureKafkaJars, javaCommand } from './jars';
import { kafkaAnswers } from './probe';

export interface LocalKafkaOptions {
  /** Where the broker keeps its logs and metadata. Kept on stop; by default a temp dir that stop() removes. */
  dataDir?: string;
  logger?: Logger;
  /** Listen on these ports (a restart on a kept dataDir that clients should find where it was); free ones by default. */
  ports?: { broker: number; controller: number };
}

export interface LocalKafka {
  /** Bootstrap address, `127.0.0.1:PORT`. */
  brokers: string;
  /** The broker's ports, to start it again where clients look for it. */
  ports: { broker: number; controller: number };
  /** The broker JVM's process id, to signal it (SIGKILL, SIGSTOP) the way a crash or a stall would. */
  pid: number;
  stop(): Promise<void>;
}

const host = '127.0.0.1';
const readyTimeoutMs = 60_000;
const pollIntervalMs = 250;
const stopTimeoutMs = 20_000;
const keptLogLines = 60;
const tempPrefix = 'cdp-kafka-';
const ownerFile = 'owner.pid';

export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const startedAt = Date.now();
  const jarsDir = await ensureKafkaJars({ logger });
  const ownsDataDir = options.dataDir === undefined;
  if (ownsDataDir) await removeAbandonedDataDirs();
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), tempPrefix)));
  await mkdir(dataDir, { recursive: true });
  if (ownsDataDir) await writeFile(join(dataDir, ownerFile), String(process.pid));

  const [brokerPort, controllerPort] = options.ports
    ? [options.ports.broker, options.ports.controller]
    : await freePorts();
  const files = await writeConfig(dataDir, brokerPort, controllerPort);
  const classpath = join(jarsDir, '*');
  const jvmOptions = [
    '-Xms256m',
    '-Xmx512m',
    '-XX:-UsePerfData',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${files.log4j}`,
  ];

  // A kept dataDir is formatted already and keeps its cluster id; only the ports in server.properties change.
  if (!existsSync(join(files.logDir, 'meta.properties'))) {
    try {
      // `=` keeps a random id that starts with '-' from being read as an option.
      await runToCompletion(javaCommand(), [
        ...jvmOptions,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${clusterId()}`,
        '-c',
        files.server,
      ]);
    } catch (error) {
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  const broker = spawnTiedToParent(javaCommand(), [...jvmOptions, '-cp', classpath, 'kafka.Kafka', files.server]);
  const recentLines = followOutput(broker, logger.child({ component: 'kafka-broker' }));
  const exited = new Promise<string>((resolve) => {
    broker.on('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    broker.on('error', (error) => resolve(`spawn error: ${error.message}`));
  });
  // Last resort when the caller never calls stop(): a normal exit of this process takes the broker with it.
  const killOnExit = (): void => {
    broker.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await terminate(broker, exited);
      process.off('exit', killOnExit);
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      logger.info({ brokers: `${host}:${brokerPort}` }, 'local Kafka stopped');
    })();
    return stopping;
  };

  try {
    await waitUntilReady(`${host}:${brokerPort}`, exited, recentLines);
  } catch (error) {
    await stop();
    throw error;
  }
  const brokers = `${host}:${brokerPort}`;
  logger.info({ brokers, dataDir, ms: Date.now() - startedAt }, 'local Kafka ready');
  return { brokers, ports: { broker: brokerPort, controller: controllerPort }, pid: broker.pid ?? -1, stop };
}

/** Forwards the broker's log lines and keeps the last few for error messages. */
function followOutput(broker: ChildProcess, brokerLog: Logger): string[] {
  const recentLines: string[] = [];
  for (const stream of [broker.stdout, broker.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      recentLines.push(line);
      if (recentLines.length > keptLogLines) recentLines.shift();
      // The broker is chatty at INFO; only its errors are worth a line in the caller's log by default.
      if (/\] (ERROR|FATAL) /.test(line)) brokerLog.warn(line);
      else brokerLog.debug(line);
    });
  }
  return recentLines;
}

async function waitUntilReady(brokers: string, exited: Promise<string>, recentLines: string[]): Promise<void> {
  let exitReason: string | undefined;
  void exited.then((reason) => {
    exitReason = reason;
  });
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exitReason !== undefined) {
      throw new Error(
        `Local Kafka exited before it was ready (${exitReason}). Last broker output:\n${recentLines.join('\n')}`,
      );
    }
    if (await kafkaAnswers(brokers)) return;
    await Promise.race([delay(pollIntervalMs), exited]);
  }
  throw new Error(
    `Local Kafka was not ready within ${readyTimeoutMs / 1000}s. Last broker output:\n${recentLines.join('\n')}`,
  );
}

async function terminate(broker: ChildProcess, exited: Promise<string>): Promise<void> {
  if (broker.exitCode !== null || broker.signalCode !== null) return;
  broker.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), stopTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!gone) {
    broker.kill('SIGKILL');
    await exited;
  }
}

const setprivPaths = ['/usr/bin/setpriv', '/bin/setpriv'];

/**
 * Spawns the JVM so that it cannot outlive this process: on Linux, util-linux `setpriv --pdeathsig` has the kernel
 * kill it when we die, even by SIGKILL; elsewhere only the 'exit' handler above covers it.
 */
function spawnTiedToParent(command: string, args: string[]): ChildProcess {
  const setpriv = process.platform === 'linux' ? setprivPaths.find((path) => existsSync(path)) : undefined;
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  if (setpriv) return spawn(setpriv, ['--pdeathsig', 'KILL', '--', command, ...args], { stdio });
  return spawn(command, args, { stdio });
}

async function writeConfig(
  dataDir: string,
  brokerPort: number,
  controllerPort: number,
): Promise<{ server: string; log4j: string; logDir: string }> {
  const server = join(dataDir, 'server.properties');
  const logDir = join(dataDir, 'kraft-logs');
  const log4j = join(dataDir, 'log4j.properties');
  const properties = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${brokerPort},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${brokerPort}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': logDir,
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    // 50 partitions by default; creating them delays the first consumer group by seconds on a small machine.
    'offsets.topic.num.partitions': '5',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '5',
    'auto.create.topics.enable': 'false',
    'group.initial.rebalance.delay.ms': '0',
  };
  await writeFile(
    server,
    Object.entries(properties)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n') + '\n',
  );
  await writeFile(
    log4j,
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      // The state-change and request loggers repeat every partition move; their WARNs are enough here.
      'log4j.logger.state.change.logger=WARN',
      'log4j.logger.kafka.request.logger=WARN',
      '',
    ].join('\n'),
  );
  return { server, log4j, logDir };
}

/** Temp data dirs of processes that died without stop() (killed test workers) would pile up in /tmp otherwise. */
async function removeAbandonedDataDirs(): Promise<void> {
  const names = (await readdir(tmpdir())).filter((name) => name.startsWith(tempPrefix));
  for (const name of names) {
    const dir = join(tmpdir(), name);
    const ownerPid = Number(await readFile(join(dir, ownerFile), 'utf8').catch(() => ''));
    if (ownerPid > 0 && !isAlive(ownerPid)) await rm(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Asks the OS for two free ports, holding both at once so they never come back equal. */
async function freePorts(): Promise<[number, number]> {
  const listen = (): Promise<Server> =>
    new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, host, () => resolve(server));
    });
  const servers = [await listen(), await listen()] as const;
  const ports: [number, number] = [
    (servers[0].address() as AddressInfo).port,
    (servers[1].address() as AddressInfo).port,
  ];
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, as `kafka-storage random-uuid` prints. */
function clusterId(): string {
  return randomBytes(16).toString('base64url');
}

function runToCompletion(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`Formatting the local Kafka storage failed (exit code ${code}):\n${output.trim()}`));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
