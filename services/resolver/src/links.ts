// This instance's view of the identity link log: applies every record in log order and lets a caller wait for its own.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventLog, LogConsumer, Metrics } from '@cdp/runtime';
import type { Pseudonymise } from '@cdp/privacy';
import { decodeLink, encodeLink, type Identifier } from '@cdp/schemas';
import { createIdentityGraph, type ApplyOutcome, type GraphOptions, type IdentityGraph } from './graph';
import { identifierKey, profileIdOf } from './identifiers';
import { createSnapshotter } from './snapshotting';
import type { SnapshotStore } from './snapshots';

export interface LinkLog {
  /** The graph, asked in identifiers: each is turned into its pseudonym before the graph, which holds only those, sees it. */
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
  metrics: Metrics;
  /** Where the graph is snapshotted and restored from; without it every start replays the whole log. */
  snapshots?: SnapshotStore;
  /** Applied link records between snapshots. Default 100000. */
  snapshotEvery?: number;
  /** The identity limits of the graph (GraphOptions). */
  graph?: GraphOptions;
  /** The pseudonym of an identifier: what link records and the graph (and its snapshots) hold instead of it. */
  pseudonymise: Pseudonymise;
}

/** Pseudonyms remembered per process, so an identifier in every event of a batch is hashed once; plaintext stays in memory. */
const rememberedPseudonyms = 100_000;

/** The graph asked in identifiers, each turned into its pseudonym (remembered for a while) before the graph sees it. */
function askedByIdentifier(graph: IdentityGraph, pseudonymise: Pseudonymise): IdentityGraph {
  const remembered = new Map<string, Identifier>();
  const pseudonymOf = (identifier: Identifier) => {
    const key = identifierKey(identifier);
    let pseudonym = remembered.get(key);
    if (!pseudonym) {
      if (remembered.size >= rememberedPseudonyms) remembered.clear();
      pseudonym = pseudonymise(identifier);
      remembered.set(key, pseudonym);
    }
    return pseudonym;
  };
  return {
    apply: (identifiers) => graph.apply(identifiers.map(pseudonymOf)),
    settled: (identifiers) => graph.settled(identifiers.map(pseudonymOf)),
    profileOf: (identifier) => graph.profileOf(pseudonymOf(identifier)),
    profileForEvent: (identifiers) => graph.profileForEvent(identifiers.map(pseudonymOf)),
    mergesOf: (identifier) => graph.mergesOf(pseudonymOf(identifier)),
    unwrittenMergesOf: (identifier) => graph.unwrittenMergesOf(pseudonymOf(identifier)),
    snapshot: () => graph.snapshot(),
    writtenProfileOf: (identifier) => graph.writtenProfileOf(pseudonymOf(identifier)),
    markWritten: (identifier, profileId) => graph.markWritten(pseudonymOf(identifier), profileId),
    get version() {
      return graph.version;
    },
    get size() {
      return graph.size;
    },
  };
}

interface Restored {
  graph: IdentityGraph;
  nextOffset: string;
}

/** The newest snapshot that fits this log and rebuilds a graph; null means replay from the beginning. */
async function restore(
  store: SnapshotStore,
  endOffset: bigint,
  logger: Logger,
  options: GraphOptions,
): Promise<Restored | null> {
  try {
    for await (const { snapshot, nextOffset } of store.candidates()) {
      if (BigInt(nextOffset) > endOffset) {
        // The log is shorter than the snapshot says: it is not the log the snapshot was taken from.
        logger.warn(
          { version: snapshot.version, nextOffset, endOffset: endOffset.toString() },
          'identity snapshot is ahead of the link log; not used',
        );
        continue;
      }
      try {
        return { graph: createIdentityGraph(snapshot, options), nextOffset };
      } catch (error) {
        logger.warn(
          { err: error, version: snapshot.version },
          'identity snapshot does not rebuild a graph; trying an older one',
        );
      }
    }
  } catch (error) {
    logger.error({ err: error }, 'identity snapshots could not be read; replaying the link log from its beginning');
  }
  return null;
}

