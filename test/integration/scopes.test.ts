// Every API route against a key of every scope: the route's own scope (or admin) passes, any other key is a 403 that
// names the scope, no key or an unknown, revoked or expired one is a 401. The table below is written out by hand and
// checked against the OpenAPI document, so a new route cannot join without a row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScopes, scopes, type Scope } from '@cdp/runtime';
import { basicAuth } from '../harness/http';
import { startTestPlatform, type TestPlatform } from '../harness/platform';

/** Each route (as OpenAPI names it) and the scope it needs. */
const routeScopes: Record<string, Scope> = {
  'GET /v1/profiles/{ref}': 'profiles',
  'GET /v1/profiles/{ref}/events': 'profiles',
  'GET /v1/segments': 'analytics',
  'POST /v1/segments': 'segments:write',
  'POST /v1/segments/preview': 'analytics',
  'GET /v1/segments/{id}': 'analytics',
  'PUT /v1/segments/{id}': 'segments:write',
  'DELETE /v1/segments/{id}': 'segments:write',
  'GET /v1/segments/{id}/members': 'audiences',
  'GET /v1/analytics/kpis': 'analytics',
  'GET /v1/analytics/kpis/series': 'analytics',
  'GET /v1/analytics/retention': 'analytics',
  'GET /v1/analytics/repeat-purchase': 'analytics',
  'GET /v1/analytics/lifecycle': 'analytics',
  'GET /v1/analytics/tickets': 'analytics',
  'GET /v1/analytics/surveys': 'analytics',
  'GET /v1/analytics/open-tickets': 'analytics',
  'GET /v1/analytics/rfm': 'analytics',
  'DELETE /v1/profiles/{ref}': 'admin',
  'GET /v1/erasures/{id}': 'admin',
  'POST /v1/suppressions': 'admin',
  'DELETE /v1/suppressions/{ref}': 'admin',
  'GET /v1/audit': 'admin',
  'GET /v1/keys': 'admin',
  'POST /v1/keys': 'admin',
  'DELETE /v1/keys/{prefix}': 'admin',
  'GET /v1/destinations': 'admin',
  'POST /v1/destinations': 'admin',
  'GET /v1/destinations/{id}': 'admin',
  'PUT /v1/destinations/{id}': 'admin',
  'PATCH /v1/destinations/{id}': 'admin',
  'POST /v1/destinations/preview': 'admin',
  'DELETE /v1/destinations/{id}': 'admin',
  'GET /v1/destinations/{id}/deliveries': 'admin',
  'POST /v1/destinations/{id}/replay': 'admin',
  'POST /v1/destinations/{id}/test': 'admin',
};

/** Path parameters that name nothing: a key with the scope gets a 404 or a 400, never a change. */
const fill = (route: string) =>
  route
    .replace('{ref}', 'user_id:nobody-at-all')
    .replace('{id}', 'seg_0000000000000000')
    .replace('{prefix}', 'xx_nothing');

let cdp: TestPlatform;
/** One key per scope, made through the admin API. */
const keyOf = new Map<Scope, string>();
let openApi: {
  paths: Record<string, Record<string, { tags?: string[]; security?: unknown[]; responses: Record<string, unknown> }>>;
};

