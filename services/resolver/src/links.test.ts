// The link log over the embedded event log: snapshots while applying, and a restart that restores and replays only the tail.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, openEmbeddedLog, waitFor, type EventLog, type Metrics } from '@cdp/runtime';
import type { Identifier } from '@cdp/schemas';
import type { IdentityGraph } from './graph';
import { openLinkLog, type LinkLog } from './links';
import type { SnapshotStore, StoredSnapshot } from './snapshots';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const user = (value: string): Identifier => ({ type: 'user_id', value });
const anon = (value: string): Identifier => ({ type: 'anonymous_id', value });
const email = (value: string): Identifier => ({ type: 'email', value });

async function openLog(): Promise<EventLog> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-links-'));
  const log = await openEmbeddedLog({ dir, logger, pollIntervalMs: 100 });
  cleanups.push(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await log.ensureTopics([{ name: 'links', partitions: 1 }]);
  return log;
}

/** Snapshots kept in memory as plain data, newest first on load, like the ClickHouse store. */
function memoryStore(): SnapshotStore & { saved: StoredSnapshot[] } {
  const saved: StoredSnapshot[] = [];
  return {
    saved,
    async *candidates() {
      for (const stored of [...saved].sort((a, b) => b.snapshot.version - a.snapshot.version)) yield structuredClone(stored);
    },
    async save(stored) {
      saved.push(structuredClone(stored));
    },
  };
}

async function open(log: EventLog, options: { store?: SnapshotStore; every?: number; metrics?: Metrics } = {}): Promise<LinkLog> {
  const links = await openLinkLog({
    log,
    topic: 'links',
    groupPrefix: 'test-links',
    logger,
    metrics: options.metrics ?? createMetrics(),
    snapshots: options.store,
    snapshotEvery: options.every,
  });
  cleanups.push(() => links.close());
  return links;
}

const linkEach = async (links: LinkLog, records: Identifier[][]) => {
  for (const [index, identifiers] of records.entries()) await links.link([{ messageId: `m${index}`, identifiers }]);
};

async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  const { values } = (await metric?.get()) ?? { values: [] };
  return values.find((entry) => Object.entries(labels).every(([key, value]) => entry.labels[key] === value))?.value;
}

function answers(graph: IdentityGraph, identifiers: Identifier[]) {
  return {
    version: graph.version,
    size: graph.size,
    profiles: identifiers.map((identifier) => graph.profileOf(identifier)),
    merges: identifiers.map((identifier) => graph.mergesOf(identifier)),
    settled: identifiers.map((identifier) => graph.settled([identifier, anon('a')])),
    snapshot: graph.snapshot(),
  };
}

const history: Identifier[][] = [
  [anon('a')],
  [anon('b')],
  [email('e'), anon('b')],
  [user('u1'), anon('a'), email('e')],
  [user('u2'), anon('kiosk')],
  [user('u1'), anon('kiosk')],
  [anon('c')],
  [anon('c'), anon('d')],
  [anon('d'), email('e')],
  [anon('f')],
];
const later: Identifier[][] = [[anon('f'), anon('a')], [user('u3'), anon('g')], [anon('g'), anon('kiosk')], [email('h'), anon('c')]];
const everyone = [...new Map([...history, ...later].flat().map((identifier) => [`${identifier.type}:${identifier.value}`, identifier])).values()];

describe('identity link log snapshots', () => {
  it('snapshots every N records and on close, and a restart restores the newest and replays only the tail', { timeout: 20_000 }, async () => {
    const log = await openLog();
    const store = memoryStore();
    const first = await open(log, { store, every: 3 });
    await linkEach(first, history);
    await first.close();
    // Every third record, then the last state on close.
    expect(store.saved.map((stored) => stored.snapshot.version)).toEqual([3, 6, 9, 10]);
    expect(store.saved.map((stored) => stored.nextOffset)).toEqual(['3', '6', '9', '10']);

    // As if the process died before its close snapshot: the restart finds version 9 and one record after it.
    store.saved.pop();
    const metrics = createMetrics();
    const second = await open(log, { store, every: 3, metrics });
    await waitFor(() => second.graph.version === history.length, { what: 'the restored graph to catch up' });
    expect(await metricValue(metrics, 'cdp_resolver_identity_restored_version')).toBe(9);
    await waitFor(async () => (await metricValue(metrics, 'cdp_resolver_identity_replayed_records')) === 1, { what: 'one replayed record' });
    await linkEach(second, later);

    // A replay of the whole log without snapshots is the reference.
    const full = await open(log);
    await waitFor(() => full.graph.version === history.length + later.length, { what: 'the full replay' });
    expect(answers(second.graph, everyone)).toEqual(answers(full.graph, everyone));
    expect(second.graph.profileOf(anon('g'))).toBe(second.graph.profileOf(user('u3')));
  });

  it('keeps applying links when snapshots fail, and counts the failures', { timeout: 20_000 }, async () => {
    const log = await openLog();
    const store: SnapshotStore = {
      async *candidates() {},
      save: () => Promise.reject(new Error('ClickHouse is away (simulated)')),
    };
    const metrics = createMetrics();
    const links = await open(log, { store, every: 1, metrics });
    await linkEach(links, history.slice(0, 4));
    expect(links.graph.version).toBe(4);
    await links.close();
    expect(await metricValue(metrics, 'cdp_resolver_identity_snapshots_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(2);
  });

  it('does not use a snapshot that is ahead of the link log', { timeout: 20_000 }, async () => {
    const log = await openLog();
    await linkEach(await open(log), history.slice(0, 2));
    const store = memoryStore();
    store.saved.push({ snapshot: { version: 50, seq: 1, nodes: [{ type: 'anonymous_id', value: 'stale', seq: 0, rootSeq: 0 }] }, nextOffset: '50' });
    const links = await open(log, { store });
    await waitFor(() => links.graph.version === 2, { what: 'a replay from the beginning' });
    expect(links.graph.profileOf(anon('stale'))).toBeNull();
  });
});
