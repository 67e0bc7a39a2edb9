// A resolver restarted on the same data restores its identity graph from a snapshot, replays only the log after it,
// and ends with the profiles a full replay of the link log gives, on both runtimes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, named, waitFor, type ClickHouseClient, type Metrics } from '@cdp/runtime';
import { identifierSalt, pseudonymiser } from '@cdp/privacy';
import { createIdentityGraph } from '@cdp/resolver';
import { decodeLink, topicNames, type Identifier } from '@cdp/schemas';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { send } from '../harness/http';

async function single(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<number> {
  const result = await client.query(named('test.single', { query, query_params: params, format: 'JSONEachRow' }));
  return Number((await result.json<{ n: number }>())[0]?.n ?? 0);
}

async function gauge(metrics: Metrics, name: string): Promise<number> {
  const { values } = (await metrics.registry.getSingleMetric(name)?.get()) ?? { values: [] };
  return values[0]?.value ?? 0;
}

/** What the platform stores: each identifier's profile, mapped through the merges to its survivor. */
async function storedProfiles(client: ClickHouseClient): Promise<Map<string, string>> {
  const result = await client.query(
    named('test.readStoredProfiles', {
      query: `SELECT concat(i.type, ':', i.value) AS identifier, if(m.survivor_id = '', i.profile_id, m.survivor_id) AS profile_id
            FROM (SELECT type, value, profile_id FROM identities FINAL) AS i
            LEFT JOIN (SELECT loser_id, survivor_id FROM profile_merges FINAL) AS m ON i.profile_id = m.loser_id`,
      format: 'JSONEachRow',
    }),
  );
  return new Map(
    (await result.json<{ identifier: string; profile_id: string }>()).map((row) => [row.identifier, row.profile_id]),
  );
}

describe.each(runtimes)('identity graph snapshots on the %s runtime', (runtime) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-identity-snapshots-'));
  const platforms: TestPlatform[] = [];
  afterAll(async () => {
    for (const cdp of platforms) await cdp.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'restores from a snapshot, replays only the tail, and resolves like a full replay',
    { timeout: 240_000 },
    async () => {
      // A snapshot every two link records, so the first run leaves several behind.
      const first = await startTestPlatform(runtime, { CDP_DATA_DIR: dataDir, CDP_RESOLVER_SNAPSHOT_EVERY: '2' });
      platforms.push(first);
      const sameData = {
        CDP_DATA_DIR: dataDir,
        CLICKHOUSE_DATABASE: first.config.clickhouse.database,
        CDP_TOPIC_PREFIX: first.config.topicPrefix,
        CDP_WRITE_KEY: first.writeKey,
        CDP_READ_KEY: first.readKey,
        CDP_RESOLVER_SNAPSHOT_EVERY: '2',
      };
      const [u1, u2, u3] = [uniqueName('u1'), uniqueName('u2'), uniqueName('u3')];
      const [a1, a2, a3, a4, a5, a6, kiosk] = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'kiosk'].map(uniqueName) as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      const e1 = `${uniqueName('e1')}@example.com`;
      let sent = 0;
      const post = async (cdp: TestPlatform, route: string, body: Record<string, unknown>) => {
        const response = await send(
          cdp.url,
          route,
          { messageId: uniqueName('msg'), ...body },
          { writeKey: cdp.writeKey },
        );
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        sent += 1;
      };
      const allResolved = (cdp: TestPlatform) =>
        waitFor(
          async () =>
            (await single(cdp.platform.clickhouse.client, 'SELECT uniqExact(message_id) AS n FROM events')) === sent,
          {
            timeoutMs: 60_000,
            what: `${sent} events resolved`,
          },
        );

      // Merges, a chain onto the oldest profile, and a refused link, all before the restart.
      for (const anonymousId of [a1, a2, a3]) await post(first, '/v1/page', { anonymousId });
      await post(first, '/v1/track', {
        anonymousId: a2,
        event: 'Newsletter Joined',
        context: { traits: { email: e1 } },
      });
      await post(first, '/v1/identify', { userId: u1, anonymousId: a1, traits: { email: e1 } });
      await post(first, '/v1/identify', { userId: u2, anonymousId: kiosk });
      await post(first, '/v1/identify', { userId: u1, anonymousId: kiosk });
      for (const anonymousId of [a4, a5]) await post(first, '/v1/page', { anonymousId });
      await post(first, '/v1/track', {
        anonymousId: a5,
        event: 'Order Completed',
        context: { traits: { phone: '+14155550123' } },
      });
      await allResolved(first);
      platforms.splice(platforms.indexOf(first), 1);
      await first.close();

      // The close wrote the newest snapshot; dropping its header makes the restart look like one after a crash.
      const clickhouse = await createClickHouse(first.config.clickhouse, first.logger);
      let linkRecords: number;
      let fallbackVersion: number;
      try {
        linkRecords = await single(clickhouse.client, 'SELECT max(version) AS n FROM identity_snapshots FINAL');
        fallbackVersion = await single(
          clickhouse.client,
          'SELECT max(version) AS n FROM identity_snapshots FINAL WHERE version < {version:UInt64}',
          {
            version: linkRecords,
          },
        );
        await clickhouse.client.command(
          named('test.deleteSnapshotHeader', {
            query: 'DELETE FROM identity_snapshots WHERE version = {version:UInt64}',
            query_params: { version: linkRecords },
          }),
        );
      } finally {
        await clickhouse.close();
      }
      expect(fallbackVersion).toBeGreaterThan(0);
      expect(fallbackVersion).toBeLessThan(linkRecords);

      const second = await startTestPlatform(runtime, sameData);
      platforms.push(second);
      const { metrics } = second.platform;
      await waitFor(async () => (await gauge(metrics, 'cdp_resolver_identity_replayed_records')) > 0, {
        timeoutMs: 60_000,
        what: 'the restarted resolver to catch up',
      });
      expect(await gauge(metrics, 'cdp_resolver_identity_restored_version')).toBe(fallbackVersion);
      expect(await gauge(metrics, 'cdp_resolver_identity_replayed_records')).toBe(linkRecords - fallbackVersion);

      // Links after the restart reach components that only the snapshot and the tail know.
      await post(second, '/v1/track', { anonymousId: a4, event: 'Email Opened', context: { traits: { email: e1 } } });
      await post(second, '/v1/identify', { userId: u3, anonymousId: a5 });
      await post(second, '/v1/track', { userId: u2, anonymousId: a3, event: 'Product Viewed' });
      await post(second, '/v1/identify', { userId: u1, anonymousId: a5 });
      await post(second, '/v1/page', { anonymousId: a6 });
      await allResolved(second);

      // The reference: the whole link log applied from its beginning to a fresh graph.
      const log = second.platform.log!;
      const linksTopic = topicNames(second.config.topicPrefix).links;
      const end = Number((await log.endOffsets(linksTopic))[0]);
      const reference = createIdentityGraph();
      let read = 0;
      let plaintext = 0;
      const reader = await log.consume({
        groupId: uniqueName('reference'),
        topics: [linksTopic],
        handleBatch: async (batch) => {
          for (const record of batch.records) {
            const link = decodeLink(record.value);
            if (!link.pseudonymous) plaintext += 1;
            reference.apply(link.identifiers);
          }
          read += batch.records.length;
        },
      });
      await waitFor(() => read >= end, { timeoutMs: 60_000, what: `${end} link records read from the beginning` });
      await reader.close();
      // The log holds pseudonyms only: the reference graph is asked by pseudonym too.
      expect(plaintext).toBe(0);
      const pseudonymise = pseudonymiser(await identifierSalt(second.platform.clickhouse.client));

      const identifiers: Identifier[] = [
        ...[u1, u2, u3].map((value) => ({ type: 'user_id' as const, value })),
        ...[a1, a2, a3, a4, a5, a6, kiosk].map((value) => ({ type: 'anonymous_id' as const, value })),
        { type: 'email', value: e1 },
        { type: 'phone', value: '+14155550123' },
      ];
      const key = (identifier: Identifier) => `${identifier.type}:${identifier.value}`;
      // The resolver writes a batch's identities after its events: every event stored does not yet mean every
      // identifier is.
      let stored = new Map<string, string>();
      await waitFor(
        async () => {
          stored = await storedProfiles(second.platform.clickhouse.client);
          return identifiers.every((identifier) => stored.has(key(identifier)));
        },
        { timeoutMs: 60_000, what: 'every identifier stored' },
      );
      expect(
        Object.fromEntries(identifiers.map((identifier) => [key(identifier), stored.get(key(identifier))])),
      ).toEqual(
        Object.fromEntries(
          identifiers.map((identifier) => [key(identifier), reference.profileOf(pseudonymise(identifier))]),
        ),
      );
      // The reference merged across the restart and kept the refused users apart, so the comparison means something.
      const profile = (value: string, type: Identifier['type'] = 'anonymous_id') =>
        reference.profileOf(pseudonymise({ type, value }));
      expect(profile(a4)).toBe(profile(u1, 'user_id'));
      expect(profile(a3)).toBe(profile(u2, 'user_id'));
      expect(profile(a5)).toBe(profile(u3, 'user_id'));
      expect(profile(kiosk)).not.toBe(profile(u1, 'user_id'));
    },
  );
});