async function call(route: string, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const [method, path] = route.split(' ') as [string, string];
  const response = await fetch(`${cdp.url}${fill(path)}`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
    },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

beforeAll(async () => {
  cdp = await startTestPlatform('embedded', {}, ['ingest', 'query-api', 'destinations']);
  for (const scope of scopes) {
    const response = await fetch(`${cdp.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: `only-${scope}`, scopes: [scope] }),
    });
    expect(response.status, scope).toBe(201);
    keyOf.set(scope, ((await response.json()) as { key: string }).key);
  }
  openApi = (await (await fetch(`${cdp.url}/openapi.json`)).json()) as typeof openApi;
}, 180_000);

afterAll(async () => {
  await cdp?.close();
});

describe('route × scope', () => {
  it('has a row for every route of the OpenAPI document but tracking and the channel webhooks, and each route documents its scope, 401 and 403', () => {
    const documented = Object.entries(openApi.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        // Tracking takes write keys; the messaging channels' webhooks are checked by their providers' signatures.
        .filter(([, operation]) => !operation.tags?.some((tag) => tag === 'ingest' || tag === 'channels'))
        .map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
    );
    const apiRoutes = documented.filter(({ route }) => route.includes(' /v1/'));
    expect(apiRoutes.map(({ route }) => route).sort()).toEqual(Object.keys(routeScopes).sort());
    for (const { route, operation } of apiRoutes) {
      expect(operation.security, route).toEqual([{ apiKey: [] }]);
      expect(Object.keys(operation.responses), route).toEqual(expect.arrayContaining(['401', '403']));
      expect(JSON.stringify(operation.responses['403']), route).toContain(`the ${routeScopes[route]} scope`);
    }
  });

  it.each(Object.entries(routeScopes))(
    '%s: %s or admin passes, every other scope is a 403 naming it, no key a 401',
    async (route, needed) => {
      expect((await call(route)).status).toBe(401);
      expect((await call(route, 'Bearer rk_made_up_by_nobody_at_all')).status).toBe(401);
      for (const scope of scopes) {
        const answer = await call(route, `Bearer ${keyOf.get(scope)}`);
        if (scope === needed || scope === 'admin') {
          expect([401, 403], `${route} with ${scope}: ${JSON.stringify(answer.body)}`).not.toContain(answer.status);
        } else {
          expect(answer.status, `${route} with ${scope}`).toBe(403);
          expect(answer.body).toMatchObject({ code: 'MISSING_SCOPE', errors: [{ scope: needed }] });
          expect(String(answer.body.message)).toContain(needed);
        }
      }
      // The read key every install gets keeps every read and no write.
      const read = await call(route, `Bearer ${cdp.readKey}`);
      if (readScopes.includes(needed)) expect([401, 403], `${route} with the read key`).not.toContain(read.status);
      else expect(read.status, `${route} with the read key`).toBe(403);
    },
  );

  it('takes events from a key with the write scope only: another known key is a 403 naming write, an unknown one a 401', async () => {
    const event = JSON.stringify({ userId: 'scoped-writer', event: 'Scoped' });
    const track = (authorization: string) =>
      fetch(`${cdp.url}/v1/track`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: event,
      });
    for (const scope of scopes) {
      const response = await track(basicAuth(keyOf.get(scope) as string));
      if (scope === 'write' || scope === 'admin') expect(response.status, scope).toBe(200);
      else {
        expect(response.status, scope).toBe(403);
        expect(await response.json()).toMatchObject({ code: 'MISSING_SCOPE', errors: [{ scope: 'write' }] });
      }
    }
    expect((await track(basicAuth(cdp.readKey))).status).toBe(403);
    expect((await track(basicAuth('wk_made_up_by_nobody_at_all'))).status).toBe(401);
    // A browser puts the key in the body: the same rule.
    const inBody = (writeKey: string) =>
      fetch(`${cdp.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ writeKey, userId: 'scoped-writer', event: 'Scoped' }),
      });
    expect((await inBody(keyOf.get('write') as string)).status).toBe(200);
    expect((await inBody(keyOf.get('profiles') as string)).status).toBe(403);
  });
});

describe('keys over the admin API', () => {
  it('lists keys without their secrets, refuses a key once revoked or expired, and names a bad scope', async () => {
    const admin = { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' };
    const made = await fetch(`${cdp.url}/v1/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        source: 'short-lived',
        scopes: ['analytics'],
        expiresAt: new Date(Date.now() + 3000).toISOString(),
      }),
    });
    expect(made.status).toBe(201);
    const { key, prefix, expiresAt } = (await made.json()) as { key: string; prefix: string; expiresAt: string };
    expect(key.startsWith(prefix)).toBe(true);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    expect((await call('GET /v1/analytics/rfm', `Bearer ${key}`)).status).toBe(200);

    const listed = await call('GET /v1/keys', `Bearer ${cdp.adminKey}`);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(listed.body.keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ prefix, source: 'short-lived', scopes: ['analytics'], revoked: false }),
      ]),
    );

    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect((await call('GET /v1/analytics/rfm', `Bearer ${key}`)).status).toBe(401);

    const revocable = (await (
      await fetch(`${cdp.url}/v1/keys`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ source: 'revocable', scopes: ['profiles'] }),
      })
    ).json()) as { key: string; prefix: string };
    expect((await call(`GET /v1/profiles/{ref}`, `Bearer ${revocable.key}`)).status).toBe(404);
    const revoked = await fetch(`${cdp.url}/v1/keys/${revocable.prefix}`, {
      method: 'DELETE',
      headers: { authorization: admin.authorization },
    });
    expect(await revoked.json()).toEqual({ revoked: 1 });
    expect((await call(`GET /v1/profiles/{ref}`, `Bearer ${revocable.key}`)).status).toBe(401);

    const bad = await fetch(`${cdp.url}/v1/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ source: 'x', scopes: ['everything'] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors[0]?.path).toBe('scopes.0');
  });
});
