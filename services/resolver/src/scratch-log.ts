// An embedded event log in a fresh temporary folder, for this package's tests: real appends and consumers, no server.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openEmbeddedLog, type EventLog, type TopicSpec } from '@cdp/runtime';

/** The log with its topics created, and what closes it and removes its folder. */
export async function openScratchLog(topics: TopicSpec[]): Promise<{ log: EventLog; remove(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-resolver-log-'));
  const log = await openEmbeddedLog({ dir, logger: pino({ level: 'silent' }), pollIntervalMs: 100 });
  await log.ensureTopics(topics);
  return {
    log,
    async remove() {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