export async function openLinkLog(deps: LinkLogDeps): Promise<LinkLog> {
  const instanceId = randomUUID();
  const startedAt = Date.now();
  const waiting = new Map<string, (outcome: ApplyOutcome) => void>();
  let sequence = 0;
  const logger = deps.logger.child({ component: 'identity-links', instanceId });
  const restoredVersion = deps.metrics.gauge(
    'cdp_resolver_identity_restored_version',
    'Link-log version of the snapshot the identity graph started from (0: none)',
  );
  const replayedRecords = deps.metrics.gauge(
    'cdp_resolver_identity_replayed_records',
    'Link records read at start before the identity graph caught up with the log',
  );

  // The link topic has one partition: its end now is what this instance must read to be caught up.
  const endOffset = BigInt((await deps.log.endOffsets(deps.topic))[0] ?? '0');
  const restored = deps.snapshots ? await restore(deps.snapshots, endOffset, logger, deps.graph ?? {}) : null;
  const graph = restored?.graph ?? createIdentityGraph(undefined, deps.graph);
  const restoredFrom = { version: graph.version, nodes: graph.size };
  let nextOffset = BigInt(restored?.nextOffset ?? '0');
  logger.info(
    {
      restoredVersion: restoredFrom.version,
      restoredNodes: restoredFrom.nodes,
      fromOffset: nextOffset.toString(),
      endOffset: endOffset.toString(),
    },
    restored ? 'identity graph restored from a snapshot' : 'identity graph starts empty',
  );
  restoredVersion.set(restoredFrom.version);

  let replayed = 0;
  let caughtUp = false;
  const catchUp = () => {
    caughtUp = true;
    replayedRecords.set(replayed);
    logger.info(
      {
        restoredVersion: restoredFrom.version,
        restoredNodes: restoredFrom.nodes,
        replayed,
        version: graph.version,
        ms: Date.now() - startedAt,
      },
      'identity graph caught up with the link log',
    );
  };
  if (nextOffset >= endOffset) catchUp();

  const snapshotter = deps.snapshots
    ? createSnapshotter({
        store: deps.snapshots,
        every: deps.snapshotEvery ?? 100_000,
        startVersion: graph.version,
        logger,
        metrics: deps.metrics,
      })
    : null;

  function apply(value: Buffer, offset: string): void {
    let link;
    try {
      link = decodeLink(value);
    } catch (error) {
      // Every instance skips the same undecodable record, so they still agree.
      logger.error({ err: error, offset }, 'undecodable identity link skipped');
      return;
    }
    // A plaintext record (written before pseudonyms) is applied as its pseudonyms, each new one keeping the profile id
    // its plaintext gave, so profiles keep their ids.
    const outcome = link.pseudonymous
      ? graph.apply(link.identifiers)
      : graph.apply(link.identifiers.map(deps.pseudonymise), link.identifiers.map(profileIdOf));
    snapshotter?.afterRecord(graph, nextOffset.toString());
    const resolve = waiting.get(link.requestId);
    if (resolve) {
      waiting.delete(link.requestId);
      resolve(outcome);
    }
  }

  const consumer: LogConsumer = await deps.log.consume({
    // The graph lives in memory, so every start reads the link log under a fresh group: after the snapshot, if any.
    groupId: `${deps.groupPrefix}-${instanceId}`,
    topics: [deps.topic],
    startOffsets: { [deps.topic]: { 0: nextOffset.toString() } },
    maxBatchSize: 5000,
    async handleBatch(batch) {
      for (const record of batch.records) {
        const offset = BigInt(record.offset);
        // A record delivered again must not be applied again: the version counts each record once.
        if (offset < nextOffset) continue;
        nextOffset = offset + 1n;
        apply(record.value, record.offset);
        if (!caughtUp) {
          replayed += 1;
          if (nextOffset >= endOffset) catchUp();
        }
      }
    },
  });

  const asked = askedByIdentifier(graph, deps.pseudonymise);
  return {
    graph: asked,
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
          value: encodeLink({
            requestId,
            messageId: request.messageId,
            identifiers: request.identifiers.map(deps.pseudonymise),
            pseudonymous: true,
          }),
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
    async close() {
      await consumer.close();
      await snapshotter?.close(graph, nextOffset.toString());
    },
  };
}
