// analytics.js and RudderStack's SDK, unchanged, in headless Chromium on a localhost page: every call they have and unload
// delivery arrive once, with settings inline or fetched from ingest, through 503s from a proxy in front of it.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor } from '@cdp/runtime';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { deliveries, startFaultyProxy, type FaultyProxy } from '../clients/proxy';
import { storedContext, storedMessages, waitForStored } from '../clients/store';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];
const clientDir = new URL('../clients/browser/', import.meta.url);

/** Serves the pages and the SDKs bundled from their npm packages, on an origin other than the API's (so CORS is real). */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const bundle = async (entry: string) => {
    const built = await build({
      entryPoints: [new URL(entry, clientDir).pathname],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    return built.outputFiles[0]?.contents ?? new Uint8Array();
  };
  const scripts = new Map([
    ['/analytics.js', await bundle('entry.ts')],
    ['/rudder.js', await bundle('rudder-entry.ts')],
  ]);
  const pages = new Map([
    ['/', readFileSync(new URL('page.html', clientDir))],
    ['/rudder.html', readFileSync(new URL('rudder.html', clientDir))],
  ]);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const script = scripts.get(path);
    const page = pages.get(path);
    if (script) response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (page) response.writeHead(200, { 'content-type': 'text/html' }).end(page);
    else if (path === '/favicon.ico') response.writeHead(204).end();
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** An SDK call as the page makes it: the method's name and its arguments. */
type Call = [method: string, ...args: unknown[]];

/** Makes the calls in the page, one after the other; resolves with each message's id as the SDK reported it. */
function callSdk(page: Page, sdk: 'segment' | 'rudder', calls: Call[]): Promise<string[]> {
  return page.evaluate(
    async ({ sdk, calls }) => {
      const client = await (
        globalThis as unknown as { cdp: { ready: Promise<Record<string, (...args: unknown[]) => unknown>> } }
      ).cdp.ready;
      const ids: string[] = [];
      for (const [method, ...args] of calls) {
        const call = client[method]!;
        // analytics.js resolves each call with its context; RudderStack hands the event to a last callback argument.
        if (sdk === 'segment') ids.push(((await call(...args)) as { event: { messageId: string } }).event.messageId);
        else
          ids.push(
            await new Promise<string>((resolve) =>
              call(...args, (event: { messageId: string }) => resolve(event.messageId)),
            ),
          );
      }
      return ids;
    },
    { sdk, calls },
  );
}

/** Every call analytics.js has: page, track, identify, screen, group, alias. */
const segmentCalls = (userId: string): Call[] => [
  ['page', 'Pricing', { plan: 'pro' }],
  ['track', 'Plan Selected', { plan: 'pro' }],
  ['identify', userId, { plan: 'pro' }],
  ['screen', 'Home'],
  ['group', `${userId}_org`, { name: 'Acme' }],
  ['alias', userId, `${userId}_before`],
];

/** Waits until the SDK sent again, and had accepted, every message of the requests the proxy answered 503. */
async function retriedAll(proxy: FaultyProxy): Promise<void> {
  await waitFor(
    () => {
      const { faulted, delivered } = deliveries(proxy);
      return faulted.length > 0 && faulted.every((id) => delivered.has(id));
    },
    { timeoutMs: 30_000, what: 'the SDK to resend what was answered 503' },
  );
}

describe('analytics.js and RudderStack in headless Chromium', () => {
  let cdp: TestPlatform;
  let browser: Browser;
  let site: { server: Server; origin: string };
  const offsite: string[] = [];

  beforeAll(async () => {
    // CI installs Debian's chromium (.ci/run); without it this suite must fail, not skip.
    if (!existsSync(chromiumPath))
      throw new Error(`${chromiumPath} is missing: apt-get install chromium (see .ci/run)`);
    cdp = await startTestPlatform('embedded');
    site = await servePage();
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  });
  afterAll(async () => {
    await browser?.close();
    site?.server.close();
    await cdp?.close();
  });

  async function openPage(query: Record<string, string>, path = '/') {
    const context = await browser.newContext();
    // Anything not on localhost (Segment's CDN, its API) is remembered, so the test proves we stayed local. Observed, not
    // intercepted: an intercepted keepalive request cannot outlive its page. The resolver rules make such requests fail.
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol.startsWith('http') && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost')
        offsite.push(url.href);
    });
    const page = await context.newPage();
    const apiHost = `${new URL(cdp.url).host}/v1`;
    await page.goto(`${site.origin}${path}?${new URLSearchParams({ writeKey: cdp.writeKey, apiHost, ...query })}`);
    return { context, page };
  }

  it('delivers page, track, identify, screen, group and alias from another origin, each stored once with browser context', async () => {
    const userId = uniqueName('web_user');
    const { context, page } = await openPage({});
    const messageIds = await callSdk(page, 'segment', segmentCalls(userId));
    await context.close();

    const counts = await waitForStored(cdp, messageIds);
    expect(messageIds.map((id) => counts.get(id))).toEqual([1, 1, 1, 1, 1, 1]);
    const rows = await storedMessages(cdp, messageIds);
    expect(messageIds.map((id) => rows.find((row) => row.message_id === id)?.type)).toEqual(
      segmentCalls(userId).map(([method]) => method),
    );
    const stored = await storedContext(cdp, messageIds[1] as string);
    expect(stored.library).toMatchObject({ name: expect.stringMatching(/analytics/) });
    expect(stored.ip).toBe('127.0.0.1');
    expect((stored.parsedUserAgent as { browser: { name: string } }).browser.name).toMatch(/Chrom/);
    expect(stored.page).toMatchObject({ url: expect.stringContaining(site.origin) });
    expect(offsite).toEqual([]);
  });

  it('delivers batched events and a text/plain sendBeacon when the page is left', async () => {
    const run = uniqueName('run');
    const anonymousId = uniqueName('anon');
    const { context, page } = await openPage({ strategy: 'batching', beacon: '1', run, anonymousId });
    const messageIds = await page.evaluate(async (anon) => {
      const analytics = await (
        globalThis as unknown as {
          cdp: { ready: Promise<Record<string, (...args: unknown[]) => Promise<{ event: { messageId: string } }>>> };
        }
      ).cdp.ready;
      void analytics.setAnonymousId!(anon);
      const contexts = [
        await analytics.track!('Cart Viewed', { items: 2 }),
        await analytics.track!('Checkout Started', { items: 2 }),
      ];
      return contexts.map((ctx) => ctx.event.messageId);
    }, anonymousId);
    // Leaving the page fires pagehide: analytics.js flushes its batch with a keepalive fetch, the page sends its beacon.
    await page.goto('about:blank');
    const beaconId = `beacon-${run}`;
    const counts = await waitForStored(cdp, [...messageIds, beaconId]);
    expect([...messageIds, beaconId].map((id) => counts.get(id))).toEqual([1, 1, 1]);
    await context.close();
    const beacon = await storedContext(cdp, beaconId);
    expect(beacon.userAgent).toMatch(/Chrom/);
    expect(offsite).toEqual([]);
    // The same anonymous device has exactly these three events.
    const rows = await waitFor(async () => {
      const result = await cdp.platform.clickhouse.client.query(
        named('test.readDeviceEvents', {
          query: 'SELECT event FROM events WHERE anonymous_id = {anon:String} ORDER BY event',
          query_params: { anon: anonymousId },
          format: 'JSONEachRow',
        }),
      );
      return result.json<{ event: string }>();
    });
    expect(rows.map((row) => row.event)).toEqual(['Cart Viewed', 'Checkout Started', 'Page Left']);
  });

  it('fetches its settings from ingest given only cdnURL, and resends what was answered 503, each stored once', async () => {
    const userId = uniqueName('cdn_user');
    const proxy = await startFaultyProxy(cdp.url, ['refuse', 'lose']);
    try {
      const { context, page } = await openPage({ cdnURL: proxy.url });
      const messageIds = await callSdk(page, 'segment', segmentCalls(userId));
      await retriedAll(proxy);
      await context.close();
      const counts = await waitForStored(cdp, messageIds);
      expect(messageIds.map((id) => counts.get(id))).toEqual([1, 1, 1, 1, 1, 1]);
    } finally {
      await proxy.close();
    }
    expect(proxy.seen[0]).toMatchObject({ method: 'GET', path: `/v1/projects/${cdp.writeKey}/settings`, status: 200 });
    // Its default: one JSON request per call to the short paths, sent to the host the settings named (the proxy).
    const posts = proxy.seen.filter((request) => request.method === 'POST');
    // Both faults met (the one forwarded first is recorded once ingest answers, so not necessarily second).
    expect(posts.filter((request) => request.status === 503)).toHaveLength(2);
    for (const post of posts) {
      expect(post.path).toMatch(/^\/v1\/[ptisga]$/);
      expect(post.contentType).toBe('text/plain');
      expect(post.contentEncoding).toBeUndefined();
    }
    expect(offsite).toEqual([]);
  });

  it("delivers RudderStack's page, track, identify, group and alias with its configuration from ingest, through 503s", async () => {
    const userId = uniqueName('rudder_web_user');
    const proxy = await startFaultyProxy(cdp.url, ['refuse', 'lose']);
    const calls: Call[] = [
      ['page', 'Pricing', { plan: 'pro' }],
      ['track', 'Plan Selected', { plan: 'pro' }],
      ['identify', userId, { plan: 'pro' }],
      ['group', `${userId}_org`, { name: 'Acme' }],
      ['alias', `${userId}_new`],
    ];
    let messageIds: string[];
    try {
      const { context, page } = await openPage({ host: proxy.url }, '/rudder.html');
      messageIds = await callSdk(page, 'rudder', calls);
      await retriedAll(proxy);
      await context.close();
    } finally {
      await proxy.close();
    }
    const counts = await waitForStored(cdp, messageIds);
    expect(messageIds.map((id) => counts.get(id))).toEqual([1, 1, 1, 1, 1]);
    const rows = await storedMessages(cdp, messageIds);
    expect(messageIds.map((id) => rows.find((row) => row.message_id === id)?.type)).toEqual(
      calls.map(([method]) => method),
    );
    const alias = rows.find((row) => row.type === 'alias');
    expect(alias?.user_id).toBe(`${userId}_new`);
    expect(rows.every((row) => row.anonymous_id !== '')).toBe(true);

    const config = proxy.seen.find((request) => request.method === 'GET' && request.path.startsWith('/sourceConfig'));
    expect(config?.status).toBe(200);
    expect(new URL(config!.path, proxy.url).searchParams.get('writeKey')).toBe(cdp.writeKey);
    // Its default: one JSON request per call, to /v1/<type>.
    const posts = proxy.seen.filter((request) => request.method === 'POST');
    // Both faults met (the one forwarded first is recorded once ingest answers, so not necessarily second).
    expect(posts.filter((request) => request.status === 503)).toHaveLength(2);
    for (const post of posts) {
      expect(post.path).toMatch(/^\/v1\/(page|track|identify|group|alias)$/);
      expect(post.contentType).toBe('application/json;charset=UTF-8');
      expect(post.contentEncoding).toBeUndefined();
    }
    const stored = await storedContext(cdp, messageIds[1]!);
    expect(stored.library).toMatchObject({ name: expect.stringMatching(/RudderLabs JavaScript SDK/) });
    expect(offsite).toEqual([]);
  });
});
