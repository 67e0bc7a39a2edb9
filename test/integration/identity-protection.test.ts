// What a flood of one email from many devices, and a till's placeholder email, do to profiles on both runtimes: the
// identity limit keeps the profile to its quota of devices (the rest refused and recorded), placeholders link nobody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor } from '@cdp/runtime';
import { read, send } from '../harness/http';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

describe.each(runtimes)('identity protection on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const profile = (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
  const limit = 20;

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime, {
      CDP_IDENTITY_LIMITS: `anonymous_id=${limit}`,
      CDP_IDENTITY_BLOCKLIST: 'khongco@cuahang.vn',
    });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('gives a flooded email no more devices than the limit, records every refusal, and leaves the other devices apart', async () => {
    const email = `${uniqueName('flood')}@example.com`;
    const devices = Array.from({ length: 120 }, () => uniqueName('device'));
    const batch = devices.map((anonymousId) => ({ type: 'identify', anonymousId, traits: { email } }));
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    const refusals = async () => {
      const result = await cdp.platform.clickhouse.client.query(
        named('test.countRefusals', {
          query:
            "SELECT count() AS rows FROM identity_refusals FINAL WHERE has(identifiers, {email:String}) AND reason LIKE '%anonymous_id%'",
          query_params: { email: `email:${email}` },
          format: 'JSONEachRow',
        }),
      );
      return Number((await result.json<{ rows: string }>())[0]?.rows);
    };
    await waitFor(async () => (await refusals()) === devices.length - limit, {
      timeoutMs: 60_000,
      what: `${devices.length - limit} refusals recorded`,
    });
    const flooded = (await profile(`email:${email}`)).body as {
      profileId: string;
      identities: Array<{ type: string }>;
    };
    expect(flooded.identities.filter((identity) => identity.type === 'anonymous_id')).toHaveLength(limit);

    const joined = new Set(flooded.identities.map((identity) => JSON.stringify(identity)));
    const apart = devices.filter(
      (anonymousId) => !joined.has(JSON.stringify({ type: 'anonymous_id', value: anonymousId })),
    );
    expect(apart).toHaveLength(devices.length - limit);
    // A refused device's own later visit lands on a profile of its own, without the email.
    const stranger = apart[0] as string;
    expect(
      (await send(cdp.url, '/v1/page', { anonymousId: stranger, name: 'Home' }, { writeKey: cdp.writeKey })).status,
    ).toBe(200);
    const own = await waitFor(
      async () => {
        const answer = await profile(`anonymous_id:${stranger}`);
        return answer.status === 200
          ? (answer.body as { profileId: string; identities: Array<{ type: string }> })
          : undefined;
      },
      { timeoutMs: 30_000, what: "the stranger device's profile" },
    );
    expect(own.profileId).not.toBe(flooded.profileId);
    expect(own.identities.map((identity) => identity.type)).toEqual(['anonymous_id']);
  });

  it('links nobody through a placeholder email, built-in or configured', async () => {
    const shoppers = [uniqueName('shopper'), uniqueName('shopper'), uniqueName('shopper')];
    const placeholders = ['noemail@store.com', 'NoEmail@Store.com', 'KhongCo@CuaHang.vn'];
    const batch = shoppers.map((anonymousId, index) => ({
      type: 'identify',
      anonymousId,
      traits: { email: placeholders[index], name: 'Khách lẻ' },
    }));
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    const ids = await waitFor(
      async () => {
        const answers = await Promise.all(shoppers.map((anonymousId) => profile(`anonymous_id:${anonymousId}`)));
        return answers.every((answer) => answer.status === 200)
          ? answers.map((answer) => answer.body as { profileId: string; identities: unknown[] })
          : undefined;
      },
      { timeoutMs: 30_000, what: "the shoppers' profiles" },
    );
    expect(new Set(ids.map((body) => body.profileId)).size).toBe(3);
    for (const body of ids) expect(body.identities).toHaveLength(1);
    for (const placeholder of ['noemail@store.com', 'khongco@cuahang.vn'])
      expect((await profile(`email:${placeholder}`)).status).toBe(404);
  });
});
