// Drives the web console in Debian's Chromium against a test platform: signed-in pages per language and width, screenshots, axe.
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { flatten, messages } from '@cdp/console/locales';
import { startTestPlatform, type TestPlatform } from './platform';

export const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/** Where screenshots are written: a test artefact, kept out of git. */
export const screenshotDir = path.resolve(import.meta.dirname, '../../test-artifacts/console');

export type Language = 'vi' | 'en';
export const widths = { desktop: 1280, phone: 390 } as const;

export interface ConsoleRig {
  cdp: TestPlatform;
  browser: Browser;
  /** A new browser context in a language and width, signed in with the platform's read key unless `signedIn` is false. */
  open(options?: {
    language?: Language;
    width?: number;
    signedIn?: boolean;
    path?: string;
    key?: string;
  }): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** Starts a platform (embedded runtime, segments evaluated every `segmentsIntervalMs`, more settings in `env`) and a browser. */
export async function startConsoleRig(
  options: { segmentsIntervalMs?: number; env?: Record<string, string> } = {},
): Promise<ConsoleRig> {
  // CI installs Debian's chromium (.ci/run); without it the console suites must fail, not skip.
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install chromium (see .ci/run)`);
  const cdp = await startTestPlatform('embedded', {
    CDP_SEGMENTS_INTERVAL_MS: String(options.segmentsIntervalMs ?? 1000),
    ...options.env,
  });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  return {
    cdp,
    browser,
    async open({
      language = 'vi',
      width = widths.desktop,
      signedIn = true,
      path: at = '/console/',
      key = cdp.readKey,
    } = {}) {
      const context = await browser.newContext({
        locale: language === 'vi' ? 'vi-VN' : 'en-GB',
        viewport: { width, height: 900 },
        timezoneId: 'Asia/Ho_Chi_Minh',
      });
      // The console keeps its language in local storage and the key in session storage, as a user's browser would.
      await context.addInitScript({
        content: `localStorage.setItem('cdp.language', ${JSON.stringify(language)}); ${signedIn ? `sessionStorage.setItem('cdp.readKey', ${JSON.stringify(key)});` : ''}`,
      });
      const page = await context.newPage();
      await page.goto(`${cdp.url}${at}`);
      return { context, page };
    },
    async close() {
      await browser.close();
      await cdp.close();
    },
  };
}

/** The platform's API called with its admin key: how a console test sets up data and reads the numbers to compare. */
export async function adminCall<T>(
  cdp: TestPlatform,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${cdp.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${cdp.adminKey}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });
  return { status: response.status, body: (response.status === 204 ? undefined : await response.json()) as T };
}

/** Writes a full-page screenshot as `<name>.png` under test-artifacts/console/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations of impact serious or critical on the page as it is now: rule id, impact and the first targets. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axeSource });
  const violations = (await page.evaluate(`axe.run(document).then((result) => result.violations.map((violation) => ({
    id: violation.id, impact: violation.impact, targets: violation.nodes.slice(0, 3).map((node) => node.target.join(' ')),
  })))`)) as Array<{ id: string; impact: string; targets: string[] }>;
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.targets.join(', ')}`);
}

const englishTexts = flatten(messages.en);
const vietnameseTexts = flatten(messages.vi);
/** Texts the two languages share (channel names such as Email, SMS; codes): not English left over. */
const sameInBoth = new Set(
  [...englishTexts].filter(([key, text]) => vietnameseTexts.get(key) === text).map(([, text]) => text),
);
const englishOnly = new Set([...englishTexts.values()].filter((text) => !sameInBoth.has(text)));

/**
 * Words of the page's visible text that are English where Vietnamese was asked for: every text node is checked
 * against the English texts of the console, so a label left untranslated is found.
 */
export async function englishLeftOver(page: Page): Promise<string[]> {
  const visible = (await page.evaluate(`(() => {
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!element || element.closest('code, pre, script, style, [data-raw]')) continue;
      const text = node.textContent.trim();
      if (text && element.checkVisibility()) texts.push(text);
    }
    for (const element of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
      for (const attribute of ['aria-label', 'placeholder', 'title']) {
        const value = (element.getAttribute(attribute) || '').trim();
        if (value) texts.push(value);
      }
    }
    return texts;
  })()`)) as string[];
  return visible.filter((text) => englishOnly.has(text));
}

/**
 * What every console screen is held to, in the language it was opened in: a full-page screenshot from the top,
 * nothing serious for axe, no English left in Vietnamese, and nothing wider than the page (a phone scrolls down,
 * never sideways; wide tables scroll inside their own frame).
 */
export async function checkView(page: Page, name: string, language: Language): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await screenshot(page, name);
  expect(await accessibilityProblems(page), name).toEqual([]);
  if (language === 'vi') expect(await englishLeftOver(page), name).toEqual([]);
  const overflow = (await page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  )) as number;
  expect(overflow, `${name}: pixels wider than the page`).toBeLessThanOrEqual(0);
}
