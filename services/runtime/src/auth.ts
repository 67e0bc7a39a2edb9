// Bearer-key authorization by scope: a route names the scope it needs in its options, one hook checks every request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './errors';
import { allows, type KeyGrant, type KeyStore, type Scope } from './keys';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs for this route; set by `documented({ scope })`. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** What the request's key grants, once the scope hook has checked it. */
    grant: KeyGrant | null;
  }
}

/** The key of an `Authorization: Bearer <key>` header, or '' when there is none. */
export function bearerKey(request: FastifyRequest): string {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
}

/** The 403 of a known key without the scope `what` needs. */
export function missingScope(scope: Scope, what: string): AppError {
  return new AppError(
    'MISSING_SCOPE',
    `this key lacks the ${scope} scope that ${what} needs; use a key that has it (an admin creates one with: cdp keys create --scope ${scope})`,
    [{ scope }],
  );
}

/**
 * Makes every route registered afterwards in this plugin need the scope it names, and refuses to register an API
 * route (`/v1/…`) that names none: a route cannot be left open by forgetting it. A missing or unknown key is a 401;
 * a known key without the scope is a 403 that names it.
 */
export function requireScopes(
  app: FastifyInstance,
  keys: KeyStore,
  options: { open?: (url: string) => boolean } = {},
): void {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/') && !route.config?.scope && !options.open?.(route.url)) {
      throw new Error(`${route.method.toString()} ${route.url} names no scope: document it with documented({ scope })`);
    }
  });
  app.decorateRequest('grant', null);
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const key = bearerKey(request);
    if (!key) throw new AppError('MISSING_READ_KEY', 'an API key is required: Authorization: Bearer <key>');
    const grant = await keys.check(key);
    if (!grant) throw new AppError('UNKNOWN_READ_KEY', 'the key is unknown, revoked or expired');
    if (!allows(grant, scope))
      throw missingScope(scope, `${request.method} ${request.routeOptions.url ?? request.url}`);
    request.grant = grant;
  });
}
