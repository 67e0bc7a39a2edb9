// Signing in to the console with a read key: a wrong key, the right one (kept in the tab only), signing out, a revoked key, a stopped platform.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readScopes } from '@cdp/runtime';
import { messages } from '@cdp/console/locales';
import { checkView, startConsoleRig, widths, type ConsoleRig, type Language } from '../harness/console';

const vi = messages.vi;

let rig: ConsoleRig;

beforeAll(async () => {
  rig = await startConsoleRig();
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

async function signIn(page: Page, key: string, language: Language = 'vi'): Promise<void> {
  await page.getByLabel(messages[language].common.signIn.key, { exact: true }).fill(key);
  await page.getByRole('button', { name: messages[language].common.signIn.submit, exact: true }).click();
}

const storedKey = (page: Page) => page.evaluate("sessionStorage.getItem('cdp.readKey')") as Promise<string | null>;

describe('signing in to the console', () => {
  it.each(['vi', 'en'] as const)(
    'in %s, says clearly that a wrong key is unknown or revoked, and keeps nothing',
    async (language) => {
      const { context, page } = await rig.open({ language, signedIn: false, width: widths.phone });
      await page.getByLabel(messages[language].common.signIn.key, { exact: true }).waitFor();
      await checkView(page, `sign-in-${language}`, language);
      await signIn(page, 'rk_not_a_key_of_this_platform', language);
      await expect.poll(() => page.getByRole('alert').textContent()).toBe(messages[language].common.signIn.wrongKey);
      expect(
        await page.getByLabel(messages[language].common.signIn.key, { exact: true }).getAttribute('aria-invalid'),
      ).toBe('true');
      expect(await storedKey(page)).toBeNull();
      await checkView(page, `sign-in-error-${language}`, language);
      await context.close();
    },
  );

  it('reaches the overview with the right key, keeps it in session storage only and in no requested URL; signing out returns to the form', async () => {
    const { context, page } = await rig.open({ signedIn: false });
    const requested: string[] = [];
    context.on('request', (request) => requested.push(request.url()));
    const key = rig.cdp.readKey;
    await signIn(page, key);
    await expect.poll(() => page.locator('h1').textContent()).toBe(vi.overview.title);
    expect(await storedKey(page)).toBe(key);
    expect((await page.evaluate('JSON.stringify(localStorage)')) as string).not.toContain(key);
    // Every screen, so every kind of request the console makes is seen.
    for (const screen of ['retention', 'repeat', 'groups', 'care', 'overview'] as const) {
      await page.getByRole('navigation').getByRole('link', { name: vi.common.nav[screen], exact: true }).click();
      await expect.poll(() => page.locator('h1').first().textContent()).toBe(vi[screen].title);
    }
    await page.waitForLoadState('networkidle');
    expect(requested.filter((url) => url.includes('/v1/')).length).toBeGreaterThan(5);
    expect(requested.filter((url) => url.includes(key) || url.includes(encodeURIComponent(key)))).toEqual([]);
    expect(page.url()).not.toContain(key);

    await page.getByRole('button', { name: vi.common.signIn.signOut, exact: true }).click();
    await page.getByLabel(vi.common.signIn.key, { exact: true }).waitFor();
    expect(await storedKey(page)).toBeNull();
    await context.close();
  });

  it('sends a user whose key is revoked meanwhile back to the form, saying why', async () => {
    const key = await rig.cdp.platform.keys.create({ source: 'console-revocation', scopes: readScopes });
    const { context, page } = await rig.open({ signedIn: false, path: '/console/retention' });
    await signIn(page, key);
    await expect.poll(() => page.locator('h1').textContent()).toBe(vi.retention.title);
    // Every request of the screen answered first, so the one below is the first to meet the revoked key.
    await page.waitForLoadState('networkidle');
    await page.getByLabel(vi.common.filters.range, { exact: true }).waitFor();
    expect(await rig.cdp.platform.keys.revoke(key.slice(0, 10))).toBe(1);
    // The next request the console makes meets the revoked key.
    await page.getByLabel(vi.common.filters.range, { exact: true }).selectOption('7d');
    await expect.poll(() => page.getByRole('status').textContent()).toBe(vi.common.signIn.signedOut);
    await page.getByLabel(vi.common.signIn.key, { exact: true }).waitFor();
    expect(await storedKey(page)).toBeNull();
    await checkView(page, 'sign-in-revoked-vi', 'vi');
    await context.close();
  });

  it('says the platform cannot be reached when it has stopped, on the form and on a screen, never a blank page', async () => {
    const form = await rig.open({ signedIn: false });
    await form.page.getByLabel(vi.common.signIn.key, { exact: true }).waitFor();
    const screen = await rig.open({ path: '/console/retention' });
    await expect.poll(() => screen.page.locator('h1').textContent()).toBe(vi.retention.title);
    await screen.page.waitForLoadState('networkidle');

    await rig.cdp.platform.app?.close();

    await signIn(form.page, rig.cdp.readKey);
    await expect.poll(() => form.page.getByRole('alert').textContent()).toContain(vi.common.states.network);
    await checkView(form.page, 'sign-in-unreachable-vi', 'vi');
    // A screen asking for new numbers, and a screen whose code was never fetched.
    await screen.page.getByLabel(vi.common.filters.range, { exact: true }).selectOption('7d');
    await expect.poll(() => screen.page.getByRole('alert').first().textContent()).toContain(vi.common.states.network);
    await screen.page.getByRole('navigation').getByRole('link', { name: vi.common.nav.repeat, exact: true }).click();
    await expect
      .poll(() => screen.page.locator('main').getByRole('alert').first().textContent())
      .toContain(vi.common.states.network);
    await checkView(screen.page, 'screen-unreachable-vi', 'vi');
    await form.context.close();
    await screen.context.close();
  });
});
