// The link log over the embedded event log: snapshots while applying, and a restart that restores and replays only the tail.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, waitFor, type EventLog, type Metrics } from '@cdp/runtime';
import { pseudonymiser } from '@cdp/privacy';
import { encodeLink, type Identifier } from '@cdp/schemas';
import type { IdentityGraph } from './graph';
import { profileIdOf } from './identifiers';
import { openLinkLog, type LinkLog } from './links';
import { openScratchLog } from './scratch-log';
import type { SnapshotStore, StoredSnapshot } from './snapshots';

const logger = pino({ level: 'silent' });
const pseudonymise = pseudonymiser(randomBytes(32));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const user = (value: string): Identifier => ({ type: 'user_id', value });
const anon = (value: string): Identifier => ({ type: 'anonymous_id', value });
const email = (value: string): Identifier => ({ type: 'email', value });

async function openLog(): Promise<EventLog> {
  const { log, remove } = await openScratchLog([{ name: 'links', partitions: 1 }]);
  cleanups.push(remove);
  return log;
}

/** Snapshots kept in memory as plain data, newest first on load, like the ClickHouse store. */
function memoryStore(): SnapshotStore & { saved: StoredSnapshot[] } {
  const saved: StoredSnapshot[] = [];
  return {
    saved,
    async *candidates() {
      for (const stored of [...saved].sort((a, b) => b.snapshot.version - a.snapshot.version))
        yield structuredClone(stored);
    },
    async save(stored) {
      saved.push(structuredClone(stored));
    },
  };
}

async function open(
  log: EventLog,
  options: { store?: SnapshotStore; every?: number; metrics?: Metrics } = {},
): Promise<LinkLog> {
  const links = await openLinkLog({
    log,
    topic: 'links',
    groupPrefix: 'test-links',
    logger,
    metrics: options.metrics ?? createMetrics(),
    snapshots: options.store,
    snapshotEvery: options.every,
    pseudonymise,
  });
  cleanups.push(() => links.close());
  return links;
}

const linkEach = async (links: LinkLog, records: Identifier[][]) => {
  for (const [index, identifiers] of records.entries()) await links.link([{ messageId: `m${index}`, identifiers }]);
};

async function metricValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
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
const later: Identifier[][] = [
  [anon('f'), anon('a')],
  [user('u3'), anon('g')],
  [anon('g'), anon('kiosk')],
  [email('h'), anon('c')],
];
const everyone = [
  ...new Map(
    [...history, ...later].flat().map((identifier) => [`${identifier.type}:${identifier.value}`, identifier]),
  ).values(),
];

describe('identity link log snapshots', () => {
  it(
    'snapshots every N records and on close, and a restart restores the newest and replays only the tail',
    { timeout: 20_000 },
    async () => {
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
      await waitFor(async () => (await metricValue(metrics, 'cdp_resolver_identity_replayed_records')) === 1, {
        what: 'one replayed record',
      });
      await linkEach(second, later);

      // A replay of the whole log without snapshots is the reference.
      const full = await open(log);
      await waitFor(() => full.graph.version === history.length + later.length, { what: 'the full replay' });
      expect(answers(second.graph, everyone)).toEqual(answers(full.graph, everyone));
      expect(second.graph.profileOf(anon('g'))).toBe(second.graph.profileOf(user('u3')));
    },
  );

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
    expect(
      await metricValue(metrics, 'cdp_resolver_identity_snapshots_total', { outcome: 'failed' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('does not use a snapshot that is ahead of the link log', { timeout: 20_000 }, async () => {
    const log = await openLog();
    await linkEach(await open(log), history.slice(0, 2));
    const store = memoryStore();
    store.saved.push({
      snapshot: { version: 50, seq: 1, nodes: [{ type: 'anonymous_id', value: 'stale', seq: 0, rootSeq: 0 }] },
      nextOffset: '50',
    });
    const links = await open(log, { store });
    await waitFor(() => links.graph.version === 2, { what: 'a replay from the beginning' });
    expect(links.graph.profileOf(anon('stale'))).toBeNull();
  });
});

describe('identity link log pseudonyms', () => {
  const customer = [user('khach-hang-0912'), email('lan.nguyen@example.vn'), anon('device-7f3a')];

  /** Every record of the link topic, as bytes. */
  async function recordsOf(log: EventLog): Promise<Buffer[]> {
    const records: Buffer[] = [];
    const end = Number((await log.endOffsets('links'))[0] ?? 0);
    const consumer = await log.consume({
      groupId: `read-${records.length}-${Date.now()}`,
      topics: ['links'],
      startOffsets: { links: { 0: '0' } },
      async handleBatch(batch) {
        for (const record of batch.records) records.push(record.value);
      },
    });
    await waitFor(() => records.length >= end, { what: 'the whole link topic' });
    await consumer.close();
    return records;
  }

  it(
    'writes link records and snapshots that hold no identifier, and answers by identifier all the same',
    { timeout: 20_000 },
    async () => {
      const log = await openLog();
      const store = memoryStore();
      const links = await open(log, { store, every: 1 });
      await linkEach(links, [customer, [anon('device-7f3a'), anon('tablet-2b')]]);
      expect(links.graph.profileOf(anon('tablet-2b'))).toBe(links.graph.profileOf(email('lan.nguyen@example.vn')));
      await links.close();

      const plaintext = [...customer, anon('tablet-2b')].map((identifier) => identifier.value);
      const records = await recordsOf(log);
      expect(records).toHaveLength(2);
      for (const record of records) for (const value of plaintext) expect(record.includes(value), value).toBe(false);
      const stored = JSON.stringify(store.saved);
      for (const value of plaintext) expect(stored.includes(value), value).toBe(false);
      // What they hold instead: each identifier's pseudonym.
      expect(stored).toContain(pseudonymise(email('lan.nguyen@example.vn')).value);
    },
  );

  it(
    'reads plaintext records written before pseudonyms, keeping the profile ids their identifiers gave',
    { timeout: 20_000 },
    async () => {
      const log = await openLog();
      await log.produce('links', [
        {
          key: 'links',
          value: encodeLink({ requestId: 'before:0', messageId: 'm-old', identifiers: customer, pseudonymous: false }),
        },
      ]);
      const store = memoryStore();
      const links = await open(log, { store, every: 1 });
      await waitFor(() => links.graph.version === 1, { what: 'the plaintext record applied' });
      const profileId = profileIdOf(user('khach-hang-0912'));
      for (const identifier of customer) expect(links.graph.profileOf(identifier), identifier.value).toBe(profileId);
      // A new record joins the old profile, under its old id, and a new identifier alone starts a profile of its own.
      await linkEach(links, [[email('lan.nguyen@example.vn'), anon('laptop-9c')], [anon('kiosk-1')]]);
      expect(links.graph.profileOf(anon('laptop-9c'))).toBe(profileId);
      expect(links.graph.mergesOf(anon('laptop-9c')).map((merge) => merge.survivorId)).toEqual([
        profileId,
        profileId,
        profileId,
      ]);
      const kiosk = links.graph.profileOf(anon('kiosk-1'));
      expect(kiosk).toMatch(/^prf_[0-9a-f]{24}$/);
      expect(kiosk).not.toBe(profileIdOf(anon('kiosk-1')));
      await links.close();

      // Restored from its snapshot, the graph still knows the old ids.
      const restored = await open(log, { store });
      expect(restored.graph.version).toBe(3);
      expect(restored.graph.profileOf(anon('device-7f3a'))).toBe(profileId);
      expect(restored.graph.profileOf(anon('kiosk-1'))).toBe(kiosk);
    },
  );
});
