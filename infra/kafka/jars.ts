// Resolves the Kafka broker jars from Maven Central once (via infra/kafka/pom.xml) and reuses them from infra/kafka/.cache/.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

const kafkaDir = fileURLToPath(new URL('.', import.meta.url));
const pomPath = join(kafkaDir, 'pom.xml');
export const defaultCacheDir = join(kafkaDir, '.cache');

// Written last, so a directory without it is an interrupted copy and never used.
const markerName = '.complete';

export interface EnsureJarsOptions {
  cacheDir?: string;
  logger: Logger;
}

/** The java binary: JAVA_HOME's when set, as the Kafka scripts do, else the one on PATH. */
export function javaCommand(): string {
  const javaHome = process.env.JAVA_HOME;
  return javaHome ? join(javaHome, 'bin', 'java') : 'java';
}

/** Returns the directory holding the broker jars, running Maven only when no complete copy for this pom exists. */
export async function ensureKafkaJars(options: EnsureJarsOptions): Promise<string> {
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  const pom = await readFile(pomPath);
  // Keyed by the pom's hash: bumping the Kafka version in the pom resolves a fresh set instead of mixing jars.
  const pomHash = createHash('sha256').update(pom).digest('hex').slice(0, 12);
  const jarsDir = join(cacheDir, `jars-${pomHash}`);
  if (existsSync(join(jarsDir, markerName))) return jarsDir;

  await requireCommand(javaCommand(), ['-version'], 'Java 17+ (the Kafka broker runs on the JVM)');
  await requireCommand('mvn', ['-v'], 'Maven 3.8+ (it downloads the Kafka jars from Maven Central)');

  // Copy into a private directory and rename it into place, so parallel test workers never see half a copy.
  const stagingDir = join(cacheDir, `staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(stagingDir, { recursive: true });
  const startedAt = Date.now();
  options.logger.info({ pom: pomPath }, 'resolving Kafka jars with Maven (first run only)');
  try {
    await runMaven(stagingDir);
    const jarCount = (await readdir(stagingDir)).filter((name) => name.endsWith('.jar')).length;
    if (jarCount === 0) throw new Error(`mvn finished but copied no jars into ${stagingDir}`);
    await writeFile(join(stagingDir, markerName), `${new Date().toISOString()}\n`);
    await moveIntoPlace(stagingDir, jarsDir);
    options.logger.info({ jarsDir, jarCount, ms: Date.now() - startedAt }, 'Kafka jars ready');
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
  return jarsDir;
}

async function moveIntoPlace(stagingDir: string, jarsDir: string): Promise<void> {
  if (existsSync(jarsDir) && !existsSync(join(jarsDir, markerName))) {
    await rm(jarsDir, { recursive: true, force: true });
  }
  try {
    await rename(stagingDir, jarsDir);
  } catch (error) {
    // Another process finished first; its copy is as good as ours.
    if (!existsSync(join(jarsDir, markerName))) throw error;
  }
}

function runMaven(outputDir: string): Promise<void> {
  const args = ['-B', '-q', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${outputDir}`];
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`mvn ${args.join(' ')} exited with code ${code}:\n${output.trim()}`));
    });
  });
}

function requireCommand(command: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ENOENT' ? `'${command}' is not on PATH` : error.message;
      reject(
        new Error(
          `The local Kafka needs ${what}: ${reason}. Install it, or set KAFKA_BROKERS to use an existing broker.`,
        ),
      );
    });
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`The local Kafka needs ${what}, but '${command} ${args.join(' ')}' exited with code ${code}.`),
        );
    });
  });
}
