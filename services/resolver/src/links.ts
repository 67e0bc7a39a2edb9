// This instance's view of the identity link log: applies every record in log order and lets a caller wait for its own.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventLog, LogConsumer } from '@cdp/runtime';
import { decodeLink, encodeLink, type Identifier } from '@cdp/schemas';
import { createIdentityGraph, type ApplyOutcome, type IdentityGraph } from './graph';

export interface LinkLog {
  graph: IdentityGraph;
  /** Appends link records for these identifier sets and resolves once this instance has applied all of them. */
  link(requests: Array<{ messageId: string; identifiers: Identifier[] }>): Promise<ApplyOutcome[]>;
  close(): Promise<void>;
}

export interface LinkLogDeps {
  log: EventLog;
  topic: string;
  /** Prefix of the consumer group; each instance reads the whole log under a group of its own. */
  groupPrefix: string;
  logger: Logger;
  /** How long a link may take to come back from the log before the batch fails (and is delivered again). */
  timeoutMs?: number;
}

export async function openLinkLog(deps: LinkLogDeps): Promise<LinkLog> {
  const instanceId = randomUUID();
  const graph = createIdentityGraph();
  const waiting = new Map<string, (outcome: ApplyOutcome) => void>();
  let sequence = 0;
  const logger = deps.logger.child({ component: 'identity-links', instanceId });

  const consumer: LogConsumer = await deps.log.consume({
    // The graph lives in memory, so every start reads the link log from its beginning under a fresh group.
    groupId: `${deps.groupPrefix}-${instanceId}`,
    topics: [deps.topic],
    maxBatchSize: 5000,
    async handleBatch(batch) {
      for (const record of batch.records) {
        let link;
        try {
          link = decodeLink(record.value);
        } catch (error) {
          // Every instance skips the same undecodable record, so they still agree.
          logger.error({ err: error, offset: record.offset }, 'undecodable identity link skipped');
          continue;
        }
        const outcome = graph.apply(link.identifiers);
        const resolve = waiting.get(link.requestId);
        if (resolve) {
          waiting.delete(link.requestId);
          resolve(outcome);
        }
      }
    },
  });

  return {
    graph,
    async link(requests) {
      if (requests.length === 0) return [];
      const timeoutMs = deps.timeoutMs ?? 30_000;
      const pending = requests.map((request) => {
        const requestId = `${instanceId}:${sequence++}`;
        const applied = new Promise<ApplyOutcome>((resolve) => waiting.set(requestId, resolve));
        return { requestId, applied, request };
      });
      await deps.log.produce(
        deps.topic,
        pending.map(({ requestId, request }) => ({
          key: 'links',
          value: encodeLink({ requestId, messageId: request.messageId, identifiers: request.identifiers }),
        })),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`identity links not applied within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([Promise.all(pending.map((entry) => entry.applied)), timeout]);
      } finally {
        clearTimeout(timer);
        for (const { requestId } of pending) waiting.delete(requestId);
      }
    },
    close: () => consumer.close(),
  };
}
