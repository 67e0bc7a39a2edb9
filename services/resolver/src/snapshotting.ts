// When to snapshot the identity graph: every N applied link records and once on close, one write at a time, off the line.
import type { Logger } from 'pino';
import type { Metrics } from '@cdp/runtime';
import type { IdentityGraph } from './graph';
import type { SnapshotStore } from './snapshots';

export interface Snapshotter {
  /** Called after each link record; takes a snapshot when one is due and no write is under way. */
  afterRecord(graph: IdentityGraph, nextOffset: string): void;
  /** Waits for the write under way, then writes one more if records were applied since the last one written. */
  close(graph: IdentityGraph, nextOffset: string): Promise<void>;
}

export interface SnapshotterDeps {
  store: SnapshotStore;
  /** A snapshot is due each time the version passes a multiple of this. */
  every: number;
  /** The version the graph started from (its restored snapshot's, or 0). */
  startVersion: number;
  logger: Logger;
  metrics: Metrics;
}

export function createSnapshotter(deps: SnapshotterDeps): Snapshotter {
  const every = Math.max(1, Math.floor(deps.every));
  const outcomes = deps.metrics.counter(
    'cdp_resolver_identity_snapshots_total',
    'Identity graph snapshots written or failed',
    ['outcome'],
  );
  let taken = deps.startVersion;
  let written = deps.startVersion;
  let inFlight: Promise<void> | null = null;

  function write(graph: IdentityGraph, nextOffset: string): Promise<void> {
    // The copy is taken now, in step with the log; only the ClickHouse writes run while later records are applied.
    const snapshot = graph.snapshot();
    taken = snapshot.version;
    const startedAt = Date.now();
    return deps.store
      .save({ snapshot, nextOffset })
      .then(() => {
        written = Math.max(written, snapshot.version);
        outcomes.inc({ outcome: 'written' });
        deps.logger.info(
          { version: snapshot.version, nodes: snapshot.nodes.length, nextOffset, ms: Date.now() - startedAt },
          'identity snapshot written',
        );
      })
      .catch((error: unknown) => {
        // The graph and the log are fine without it: the next due snapshot, or the one on close, tries again.
        outcomes.inc({ outcome: 'failed' });
        deps.logger.error({ err: error, version: snapshot.version }, 'identity snapshot failed');
      });
  }

  return {
    afterRecord(graph, nextOffset) {
      // Due at each multiple of `every`, so instances in step write the same versions, which collapse.
      const due = Math.floor(graph.version / every) > Math.floor(taken / every);
      if (!due || inFlight) return;
      inFlight = write(graph, nextOffset).finally(() => {
        inFlight = null;
      });
    },
    async close(graph, nextOffset) {
      await inFlight;
      if (graph.version > written) await write(graph, nextOffset);
    },
  };
}
