// The profile change records of a written batch: one per survivor that its events landed on or its merges joined.
import type { EventLog, LogRecord } from '@cdp/runtime';
import { encodeProfileChange, type ProfileChange } from '@cdp/schemas';
import type { ResolvedBatch } from './write';

/**
 * Produced at most this many records, and about this many bytes, at a time: kafkajs sends a partition's share of one
 * produce call as one batch, which must stay under a broker's default 1 MB message limit. Counting bytes matters after
 * a restart, when a batch names every earlier merge of its profiles again and records grow with their merged ids.
 */
const produceRecords = 5000;
const produceBytes = 512 * 1024;

export function profileChangesOf(batch: ResolvedBatch, at: number): ProfileChange[] {
  const bySurvivor = new Map<string, { events: number; merged: Set<string> }>();
  const changeOf = (profileId: string) => {
    let change = bySurvivor.get(profileId);
    if (!change) bySurvivor.set(profileId, (change = { events: 0, merged: new Set() }));
    return change;
  };
  for (const { profileId } of batch.events) changeOf(profileId).events += 1;
  // A loser can be collected twice in one batch (through two of its identifiers); it is one merge.
  for (const { loserId, survivorId } of batch.merges) changeOf(survivorId).merged.add(loserId);
  return [...bySurvivor].map(([profileId, { events, merged }]) => ({
    profileId,
    merged: [...merged],
    events,
    at,
    version: batch.version,
  }));
}

/** Keyed by the survivor, so every change of one profile lands on one partition, in the order it was made. */
export async function publishProfileChanges(log: EventLog, topic: string, changes: ProfileChange[]): Promise<void> {
  let chunk: LogRecord[] = [];
  let bytes = 0;
  for (const change of changes) {
    const value = encodeProfileChange(change);
    chunk.push({ key: change.profileId, value });
    bytes += value.length + change.profileId.length;
    if (chunk.length >= produceRecords || bytes >= produceBytes) {
      await log.produce(topic, chunk);
      chunk = [];
      bytes = 0;
    }
  }
  if (chunk.length > 0) await log.produce(topic, chunk);
}
