// Topics of the embedded log: a directory per topic, a meta file fixing its partition count, a segment per partition.
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { fsyncDir, readJsonIfExists, writeFileAtomic } from './files';
import { openPartition, type Partition } from './partition';

export interface Topic {
  name: string;
  partitions: Partition[];
}

interface TopicMeta {
  format: 1;
  name: string;
  partitions: number;
  createdAt: string;
}

/** Kafka's rule for topic names, which also keeps them safe as directory names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
export const MAX_PARTITIONS = 10_000;

export function checkTopicName(name: string): void {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new Error(
      `invalid topic name ${JSON.stringify(name)}: use 1-249 letters, digits, dots, underscores or dashes`,
    );
  }
}

const partitionFile = (dir: string, index: number): string => path.join(dir, `partition-${index}.log`);

function parseMeta(value: unknown, file: string): TopicMeta {
  const meta = value as Partial<TopicMeta> | undefined;
  if (
    !meta ||
    meta.format !== 1 ||
    typeof meta.name !== 'string' ||
    !Number.isInteger(meta.partitions) ||
    (meta.partitions as number) < 1 ||
    (meta.partitions as number) > MAX_PARTITIONS
  ) {
    throw new Error(`${file} is not a valid topic meta file`);
  }
  return meta as TopicMeta;
}

async function openPartitions(dir: string, name: string, count: number, logger: Logger): Promise<Partition[]> {
  const partitions: Partition[] = [];
  try {
    for (let index = 0; index < count; index++) {
      partitions.push(await openPartition({ file: partitionFile(dir, index), topic: name, index, logger }));
    }
  } catch (error) {
    await Promise.allSettled(partitions.map((partition) => partition.close()));
    throw error;
  }
  return partitions;
}

/** Opens every topic whose meta file exists; a directory without one is a creation a crash interrupted. */
export async function loadTopics(topicsDir: string, logger: Logger): Promise<Map<string, Topic>> {
  const topics = new Map<string, Topic>();
  try {
    for (const entry of await readdir(topicsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(topicsDir, entry.name);
      const metaFile = path.join(dir, 'meta.json');
      const raw = await readJsonIfExists(metaFile);
      if (raw === undefined) {
        logger.warn({ dir }, 'topic directory without meta.json ignored (its creation was interrupted)');
        continue;
      }
      const meta = parseMeta(raw, metaFile);
      topics.set(meta.name, {
        name: meta.name,
        partitions: await openPartitions(dir, meta.name, meta.partitions, logger),
      });
    }
  } catch (error) {
    await closeTopics(topics.values());
    throw error;
  }
  return topics;
}

/**
 * Creates the segment files first and the meta file last (atomically), so a crash half way leaves a
 * topic that does not exist yet rather than one with missing partitions.
 */
export async function createTopic(
  topicsDir: string,
  name: string,
  partitionCount: number,
  logger: Logger,
): Promise<Topic> {
  checkTopicName(name);
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > MAX_PARTITIONS) {
    throw new Error(`topic ${name}: partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitionCount}`);
  }
  const dir = path.join(topicsDir, name);
  await mkdir(dir, { recursive: true });
  await fsyncDir(topicsDir);
  const partitions = await openPartitions(dir, name, partitionCount, logger);
  try {
    await fsyncDir(dir);
    const meta: TopicMeta = { format: 1, name, partitions: partitionCount, createdAt: new Date().toISOString() };
    await writeFileAtomic(path.join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  } catch (error) {
    await Promise.allSettled(partitions.map((partition) => partition.close()));
    throw error;
  }
  logger.info({ topic: name, partitions: partitionCount }, 'topic created');
  return { name, partitions };
}

export async function closeTopics(topics: Iterable<Topic>): Promise<void> {
  const closing: Promise<void>[] = [];
  for (const topic of topics) for (const partition of topic.partitions) closing.push(partition.close());
  const results = await Promise.allSettled(closing);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
