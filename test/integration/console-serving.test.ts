// The console as the query API serves it: / leads there, its own paths answer its page, assets are cacheable and local.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../harness/platform';

describe('the console served by the query API', () => {
  let cdp: TestPlatform;

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', {}, ['query-api']);
  });
  afterAll(async () => {
    await cdp?.close();
  });

  const get = (path: string) => fetch(`${cdp.url}${path}`, { redirect: 'manual' });

  it("leads / and /console to /console/, keeping a shared view's filters", async () => {
    expect([(await get('/')).status, (await get('/')).headers.get('location')]).toEqual([302, '/console/']);
    const shared = await get('/console?preset=90d&channel=web');
    expect([shared.status, shared.headers.get('location')]).toEqual([301, '/console/?preset=90d&channel=web']);
  });

  it('answers its own paths with its page, which loads only assets of this server that may be cached for good', async () => {
    const page = await get('/console/');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    expect(html).toContain('<div id="app">');
    for (const path of [
      '/console/segments/seg_1',
      '/console/customers/phone:%2B84912345678',
      '/console/care?preset=7d',
    ]) {
      const deep = await get(path);
      expect({ path, status: deep.status }).toEqual({ path, status: 200 });
      expect(await deep.text()).toBe(html);
    }
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((match) => match[1] as string)
      .filter((href) => !href.startsWith('data:'));
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      expect(asset.startsWith('/console/assets/')).toBe(true);
      const response = await get(asset);
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expect(response.headers.get('cache-control')).toContain('immutable');
    }
  });

  it('answers a missing asset with 404, not the page', async () => {
    expect((await get('/console/assets/nothing-here.js')).status).toBe(404);
  });
});
