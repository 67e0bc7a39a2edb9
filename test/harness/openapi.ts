// Compares an OpenAPI document with the routes a server really has: every callable route documented, nothing invented.
import type { RouteOptions } from 'fastify';

export interface ResponseObject {
  description?: string;
  content?: Record<string, { example?: unknown; examples?: Record<string, unknown> }>;
}

export interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses?: Record<string, ResponseObject>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

export interface ServerRoute {
  method: string;
  url: string;
  hidden: boolean;
}

const documentMethods = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** `/v1/profiles/:ref` as OpenAPI writes it: `/v1/profiles/{ref}`. */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * The routes a client calls, as fastify registered them: without the HEAD and OPTIONS routes fastify and CORS add,
 * and without the /docs page's own assets. `hidden` marks the ones kept out of the document on purpose.
 */
export function callableRoutes(routes: RouteOptions[]): ServerRoute[] {
  return routes
    .flatMap((route) =>
      (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
        method,
        url: route.url,
        hidden: (route.schema as { hide?: boolean } | undefined)?.hide === true,
      })),
    )
    .filter(
      (route) =>
        route.method !== 'HEAD' &&
        route.method !== 'OPTIONS' &&
        route.url !== '/docs' &&
        !route.url.startsWith('/docs/') &&
        route.url !== '/console' &&
        !(route.url.startsWith('/console/') && route.url !== '/console/'),
    );
}

/** Each way the document falls short of the server, in words; none when it documents every route fully. */
export function documentationProblems(document: OpenApiDocument, routes: ServerRoute[]): string[] {
  const problems: string[] = [];
  const shown = routes.filter((route) => !route.hidden);
  const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
  const served = new Set(shown.map((route) => key(route.method, openApiPath(route.url))));

  for (const route of shown) {
    const name = key(route.method, route.url);
    const operation = document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
    if (!operation) {
      problems.push(`${name} is not in the document`);
      continue;
    }
    if (!operation.summary) problems.push(`${name} has no summary`);
    if (!operation.tags?.length) problems.push(`${name} has no tag`);
    if (route.url.startsWith('/v1/') && !operation.security?.length)
      problems.push(`${name} names no security (write key or read key)`);
    const responses = Object.entries(operation.responses ?? {});
    if (!responses.some(([status]) => status.startsWith('2') || status.startsWith('3')))
      problems.push(`${name} documents no success answer`);
    for (const [status, response] of responses) {
      if (!response.description || response.description === 'Default Response')
        problems.push(`${name} ${status} has no description of its own`);
      for (const [mediaType, media] of Object.entries(response.content ?? {})) {
        if (media.example === undefined && media.examples === undefined)
          problems.push(`${name} ${status} ${mediaType} has no example`);
      }
    }
  }

  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of Object.keys(operations).filter((name) => documentMethods.has(name))) {
      if (!served.has(key(method, path)))
        problems.push(`${key(method, path)} is documented but the server has no such route`);
    }
  }
  return problems;
}

/** The stylesheets, scripts and icons an HTML page loads, resolved against its URL. */
export function assetsOf(html: string, pageUrl: string): string[] {
  return [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => new URL(match[1] as string, pageUrl).href);
}
