// Erasing a customer on both runtimes: every identifier answers 404, no table holds anything of theirs, a later event
// carrying their email is dropped, and a resolver replaying the event log from its start brings nothing back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erasableTables, maskedTables, withoutPersonalData } from '@cdp/privacy';
import { start as startResolver } from '@cdp/resolver';
import { createMetrics, named, waitFor, type EventLog, type Metrics } from '@cdp/runtime';
import { topicNames } from '@cdp/schemas';
import { counterOf, eventsHandled, read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

interface Customer {
  userId: string;
  email: string;
  phone: string;
  anonymousIds: string[];
}

const digits = () => String(Math.floor(Math.random() * 1e8)).padStart(8, '0');
const customer = (name: string): Customer => ({
  userId: uniqueName(name),
  email: `${uniqueName(name)}@example.com`,
  phone: `+8491${digits()}`,
  anonymousIds: [uniqueName(`${name}-web`), uniqueName(`${name}-app`)],
});

/** What a customer sends: a browsing session, a sign-up that merges it, an order and a complaint from the app. */
function messagesOf(person: Customer) {
  const [web, app] = person.anonymousIds as [string, string];
  return [
    { type: 'page', anonymousId: web, name: 'Home' },
    {
      type: 'identify',
      anonymousId: web,
      userId: person.userId,
      traits: { email: person.email, phone: person.phone, name: 'Nguyễn Văn A' },
    },
    {
      type: 'track',
      userId: person.userId,
      event: 'Order Completed',
      properties: { revenue: 250000, currency: 'VND', order_id: uniqueName('order') },
    },
    { type: 'track', anonymousId: app, event: 'App Opened', context: { traits: { email: person.email } } },
    {
      type: 'track',
      userId: person.userId,
      event: 'Ticket Opened',
      properties: { ticket_id: uniqueName('t'), type: 'complaint', channel: 'chat' },
    },
  ];
}

const counter = async (metrics: Metrics, name: string) => {
  const metric = metrics.registry.getSingleMetric(name);
  return metric ? (await metric.get()).values.reduce((sum, value) => sum + value.value, 0) : 0;
};

describe.each(runtimes)('erasure on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const erased = customer('erased');
  const kept = customer('kept');
  const refsOf = (person: Customer) => [
    `user_id:${person.userId}`,
    `email:${person.email}`,
    `phone:${person.phone}`,
    ...person.anonymousIds.map((id) => `anonymous_id:${id}`),
  ];
  const profile = (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
  const sendAll = async (messages: object[]) =>
    expect((await send(cdp.url, '/v1/batch', { batch: messages }, { writeKey: cdp.writeKey })).status).toBe(200);
  let needles: string[] = [];
  let profileIds: string[] = [];

  /** Every column of every table that can hold text, and the rows where any needle appears in one. */
  async function tablesHolding(values: string[]): Promise<Record<string, number>> {
    const client = cdp.platform.clickhouse.client;
    const columns = await (
      await client.query(
        named('test.listTextColumns', {
          query: `SELECT table, groupArray(name) AS names FROM system.columns
                WHERE database = currentDatabase() AND type LIKE '%String%' AND type NOT LIKE 'AggregateFunction%'
                  AND table IN (SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT IN ('View', 'MaterializedView'))
                GROUP BY table`,
          format: 'JSONEachRow',
        }),
      )
    ).json<{ table: string; names: string[] }>();
    const found: Record<string, number> = {};
    for (const { table, names } of columns) {
      const text = `concat(${names.map((name) => `toString(\`${name}\`)`).join(", '\\n', ")})`;
      const result = await client.query(
        named('test.countLeftovers', {
          query: `SELECT count() AS rows FROM \`${table}\` WHERE multiSearchAny(${text}, {values:Array(String)})`,
          query_params: { values },
          format: 'JSONEachRow',
        }),
      );
      const rows = Number((await result.json<{ rows: string }>())[0]?.rows);
      if (rows > 0) found[table] = rows;
    }
    return found;
  }

  const single = async (query: string) =>
    Number(
      (
        await (
          await cdp.platform.clickhouse.client.query(named('test.countRows', { query, format: 'JSONEachRow' }))
        ).json<{ n: string }>()
      )[0]?.n ?? 0,
    );

  beforeAll(async () => {
    // A snapshot of the identity graph after every link record, so the snapshot tables hold the customer's pseudonyms too.
    cdp = await startTestPlatform(runtime, { CDP_SEGMENTS_INTERVAL_MS: '1000', CDP_RESOLVER_SNAPSHOT_EVERY: '1' });
    const sent = [...messagesOf(erased), ...messagesOf(kept)];
    await sendAll(sent);
    // Every batch finished: each writes its identities after its events.
    await waitFor(async () => (await eventsHandled(cdp.url)) >= sent.length, {
      timeoutMs: 60_000,
      what: `${sent.length} events handled by the resolver`,
    });
    for (const person of [erased, kept]) {
      await waitFor(
        async () =>
          ((await profile(`user_id:${person.userId}`)).body.stats as { events?: number } | undefined)?.events === 5,
        {
          timeoutMs: 60_000,
          what: `the profile of ${person.userId} with its five events`,
        },
      );
    }
    const survivor = (await profile(`user_id:${erased.userId}`)).body.profileId as string;
    const merged = await cdp.platform.clickhouse.client.query(
      named('test.readMerged', {
        query: 'SELECT DISTINCT loser_id FROM profile_merges WHERE survivor_id = {survivor:String}',
        query_params: { survivor },
        format: 'JSONEachRow',
      }),
    );
    const losers = (await merged.json<{ loser_id: string }>()).map((row) => row.loser_id);
    expect(losers.length).toBeGreaterThan(0);
    profileIds = [survivor, ...losers];
    needles = [erased.userId, erased.email, erased.phone, ...erased.anonymousIds, ...profileIds];
    // A segment evaluation has placed them, so the segment tables hold them too.
    let holding: Record<string, number> = {};
    const identifiers = refsOf(erased).length + refsOf(kept).length;
    await waitFor(
      async () => {
        holding = await tablesHolding(needles);
        // A snapshot is taken only when a link record arrives and none is being written: a visitor of their own brings one.
        const snapshotted = (await single('SELECT max(seq) AS n FROM identity_snapshots FINAL')) >= identifiers;
        if (!snapshotted) await sendAll([{ type: 'page', anonymousId: uniqueName('visitor'), name: 'Home' }]);
        return snapshotted && ['segment_membership', 'segment_profiles', 'touchpoints'].every((table) => holding[table])
          ? holding
          : undefined;
      },
      {
        timeoutMs: 60_000,
        what: 'the customer in the segment and touchpoint tables, and a snapshot of the graph holding them',
      },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; found in ${JSON.stringify(holding)}`);
    });
    // The graph's snapshots hold pseudonyms, never an identifier.
    expect(holding.identity_snapshot_nodes).toBeUndefined();
  }, 180_000);

  afterAll(async () => {
    await cdp?.close();
  });

  it('keeps no identifier on the identity link log, which no erasure can rewrite: only pseudonyms', async () => {
    const log = cdp.platform.log as EventLog;
    const topic = topicNames(cdp.config.topicPrefix).links;
    const end = Number((await log.endOffsets(topic))[0] ?? 0);
    const records: Buffer[] = [];
    const reader = await log.consume({
      groupId: uniqueName('link-reader'),
      topics: [topic],
      handleBatch: async (batch) => {
        for (const record of batch.records) records.push(record.value);
      },
    });
    await waitFor(() => records.length >= end, { timeoutMs: 30_000, what: `${end} link records` });
    await reader.close();
    expect(records.length).toBeGreaterThan(0);
    const found = needles.filter((needle) => records.some((record) => record.includes(needle)));
    expect(found).toEqual([]);
  });

  it('knows every table ClickHouse has: each is erased, masked or declared free of personal data', async () => {
    const tables = await (
      await cdp.platform.clickhouse.client.query(
        named('test.listTables', {
          query:
            "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT IN ('View', 'MaterializedView')",
          format: 'JSONEachRow',
        }),
      )
    ).json<{ name: string }>();
    const known = new Set([...Object.keys(erasableTables), ...Object.keys(maskedTables), ...withoutPersonalData]);
    expect(tables.map((table) => table.name).filter((name) => !known.has(name))).toEqual([]);
  });

  it('erases the customer from every table and suppresses them, keeping the other customer whole', async () => {
    const before = await tablesHolding(needles);
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining(['events', 'identities', 'profile_merges', 'profile_stats', 'profile_traits']),
    );

    const refused = await fetch(`${cdp.url}/v1/profiles/email:${encodeURIComponent(erased.email)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${cdp.readKey}` },
    });
    expect(refused.status).toBe(403);
    const started = await fetch(`${cdp.url}/v1/profiles/email:${encodeURIComponent(erased.email.toUpperCase())}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${cdp.adminKey}` },
    });
    expect(started.status).toBe(202);
    const erasure = (await started.json()) as { id: string; state: string; counts: Record<string, number> };
    expect(erasure).toMatchObject({ state: 'running', counts: { profiles: profileIds.length, identifiers: 5 } });
    expect(started.headers.get('location')).toBe(`/v1/erasures/${erasure.id}`);

    const done = await waitFor(
      async () => {
        const answer = await read(cdp.url, `/v1/erasures/${erasure.id}`, cdp.adminKey);
        return answer.body.state === 'done' ? answer.body : undefined;
      },
      { timeoutMs: 60_000, what: 'the erasure to be done' },
    );
    expect((done.counts as Record<string, number>)['rows.events']).toBe(5);
    for (const needle of needles) expect(JSON.stringify(done)).not.toContain(needle);

    for (const ref of refsOf(erased)) expect((await profile(ref)).status, ref).toBe(404);
    expect(await tablesHolding(needles)).toEqual({});
    for (const ref of refsOf(kept)) expect((await profile(ref)).status, ref).toBe(200);
    expect(((await profile(`user_id:${kept.userId}`)).body.stats as { events: number }).events).toBe(5);

    const audit = await read(cdp.url, '/v1/audit', cdp.adminKey);
    expect(audit.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: erasure.id,
          action: 'erasure',
          keyPrefix: cdp.adminKey.slice(0, 10),
          state: 'done',
        }),
      ]),
    );
  });

  it('drops a later event carrying the erased email, and a replay of the log from its start brings nothing back', async () => {
    const newDevice = uniqueName('erased-new-device');
    await sendAll([{ type: 'identify', anonymousId: newDevice, traits: { email: erased.email } }]);
    const marker = uniqueName('after-erasure');
    await sendAll([{ type: 'track', userId: kept.userId, event: 'Marker', properties: { marker } }]);
    await waitFor(async () => (await counterOf(cdp.url, 'cdp_resolver_events_suppressed_total')) >= 1, {
      timeoutMs: 30_000,
      what: 'the suppressed event to be counted',
    });
    expect((await profile(`anonymous_id:${newDevice}`)).status).toBe(404);

    // A resolver of its own consumer group reads the whole log again, the erased customer's events included.
    const metrics = createMetrics();
    const replay = await startResolver({
      log: cdp.platform.log as EventLog,
      topics: topicNames(cdp.config.topicPrefix),
      groupId: `${cdp.config.topicPrefix}replay`,
      clickhouse: cdp.platform.clickhouse.client,
      logger: cdp.logger,
      metrics,
      identityLimits: cdp.config.identityLimits,
      identityBlocklist: cdp.config.identityBlocklist,
    });
    try {
      // Both customers' five, the kept one's marker and the later event: everything the log holds.
      await waitFor(
        async () =>
          (await counter(metrics, 'cdp_resolver_events_written_total')) +
            (await counter(metrics, 'cdp_resolver_events_suppressed_total')) >=
          12,
        {
          timeoutMs: 60_000,
          what: 'the replay to read the whole log',
        },
      );
      expect(await counter(metrics, 'cdp_resolver_events_suppressed_total')).toBe(6);
      expect(await tablesHolding([...needles, newDevice])).toEqual({});
      for (const ref of refsOf(erased)) expect((await profile(ref)).status, ref).toBe(404);
    } finally {
      await replay.close();
    }
  });

  it('suppresses an identifier without erasing, and lifts it', async () => {
    const later = customer('suppressed');
    const admin = { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' };
    const made = await fetch(`${cdp.url}/v1/suppressions`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ type: 'email', value: ` ${later.email.toUpperCase()} ` }),
    });
    expect(made.status).toBe(201);
    expect(await made.json()).toEqual({ type: 'email', suppressed: true, created: true });
    expect(
      (
        await fetch(`${cdp.url}/v1/suppressions`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ type: 'email', value: 'not an email' }),
        })
      ).status,
    ).toBe(400);
    const stored = await cdp.platform.clickhouse.client.query(
      named('test.countSuppressionsByText', {
        query: 'SELECT count() AS rows FROM suppressions WHERE position(identifier_hash, {email:String}) > 0',
        query_params: { email: later.email },
        format: 'JSONEachRow',
      }),
    );
    expect(Number((await stored.json<{ rows: string }>())[0]?.rows)).toBe(0);

    // Resolvers read suppressions every second.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const suppressedBefore = await counterOf(cdp.url, 'cdp_resolver_events_suppressed_total');
    await sendAll([{ type: 'identify', userId: later.userId, traits: { email: later.email } }]);
    await waitFor(async () => (await counterOf(cdp.url, 'cdp_resolver_events_suppressed_total')) > suppressedBefore, {
      timeoutMs: 30_000,
      what: 'the event to be dropped',
    });
    expect((await profile(`user_id:${later.userId}`)).status).toBe(404);

    const lifted = await fetch(`${cdp.url}/v1/suppressions/email:${encodeURIComponent(later.email)}`, {
      method: 'DELETE',
      headers: { authorization: admin.authorization },
    });
    expect(lifted.status).toBe(204);
    // An erased customer's suppression is not lifted on request.
    expect(
      (
        await fetch(`${cdp.url}/v1/suppressions/email:${encodeURIComponent(erased.email)}`, {
          method: 'DELETE',
          headers: { authorization: admin.authorization },
        })
      ).status,
    ).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await sendAll([{ type: 'identify', userId: later.userId, traits: { email: later.email } }]);
    await waitFor(async () => (await profile(`email:${later.email}`)).status === 200, {
      timeoutMs: 30_000,
      what: "the lifted customer's profile",
    });
  });
});
