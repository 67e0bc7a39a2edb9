// Committed offsets of one consumer group, one JSON file per group, replaced atomically on every commit.
import path from 'node:path';
import { readJsonIfExists, writeFileAtomic } from './files';

export interface GroupOffsets {
  /** The next offset to consume (Kafka's meaning of a committed offset), or undefined if never committed. */
  committed(topic: string, partition: number): number | undefined;
  /** Resolves once the offset is durable. Commits arriving during a write share the next write. */
  commit(topic: string, partition: number, nextOffset: number): Promise<void>;
}

interface GroupFile {
  format: 1;
  groupId: string;
  /** topic → partition → next offset, as decimal strings like Kafka's int64 offsets. */
  offsets: Record<string, Record<string, string>>;
}

/** A file name for any group id: encoded so it cannot escape the directory, prefixed so it is never `.` or `..`. */
export function groupFile(groupsDir: string, groupId: string): string {
  return path.join(groupsDir, `group-${encodeURIComponent(groupId)}.json`);
}

export async function openGroupOffsets(groupsDir: string, groupId: string): Promise<GroupOffsets> {
  const file = groupFile(groupsDir, groupId);
  const raw = (await readJsonIfExists(file)) as Partial<GroupFile> | undefined;
  if (raw !== undefined && (raw.format !== 1 || typeof raw.offsets !== 'object' || raw.offsets === null)) {
    throw new Error(`${file} is not a valid consumer group offsets file`);
  }
  const offsets: Record<string, Record<string, string>> = raw?.offsets ?? {};

  let writing: Promise<void> = Promise.resolve();
  let nextWrite: Promise<void> | null = null;

  function persist(): Promise<void> {
    // One write at a time; everything committed while it runs goes out in the single write queued behind it.
    nextWrite ??= writing
      .catch(() => undefined)
      .then(() => {
        nextWrite = null;
        const content: GroupFile = { format: 1, groupId, offsets };
        writing = writeFileAtomic(file, `${JSON.stringify(content)}\n`);
        return writing;
      });
    return nextWrite;
  }

  return {
    committed(topic, partition) {
      const value = offsets[topic]?.[String(partition)];
      return value === undefined ? undefined : Number(value);
    },
    commit(topic, partition, nextOffset) {
      (offsets[topic] ??= {})[String(partition)] = String(nextOffset);
      return persist();
    },
  };
}
