// /openapi.json and /docs of the running platform, alone or composed: valid, complete against the server's own routes, usable offline.
import { existsSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHttpServer, createLogger, createMetrics } from '@cdp/runtime';
import { allServices, type ServiceName } from '@cdp/cdp/platform';
import { assetsOf, callableRoutes, documentationProblems, type OpenApiDocument } from '../harness/openapi';
import { startTestPlatform, type TestPlatform } from '../harness/platform';

// Every server the platform creates records its routes as fastify registers them, so the document is compared with
// what the server really answers rather than with a list kept by hand.
const routesByServer = vi.hoisted(() => new WeakMap<object, RouteOptions[]>());
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<{ default: (...args: unknown[]) => FastifyInstance }>();
  const create = (...args: unknown[]) => {
    const app = actual.default(...args);
    const routes: RouteOptions[] = [];
    app.addHook('onRoute', (route) => {
      routes.push(route);
    });
    routesByServer.set(app, routes);
    return app;
  };
  return { ...actual, default: create };
});

function routesOf(app: FastifyInstance | null): RouteOptions[] {
  const routes = app ? routesByServer.get(app) : undefined;
  if (!routes) throw new Error('the server was not created through the recording fastify');
  return routes;
}

// Aliases documented once under the path they stand for: analytics.js's short forms, RudderStack's `/sourceConfig/`.
const aliases = ['/sourceConfig/', '/v1/a', '/v1/b', '/v1/g', '/v1/i', '/v1/p', '/v1/s', '/v1/t'];
const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const layouts: Array<{ command: string; services: ServiceName[]; present: string[]; absent: string[] }> = [
  {
    command: 'cdp start',
    services: allServices,
    present: ['/v1/track', '/v1/batch', '/v1/profiles/{ref}/events', '/v1/destinations/{id}/replay'],
    absent: [],
  },
  { command: 'cdp ingest', services: ['ingest'], present: ['/v1/track', '/v1/import'], absent: ['/v1/profiles/{ref}'] },
  {
    command: 'cdp query-api',
    services: ['query-api'],
    present: ['/v1/profiles/{ref}', '/v1/profiles/{ref}/events'],
    absent: ['/v1/track'],
  },
  {
    command: 'cdp resolver',
    services: ['resolver'],
    present: [],
    absent: ['/v1/track', '/v1/profiles/{ref}', '/console/'],
  },
  {
    command: 'cdp destinations',
    services: ['destinations'],
    present: ['/v1/destinations', '/v1/destinations/{id}/deliveries'],
    absent: ['/v1/track', '/v1/profiles/{ref}', '/console/'],
  },
];

describe.each(layouts)('$command', ({ services, present, absent }) => {
  let cdp: TestPlatform;
  let document: OpenApiDocument;

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', {}, services);
    const response = await fetch(`${cdp.url}/openapi.json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await cdp?.close();
  });

  it('serves a valid OpenAPI 3 document', async () => {
    expect(document.openapi).toMatch(/^3\.0\./);
    // The validator dereferences in place; the copy keeps the document as served for the other tests.
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('documents every route the server has: summary, tag, security, and each answer described with an example', () => {
    const routes = callableRoutes(routesOf(cdp.platform.app));
    expect(routes.map((route) => route.url)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/openapi.json']),
    );
    expect(documentationProblems(document, routes)).toEqual([]);
  });

  it('lists the endpoints of the services this process runs, and no others', () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', ...present])
      expect(document.paths).toHaveProperty([path]);
    for (const path of absent) expect(document.paths).not.toHaveProperty([path]);
  });

  it('keeps only the aliases out of the document', () => {
    const hidden = callableRoutes(routesOf(cdp.platform.app)).filter((route) => route.hidden);
    expect(hidden.map((route) => route.url).sort()).toEqual(services.includes('ingest') ? aliases : []);
  });

  it('answers /docs with an HTML page whose assets and document all load from this server', async () => {
    const page = await fetch(`${cdp.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const assets = assetsOf(await page.text(), `${cdp.url}/docs`);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of [...assets, `${cdp.url}/docs/json`]) {
      expect(new URL(asset).origin).toBe(cdp.url);
      const response = await fetch(asset);
      await response.arrayBuffer();
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
    }
  });

  it.runIf(services.includes('ingest') && services.includes('query-api'))(
    'renders every operation in headless Chromium without the internet',
    async () => {
      // CI installs Debian's chromium (.ci/run); without it this test must fail, not skip.
      if (!existsSync(chromiumPath))
        throw new Error(`${chromiumPath} is missing: apt-get install chromium (see .ci/run)`);
      const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
      try {
        const page = await browser.newPage();
        const failures: string[] = [];
        page.on('requestfailed', (request) =>
          failures.push(`${request.url()}: ${request.failure()?.errorText ?? 'failed'}`),
        );
        page.on('response', (response) => {
          if (response.status() >= 400) failures.push(`${response.url()}: ${response.status()}`);
        });
        await page.goto(`${cdp.url}/docs`);
        const operations = page.locator('.opblock');
        await operations.first().waitFor();
        const documented = Object.values(document.paths).flatMap((operationsOfPath) => Object.keys(operationsOfPath));
        expect(await operations.count()).toBe(documented.length);
        expect(await page.locator('.opblock-summary-path').allTextContents()).toEqual(
          expect.arrayContaining(['/v1/track', '/v1/profiles/{ref}']),
        );
        expect(failures).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});

describe('the route coverage check', () => {
  it('reports a route registered without documentation, and an operation the server does not have', async () => {
    const app = await createHttpServer({
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics(),
      readiness: {},
    });
    try {
      await app.register(async (plugin) => {
        plugin.get('/v1/undocumented', async () => ({}));
      });
      await app.ready();
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
      document.paths['/v1/imaginary'] = {
        get: { summary: 'Imaginary', tags: ['operations'], responses: { 200: { description: 'Never' } } },
      };
      expect(documentationProblems(document, callableRoutes(routesOf(app)))).toEqual([
        'GET /v1/undocumented has no summary',
        'GET /v1/undocumented has no tag',
        'GET /v1/undocumented names no security (write key or read key)',
        'GET /v1/undocumented 200 has no description of its own',
        'GET /v1/imaginary is documented but the server has no such route',
      ]);
    } finally {
      await app.close();
    }
  });
});
