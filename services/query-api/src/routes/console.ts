// The web console's static files at /console/ (its client-side routes answer with its page), and / leading there.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { documented } from '@cdp/runtime';
import { consoleBuilt, consoleFilesDir } from '@cdp/console';

const html = (description: string, example: string) => ({
  description,
  content: { 'text/html': { schema: { type: 'string' }, example } },
});

const rootDoc = documented({
  summary: 'The web console',
  description: 'Redirects a browser to the console at `/console/`.',
  tags: ['console'],
  responses: {
    302: { description: 'To `/console/`', headers: { Location: { type: 'string', description: '/console/' } } },
  },
});

const consoleDoc = documented(consoleDocFields());

function consoleDocFields() {
  return {
    summary: 'The web console',
    description:
      'The console for care and marketing staff (Vietnamese and English): KPIs, retention, repeat purchase, customer groups, segments, customer lookup and care. It signs in with a read key and uses only this API. Its own paths under `/console/` answer with the same page.',
    tags: ['console'],
    responses: {
      200: html('The console page', '<!doctype html><html lang="vi">…</html>'),
      503: html(
        'The console has not been built on this installation',
        '<p>The console is not built: run pnpm --filter @cdp/console build</p>',
      ),
    },
  };
}

// The console's own paths: documented once, as /console/.
const hiddenDoc = documented({ ...consoleDocFields(), hide: true });

const notBuilt =
  '<!doctype html><meta charset="utf-8"><title>CDP</title><p>The console is not built: run <code>pnpm install</code> or <code>pnpm --filter @cdp/console build</code>, then reload.</p>';

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', rootDoc, async (_request, reply) => reply.redirect('/console/', 302));
  // A shared link keeps its filters: the query string follows the redirect.
  app.get('/console', hiddenDoc, async (request, reply) => {
    const query = request.url.indexOf('?');
    return reply.redirect(`/console/${query >= 0 ? request.url.slice(query) : ''}`, 301);
  });

  const built = consoleBuilt();
  // Read once: the built page changes only with a new build, which comes with a restart.
  const page = built ? readFileSync(path.join(consoleFilesDir, 'index.html')) : null;
  const answerPage = async (_request: unknown, reply: FastifyReply) =>
    page
      ? reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page)
      : reply.status(503).type('text/html; charset=utf-8').send(notBuilt);

  app.get('/console/', consoleDoc, answerPage);
  // Client-side routes (/console/segments, …) are the same page; files found at start are served by their own routes.
  app.get('/console/*', hiddenDoc, answerPage);
  // An asset of another build (a tab open across an upgrade) is missing, not the page: the console says so and retries.
  app.get('/console/assets/*', hiddenDoc, async (request, reply) =>
    reply
      .status(404)
      .send({ code: 'NOT_FOUND', message: `no console asset ${request.url.split('?')[0]}; reload the page` }),
  );
  if (built) {
    await app.register(fastifyStatic, {
      root: consoleFilesDir,
      prefix: '/console/',
      wildcard: false,
      index: false,
      decorateReply: false,
      // Asset names carry a content hash: a browser may keep them for good.
      immutable: true,
      maxAge: '365d',
      allowedPath: (pathName) => pathName !== '/index.html',
    });
  }
}
