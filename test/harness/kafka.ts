// Gives a test a Kafka broker: KAFKA_BROKERS if set, else a testcontainers broker when Docker answers, else the local jars.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startLocalKafka } from '../../infra/kafka/local-kafka';
import { kafkaAnswers } from '../../infra/kafka/probe';

export interface ProvidedKafka {
  /** Comma-separated bootstrap addresses. */
  brokers: string;
  source: 'env' | 'testcontainers' | 'local';
  stop(): Promise<void>;
}

// Same version as infra/kafka/pom.xml: kafkajs 2.2.4 cannot talk to Kafka 4.
const kafkaImage = 'apache/kafka:3.9.1';
const dockerCheckTimeoutMs = 1_500;
const containerReadyTimeoutMs = 90_000;

/** Without a logger the one line naming the source goes to stderr. */
export async function provideKafka(logger?: Logger): Promise<ProvidedKafka> {
  const announce = (kafka: ProvidedKafka, how: string): ProvidedKafka => {
    const message = `Kafka for tests: ${how} (source=${kafka.source}, brokers=${kafka.brokers})`;
    if (logger) logger.info({ source: kafka.source, brokers: kafka.brokers }, message);
    else process.stderr.write(`${message}\n`);
    return kafka;
  };
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) return announce({ brokers: fromEnv, source: 'env', stop: async () => undefined }, 'KAFKA_BROKERS');
  if (await dockerAnswers()) return announce(await startKafkaContainer(), `${kafkaImage} container`);
  const local = await startLocalKafka(logger ? { logger } : {});
  return announce(
    { brokers: local.brokers, source: 'local', stop: local.stop },
    'local Kafka jars, no Docker engine answered',
  );
}

/**
 * Cheap on purpose: with no DOCKER_HOST and no socket file there is nothing to ask, and importing testcontainers
 * (slow) is skipped. Otherwise testcontainers decides, within a short timeout.
 */
async function dockerAnswers(): Promise<boolean> {
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')];
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir) sockets.push(join(runtimeDir, 'docker.sock'));
  const socket = sockets.find((path) => existsSync(path));
  if (!process.env.DOCKER_HOST && !socket) return false;
  if (!process.env.DOCKER_HOST && socket && !(await pingDockerSocket(socket))) return false;
  // The import counts against the timeout too: testcontainers alone takes most of a second to load.
  const check = import('testcontainers')
    .then(({ getContainerRuntimeClient }) => getContainerRuntimeClient())
    .then(() => true);
  return withTimeout(check, dockerCheckTimeoutMs, false);
}

function pingDockerSocket(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ping = request({ socketPath, path: '/_ping', method: 'GET', timeout: dockerCheckTimeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    ping.on('timeout', () => ping.destroy());
    ping.on('error', () => resolve(false));
    ping.end();
  });
}

/**
 * The advertised listener must carry the host port Docker maps, known only after start; so the container waits for a
 * start script that we copy in once the port is known (the approach of testcontainers' own Kafka modules).
 */
async function startKafkaContainer(): Promise<ProvidedKafka> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const startScript = '/tmp/cdp-start-kafka.sh';
  const container = await new GenericContainer(kafkaImage)
    .withExposedPorts(9092)
    .withEnvironment({
      CLUSTER_ID: '4L6g3nShT-eMCtK--X86sw',
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9093,CONTROLLER://0.0.0.0:9094',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9094',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '5',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_NUM_PARTITIONS: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_HEAP_OPTS: '-Xmx512m -Xms256m',
    })
    .withCommand([
      'sh',
      '-c',
      `echo waiting-for-start-script; while [ ! -f ${startScript} ]; do sleep 0.1; done; ${startScript}`,
    ])
    .withWaitStrategy(Wait.forLogMessage('waiting-for-start-script'))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(9092);
  const script = `#!/bin/bash\nexport KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://${host}:${port},BROKER://localhost:9093\nexec /etc/kafka/docker/run\n`;
  const stop = async (): Promise<void> => {
    await container.stop();
  };
  try {
    await container.copyContentToContainer([{ content: script, target: startScript, mode: 0o755 }]);
    const deadline = Date.now() + containerReadyTimeoutMs;
    while (!(await kafkaAnswers(`${host}:${port}`))) {
      if (Date.now() > deadline)
        throw new Error(`${kafkaImage} did not serve metadata within ${containerReadyTimeoutMs / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { brokers: `${host}:${port}`, source: 'testcontainers', stop };
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}
