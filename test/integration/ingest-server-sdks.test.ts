// Segment's and RudderStack's Python and Go SDKs, unchanged and with their defaults, pointed at ingest through a proxy
// that answers 503 to their first two requests: each retries, and every message of every type is stored once, with
// its identifiers and its times as sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimes, startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { prepareSdkDrivers, runDriver, type DriverLanguage, type DriverSdk } from '../clients/drivers';
import { deliveries, startFaultyProxy } from '../clients/proxy';
import { storedMessages, waitForStored } from '../clients/store';

interface SdkCase {
  language: DriverLanguage;
  sdk: DriverSdk;
  /** What the SDK sends by default. */
  encoding: 'gzip' | undefined;
  library: string;
}

const cases: SdkCase[] = [
  { language: 'python', sdk: 'segment', encoding: undefined, library: 'analytics-python' },
  { language: 'python', sdk: 'rudder', encoding: 'gzip', library: 'analytics-python' },
  { language: 'go', sdk: 'segment', encoding: undefined, library: 'analytics-go' },
  { language: 'go', sdk: 'rudder', encoding: 'gzip', library: 'analytics-go' },
];
const types = ['identify', 'track', 'page', 'screen', 'group', 'alias'];
const people = 5;
/** The drivers' fixed track time, 2024-05-01T10:00:00.123+02:00. */
const orderedAt = Date.UTC(2024, 4, 1, 8, 0, 0, 123);

describe.each(runtimes)('Python and Go SDKs on the %s runtime', (runtime) => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    await prepareSdkDrivers();
    cdp = await startTestPlatform(runtime);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  it.each(cases)(
    '$language $sdk: every type once after a refused and a lost request',
    async ({ language, sdk, encoding, library }) => {
      const proxy = await startFaultyProxy(cdp.url, ['refuse', 'lose']);
      const run = uniqueName(`${language}_${sdk}`);
      const report = await runDriver(language, sdk, { host: proxy.url, writeKey: cdp.writeKey, run, people }).finally(
        () => proxy.close(),
      );

      expect(report.failed).toEqual([]);
      const sent = report.sent;
      expect(sent).toHaveLength(types.length * people);
      expect(new Set(sent.map((message) => message.messageId)).size).toBe(sent.length);
      expect([...new Set(sent.map((message) => message.type))].sort()).toEqual([...types].sort());

      // Its defaults: JSON batches to /v1/batch, gzipped or not; the refused and the lost batch were sent again as they were.
      const posts = proxy.seen.filter((request) => request.method === 'POST');
      expect(posts.map((request) => request.status).slice(0, 3)).toEqual([503, 503, 200]);
      for (const request of posts) {
        expect(request.path).toBe('/v1/batch');
        expect(request.contentType).toMatch(/^application\/json/);
        expect(request.contentEncoding).toBe(encoding);
      }
      const { faulted, delivered } = deliveries(proxy);
      expect(faulted.length).toBeGreaterThan(0);
      expect(faulted.filter((id) => !delivered.has(id))).toEqual([]);

      const ids = sent.map((message) => message.messageId);
      await waitForStored(cdp, ids);
      const rows = await storedMessages(cdp, ids);
      expect(rows).toHaveLength(sent.length);
      const byId = new Map(rows.map((row) => [row.message_id, row]));
      for (const message of sent) {
        const row = byId.get(message.messageId)!;
        expect(row).toMatchObject({
          type: message.type,
          user_id: message.userId ?? '',
          anonymous_id: message.anonymousId ?? '',
          library,
        });
        const original = Date.parse((message.timestamp ?? message.originalTimestamp)!);
        expect(Math.abs(row.original_timestamp! - original)).toBeLessThanOrEqual(1);
        // Skew-corrected against sentAt: the clocks agree here, so it lies close to the time sent.
        expect(Math.abs(row.timestamp - original)).toBeLessThan(60_000);
      }
      const tracks = rows.filter((row) => row.type === 'track');
      expect(tracks.every((row) => row.original_timestamp === orderedAt)).toBe(true);
    },
  );
});
