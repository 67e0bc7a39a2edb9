// Identity graph snapshots in ClickHouse: node rows first and the header last, so only finished snapshots are loaded.
// Nodes hold pseudonyms, as the graph does, never identifiers.
import type { Logger } from 'pino';
import { named, type ClickHouseClient } from '@cdp/runtime';
import type { GraphSnapshot, SnapshotNode } from './graph';

export interface StoredSnapshot {
  snapshot: GraphSnapshot;
  /** The link-log offset right after the last record the snapshot holds: where replay continues. */
  nextOffset: string;
}

export interface SnapshotStore {
  /** Finished, whole snapshots, newest first; one whose node rows do not add up is skipped with a warning. */
  candidates(): AsyncGenerator<StoredSnapshot>;
  /** Writes the node rows, then the header, then drops snapshots older than the newest few. */
  save(stored: StoredSnapshot): Promise<void>;
}

export interface SnapshotStoreOptions {
  /** Node rows per insert and per read. */
  chunkRows?: number;
  /** How many of the newest snapshots survive a save. */
  keep?: number;
}

interface Header {
  version: number;
  next_offset: string;
  seq: number;
  nodes: number;
}

type NodeRow = [seq: number, type: SnapshotNode['type'], value: string, rootSeq: number, profileId: string];

export function createSnapshotStore(
  client: ClickHouseClient,
  logger: Logger,
  options: SnapshotStoreOptions = {},
): SnapshotStore {
  const chunkRows = options.chunkRows ?? 100_000;
  const keep = Math.max(1, options.keep ?? 2);
  const snapshotLogger = logger.child({ component: 'identity-snapshots' });

  async function headers(): Promise<Header[]> {
    const result = await client.query(
      named('resolver.readSnapshotHeaders', {
        query: 'SELECT version, next_offset, seq, nodes FROM identity_snapshots FINAL ORDER BY version DESC',
        format: 'JSONEachRow',
      }),
    );
    return (await result.json<Header>()).map((row) => ({
      ...row,
      version: Number(row.version),
      seq: Number(row.seq),
      nodes: Number(row.nodes),
    }));
  }

  /**
   * Reads the node rows of one version a page of seqs at a time: no single giant result, and on chDB other queries
   * get their turn between pages. FINAL collapses the rows two instances wrote for the same version.
   */
  async function readNodes(header: Header): Promise<SnapshotNode[]> {
    const nodes: SnapshotNode[] = [];
    for (let from = 0; from < header.seq; from += chunkRows) {
      const result = await client.query(
        named('resolver.readSnapshotNodes', {
          query: `SELECT seq, type, value, root_seq, profile_id FROM identity_snapshot_nodes FINAL
                WHERE version = {version:UInt64} AND seq >= {from:UInt64} AND seq < {to:UInt64} ORDER BY seq`,
          query_params: { version: header.version, from, to: from + chunkRows },
          format: 'JSONCompactEachRow',
        }),
      );
      for (const [seq, type, value, rootSeq, profileId] of await result.json<NodeRow>()) {
        nodes.push(
          profileId
            ? { seq: Number(seq), type, value, rootSeq: Number(rootSeq), profileId }
            : { seq: Number(seq), type, value, rootSeq: Number(rootSeq) },
        );
      }
    }
    return nodes;
  }

  async function prune(): Promise<void> {
    const versions = (await headers()).map((header) => header.version);
    if (versions.length <= keep) return;
    const oldestKept = versions[keep - 1] as number;
    // The header goes first: a loader never picks a snapshot whose node rows are being deleted.
    await client.command(
      named('resolver.pruneSnapshotHeaders', {
        query: 'DELETE FROM identity_snapshots WHERE version < {version:UInt64}',
        query_params: { version: oldestKept },
      }),
    );
    await client.command(
      named('resolver.pruneSnapshotNodes', {
        query: 'DELETE FROM identity_snapshot_nodes WHERE version < {version:UInt64}',
        query_params: { version: oldestKept },
      }),
    );
  }

  return {
    async *candidates() {
      for (const header of await headers()) {
        const nodes = await readNodes(header);
        if (nodes.length !== header.nodes || header.nodes !== header.seq) {
          snapshotLogger.warn(
            { version: header.version, expected: header.nodes, found: nodes.length },
            'identity snapshot is not whole; trying an older one',
          );
          continue;
        }
        yield { snapshot: { version: header.version, seq: header.seq, nodes }, nextOffset: header.next_offset };
      }
    },

    async save({ snapshot, nextOffset }) {
      const { version } = snapshot;
      for (let start = 0; start < snapshot.nodes.length; start += chunkRows) {
        await client.insert(
          named('resolver.writeSnapshotNodes', {
            table: 'identity_snapshot_nodes',
            values: snapshot.nodes
              .slice(start, start + chunkRows)
              .map((node) => [version, node.seq, node.type, node.value, node.rootSeq, node.profileId ?? '']),
            format: 'JSONCompactEachRow',
          }),
        );
      }
      await client.insert(
        named('resolver.writeSnapshotHeader', {
          table: 'identity_snapshots',
          values: [{ version, next_offset: nextOffset, seq: snapshot.seq, nodes: snapshot.nodes.length }],
          format: 'JSONEachRow',
        }),
      );
      await prune();
    },
  };
}
