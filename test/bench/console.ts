// `pnpm bench console`: the web console's cold load in Chromium, its first-screen JavaScript, and each screen's data requests on the analytics store.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { consoleFilesDir } from '@cdp/console';
import { createLogger, loadConfig, waitFor } from '@cdp/runtime';
import { startPlatform } from '@cdp/cdp/platform';
import { loadEvents } from './analytics/load';

const usage = `usage: pnpm bench console

Starts the query API and the segments evaluator on the analytics benchmark's store (a year of generated events in
chDB, see pnpm bench analytics), waits for the first segment evaluation, then measures in Debian's Chromium:
  - the gzipped size of the JavaScript and CSS the overview needs before it shows anything (the entry and what it
    imports statically), next to the API documentation page's (/docs, Swagger UI) on the same server;
  - cold loads of the overview (a new browser context each time, no cache): until the page is drawn, and until every
    KPI is shown, next to cold loads of /docs;
  - every screen's data requests as the console makes them (recorded from the browser), timed p50/p95 over HTTP,
    next to /healthz on the same server.
The console reads the window 2025-11-01 to 2025-12-01 in Asia/Ho_Chi_Minh (the generated year's last full month).

environment:
  BENCH_EVENTS    events generated (default 10000000)
  BENCH_PROFILES  stored profiles (default 1000000)
  BENCH_RUNS      cold loads and timed runs of each request (default 10)
  BENCH_DATA_DIR  keep the store in this directory and reuse it on the next run (default: a temp dir, removed)
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}

const events = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const profiles = Number(process.env.BENCH_PROFILES ?? 1_000_000);
const runs = Number(process.env.BENCH_RUNS ?? 10);
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const filters = 'from=2025-11-01&to=2025-12-01&tz=Asia%2FHo_Chi_Minh';
const screens = ['', 'retention', 'repeat', 'care', 'groups', 'segments', 'customers/user_id:u1'];

const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`${line}\n`);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => Math.round(value).toLocaleString('en-US');

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] ?? NaN;
}

/** The gzipped bytes of the scripts and styles a page loads before it runs: its module entry, modulepreloads and stylesheets. */
function firstScreenBytes(html: string, read: (href: string) => Buffer): { js: number; css: number } {
  const hrefs = [...html.matchAll(/<(?:script[^>]*src|link[^>]*href)="([^"]+)"[^>]*>/g)].map((match) => ({
    tag: match[0],
    href: match[1] as string,
  }));
  let js = 0;
  let css = 0;
  for (const { tag, href } of hrefs) {
    if (tag.startsWith('<script') || tag.includes('modulepreload')) js += gzipSync(read(href)).length;
    else if (tag.includes('stylesheet')) css += gzipSync(read(href)).length;
  }
  return { js, css };
}

async function fetchBytes(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

async function main(): Promise<void> {
  const keptDir = process.env.BENCH_DATA_DIR;
  const dataDir = keptDir ?? mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-console-'));
  const readKey = `rk_bench_key_${process.pid}_${Date.now()}`;
  const config = loadConfig({
    CDP_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    CDP_READ_KEY: readKey,
    LOG_LEVEL: 'warn',
    CDP_SEGMENTS_INTERVAL_MS: '3600000',
    // Each load and request computes its answers: the timings are of the work, not of the shared answers.
    CDP_ANALYTICS_CACHE_SECONDS: '0',
  });
  const platform = await startPlatform(config, createLogger({ level: 'warn', name: 'bench' }), [
    'query-api',
    'segments',
  ]);
  let browser: Browser | null = null;
  try {
    const base = platform.url as string;
    const loaded = await loadEvents(platform.clickhouse.client, { events, profiles }, progress, Boolean(keptDir));
    progress('waiting for the first segment evaluation');
    await waitFor(
      async () =>
        (
          (await (await fetch(`${base}/v1/segments`, { headers: { authorization: `Bearer ${readKey}` } })).json()) as {
            evaluatedAt: string | null;
          }
        ).evaluatedAt !== null,
      {
        timeoutMs: 600_000,
        intervalMs: 2000,
        what: 'the first segment evaluation',
      },
    );

    const consoleBytes = firstScreenBytes(readFileSync(path.join(consoleFilesDir, 'index.html'), 'utf8'), (href) =>
      readFileSync(path.join(consoleFilesDir, href.replace(/^\/console\//, ''))),
    );
    const docsHtml = (await fetchBytes(`${base}/docs`)).toString('utf8');
    const docsAssets = [...docsHtml.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map(
      (match) => new URL(match[1] as string, `${base}/docs`).href,
    );
    let docsJs = 0;
    let docsCss = 0;
    for (const asset of docsAssets) {
      const size = gzipSync(await fetchBytes(asset)).length;
      if (asset.endsWith('.js')) docsJs += size;
      else docsCss += size;
    }

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
    const coldLoad = async (
      url: string,
      signedIn: boolean,
      ready: string,
    ): Promise<{ drawn: number; complete: number; requests: string[] }> => {
      const context = await browser!.newContext({ locale: 'vi-VN', viewport: { width: 1280, height: 900 } });
      if (signedIn)
        await context.addInitScript({
          content: `sessionStorage.setItem('cdp.readKey', ${JSON.stringify(readKey)}); localStorage.setItem('cdp.language', 'vi');`,
        });
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (request) => {
        const requested = new URL(request.url());
        if (requested.pathname.startsWith('/v1/')) requests.push(`${requested.pathname}${requested.search}`);
      });
      const started = performance.now();
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForSelector(ready, { timeout: 120_000 });
      const drawn = performance.now() - started;
      // Complete: no request in flight and no loading state left on the page.
      await page.waitForLoadState('networkidle', { timeout: 120_000 });
      await page.waitForFunction("!document.querySelector('.state.loading')", undefined, { timeout: 120_000 });
      const complete = performance.now() - started;
      await context.close();
      return { drawn, complete, requests };
    };

    progress('cold loads of the overview and of /docs');
    const overview: Array<{ drawn: number; complete: number }> = [];
    const docs: number[] = [];
    for (let run = 0; run < runs + 1; run += 1) {
      const console = await coldLoad(`${base}/console/?${filters}`, true, 'header.top');
      const swagger = await coldLoad(`${base}/docs`, false, '.opblock');
      if (run === 0) continue;
      overview.push(console);
      docs.push(swagger.drawn);
    }

    progress("recording each screen's data requests");
    const requestsOf = new Map<string, string[]>();
    for (const screen of screens) {
      const { requests } = await coldLoad(
        `${base}/console/${screen}${screen.includes('?') ? '&' : '?'}${filters}`,
        true,
        'header.top',
      );
      requestsOf.set(screen || 'overview', [...new Set(requests)]);
    }
    const timed = async (pathAndQuery: string): Promise<number[]> => {
      const durations: number[] = [];
      for (let run = 0; run < runs + 1; run += 1) {
        const started = performance.now();
        const response = await fetch(`${base}${pathAndQuery}`, { headers: { authorization: `Bearer ${readKey}` } });
        await response.arrayBuffer();
        if (run > 0) durations.push(performance.now() - started);
      }
      return durations;
    };
    const health = await timed('/healthz');

    out(
      `\nconsole benchmark: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, Debian's Chromium headless, chDB in process; ${runs} runs after a warm-up`,
    );
    out(
      `data: ${ms(loaded.storedRows)} stored event rows, ${ms(loaded.profiles)} profiles; ${loaded.seconds > 0 ? `generated in ${ms(loaded.seconds)} s` : `reused from ${keptDir}`}\n`,
    );
    out('| measure | console | baseline in the same run | target |');
    out('|---|---|---|---|');
    out(`| first-screen JavaScript, gzipped | ${kb(consoleBytes.js)} | /docs (Swagger UI): ${kb(docsJs)} | ≤ 250 KB |`);
    out(`| first-screen CSS, gzipped | ${kb(consoleBytes.css)} | /docs: ${kb(docsCss)} | — |`);
    out(
      `| cold load of the overview until drawn, p50 / p95 ms | ${ms(
        percentile(
          overview.map((load) => load.drawn),
          0.5,
        ),
      )} / ${ms(
        percentile(
          overview.map((load) => load.drawn),
          0.95,
        ),
      )} | /docs until its operations show: ${ms(percentile(docs, 0.5))} / ${ms(percentile(docs, 0.95))} | ≤ 1,000 |`,
    );
    out(
      `| cold load of the overview until every KPI is shown, p50 / p95 ms | ${ms(
        percentile(
          overview.map((load) => load.complete),
          0.5,
        ),
      )} / ${ms(
        percentile(
          overview.map((load) => load.complete),
          0.95,
        ),
      )} | — | — |`,
    );
    out('\n| screen | data request | p50 ms | p95 ms |');
    out('|---|---|---|---|');
    out(`| (baseline) | /healthz | ${ms(percentile(health, 0.5))} | ${ms(percentile(health, 0.95))} |`);
    for (const [screen, requests] of requestsOf) {
      for (const request of requests) {
        progress(`timing ${request}`);
        const durations = await timed(request);
        out(
          `| ${screen} | ${request.length > 110 ? `${request.slice(0, 107)}…` : request} | ${ms(percentile(durations, 0.5))} | ${ms(percentile(durations, 0.95))} |`,
        );
      }
    }
  } finally {
    await browser?.close();
    await platform.close();
    if (!keptDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
