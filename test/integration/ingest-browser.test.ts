// analytics.js, unchanged, in headless Chromium on a localhost page: page, track and identify calls and unload delivery arrive once.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor } from '@cdp/runtime';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { storedContext, waitForStored } from '../clients/store';

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

/** Serves the page and analytics.js bundled from the npm package, on an origin other than the API's (so CORS is real). */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const bundle = await build({
    entryPoints: [new URL('entry.ts', clientDir).pathname],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]?.contents ?? new Uint8Array();
  const page = readFileSync(new URL('page.html', clientDir));
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/analytics.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (path === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(page);
    else if (path === '/favicon.ico') response.writeHead(204).end();
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('analytics.js in headless Chromium', () => {
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

  async function openPage(query: Record<string, string>) {
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
    await page.goto(`${site.origin}/?${new URLSearchParams({ writeKey: cdp.writeKey, apiHost, ...query })}`);
    return { context, page };
  }

  it('delivers page, track and identify from a page on another origin, each stored once with browser context', async () => {
    const userId = uniqueName('web_user');
    const { context, page } = await openPage({});
    const messageIds = await page.evaluate(async (user) => {
      const analytics = await (
        globalThis as unknown as {
          cdp: { ready: Promise<Record<string, (...args: unknown[]) => Promise<{ event: { messageId: string } }>>> };
        }
      ).cdp.ready;
      const contexts = [
        await analytics.page!('Pricing', { plan: 'pro' }),
        await analytics.track!('Plan Selected', { plan: 'pro' }),
        await analytics.identify!(user, { plan: 'pro' }),
      ];
      return contexts.map((ctx) => ctx.event.messageId);
    }, userId);
    await context.close();

    const counts = await waitForStored(cdp, messageIds);
    expect(messageIds.map((id) => counts.get(id))).toEqual([1, 1, 1]);
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
});
