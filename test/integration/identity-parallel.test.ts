// A generated customer base resolved by one and by three resolver instances on real Kafka: the same profiles as the truth.
import { joinSurvivors, messagesPerSurvivor, survivorOf } from '@cdp/profiles';
import { afterAll, describe, expect, it } from 'vitest';
import { named, waitFor, type ClickHouseClient } from '@cdp/runtime';
import { generateCustomers, type TruthProfile } from '../generators/customers';
import { startExtraResolvers, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { read, send } from '../harness/http';

const customers = Number(process.env.CDP_TEST_CUSTOMERS ?? 2100);

/** The platform's profiles in the truth's shape: every survivor with its identifiers and its stats. */
async function storedProfiles(client: ClickHouseClient): Promise<TruthProfile[]> {
  const statsResult = await client.query(
    named('test.readStats', {
      query: `SELECT survivor AS profile_id, events, orders, revenue FROM (${messagesPerSurvivor(
        `SELECT message_id, profile_id, inserted_at, type = 'track' AND event = 'Order Completed' AS is_order,
         coalesce(JSONExtract(properties, 'revenue', 'Nullable(Float64)'), JSONExtract(properties, 'total', 'Nullable(Float64)'), 0) AS amount
       FROM events`,
        ', argMin(is_order, inserted_at) AS is_order, argMin(amount, inserted_at) AS amount',
        'count() AS events, countIf(message.is_order) AS orders, round(sumIf(message.amount, message.is_order), 2) AS revenue',
      )})`,
      format: 'JSONEachRow',
    }),
  );
  const identitiesResult = await client.query(
    named('test.readIdentities', {
      query: `SELECT ${survivorOf('i.profile_id')} AS survivor, groupArray(concat(i.type, ':', i.value)) AS identifiers
            FROM (SELECT type, value, profile_id FROM identities FINAL) AS i ${joinSurvivors('i.profile_id')}
            GROUP BY survivor`,
      format: 'JSONEachRow',
    }),
  );
  const identifiers = new Map(
    (await identitiesResult.json<{ survivor: string; identifiers: string[] }>()).map((row) => [
      row.survivor,
      [...row.identifiers].sort(),
    ]),
  );
  return (await statsResult.json<{ profile_id: string; events: string; orders: string; revenue: number }>()).map(
    (row) => ({
      identifiers: identifiers.get(row.profile_id) ?? [],
      events: Number(row.events),
      orders: Number(row.orders),
      revenue: Number(row.revenue),
    }),
  );
}

const canonical = (profiles: TruthProfile[]) => profiles.map((profile) => JSON.stringify(profile)).sort();

describe('identity resolution with parallel resolvers on real Kafka', () => {
  const data = generateCustomers({ customers, seed: 7, prefix: uniqueName('c') });
  const identifiers = data.truth.reduce((sum, profile) => sum + profile.identifiers.length, 0);
  const running: Array<{ cdp: TestPlatform; stopResolvers: () => Promise<void> }> = [];

  afterAll(async () => {
    for (const { cdp, stopResolvers } of running) {
      await stopResolvers();
      await cdp.close();
    }
  });

  const resolveWith = async (instances: number) => {
    // Ingest and the query API only; the resolvers run beside them, each with a Kafka client of its own.
    const cdp = await startTestPlatform('kafka', { CDP_TOPIC_PARTITIONS: '6' }, ['ingest', 'query-api']);
    running.push({ cdp, stopResolvers: await startExtraResolvers(cdp, instances) });
    for (let offset = 0; offset < data.messages.length; offset += 250) {
      const response = await send(
        cdp.url,
        '/v1/batch',
        { batch: data.messages.slice(offset, offset + 250) },
        { writeKey: cdp.writeKey },
      );
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    }
    const client = cdp.platform.clickhouse.client;
    // A batch writes its events before its identities: every event stored does not yet mean every identifier is.
    await waitFor(
      async () => {
        const result = await client.query(
          named('test.countMessagesAndIdentities', {
            query: `SELECT (SELECT uniqExact(message_id) FROM events) AS messages,
                           (SELECT count() FROM identities FINAL) AS identifiers`,
            format: 'JSONEachRow',
          }),
        );
        const row = (await result.json<{ messages: string; identifiers: string }>())[0];
        return Number(row?.messages) === data.distinctMessages && Number(row?.identifiers) === identifiers;
      },
      {
        timeoutMs: 240_000,
        intervalMs: 500,
        what: `${data.distinctMessages} distinct events and ${identifiers} identifiers resolved by ${instances} resolver(s)`,
      },
    );
    return { cdp, profiles: await storedProfiles(client) };
  };

  it('ends with exactly the generated customers as profiles, with one resolver', { timeout: 300_000 }, async () => {
    const { cdp, profiles } = await resolveWith(1);
    expect(canonical(profiles)).toEqual(canonical(data.truth));

    // The profile API answers the same for a sample of customers, by whichever identifier.
    for (const truth of data.truth.slice(0, 10)) {
      const ref = truth.identifiers[truth.identifiers.length - 1] as string;
      const response = await read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
      const stats = response.body.stats as { events: number; orders: number; revenue: number };
      expect({ events: stats.events, orders: stats.orders, revenue: Math.round(stats.revenue * 100) / 100 }).toEqual({
        events: truth.events,
        orders: truth.orders,
        revenue: truth.revenue,
      });
    }
  });

  it(
    'ends with the same profiles and stats with three resolvers sharing the partitions',
    { timeout: 300_000 },
    async () => {
      const { profiles } = await resolveWith(3);
      expect(canonical(profiles)).toEqual(canonical(data.truth));
    },
  );
});
