// Segment definitions over HTTP: list, create, read, replace, delete, preview (count + sample without saving), audiences.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError, type ClickHouseClient } from '@cdp/runtime';
import { previewBodySchema, segmentBodySchema } from '@cdp/schemas';
import { createSegmentStore, latestMovements, previewRule, type SegmentDefinition } from '@cdp/segments';
import { audienceRoutes } from './audiences';
import { createDoc, deleteDoc, listDoc, previewDoc, readDoc, replaceDoc } from './segment-docs';

const sampleSize = 20;

/** The body parsed by zod, or a 400 naming every problem at its exact path (`rule.and.1.gte`). */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  throw new AppError('INVALID_SEGMENT', `the segment is not valid: ${errors.map((error) => `${error.path || '(body)'}: ${error.message}`).join('; ')}`, errors);
}

export function segmentRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient }): void {
  const store = createSegmentStore(deps.clickhouse);
  const withSize = (definition: SegmentDefinition, sizes: Map<string, number>) => ({ ...definition, size: sizes.get(definition.id) ?? 0 });

  async function existing(request: FastifyRequest<{ Params: { id: string } }>, change: boolean): Promise<SegmentDefinition> {
    const definition = await store.get(request.params.id);
    if (!definition) throw new AppError('NOT_FOUND', `no segment ${request.params.id}`);
    if (change && definition.kind === 'builtin') throw new AppError('READ_ONLY_SEGMENT', `${definition.id} is a built-in segment`);
    return definition;
  }

  app.get('/v1/segments', listDoc, async () => {
    const [definitions, sizes, movements] = await Promise.all([store.list(), store.sizes(), latestMovements(deps.clickhouse)]);
    const moved = (id: string) => movements.bySegment.get(id) ?? { entered: 0, exited: 0 };
    return { evaluatedAt: movements.evaluatedAt, segments: definitions.map((definition) => ({ ...withSize(definition, sizes), ...moved(definition.id) })) };
  });

  app.post('/v1/segments', createDoc, async (request, reply) => {
    const body = parseBody(segmentBodySchema, request.body);
    const saved = await store.save({ name: body.name, kind: 'custom', rule: body.rule });
    return reply.status(201).send({ ...saved, size: 0 });
  });

  app.post('/v1/segments/preview', previewDoc, async (request) => {
    const { rule } = parseBody(previewBodySchema, request.body);
    return previewRule(deps.clickhouse, rule, { now: Date.now(), sampleSize });
  });

  app.get<{ Params: { id: string } }>('/v1/segments/:id', readDoc, async (request) => {
    const definition = await existing(request, false);
    const [sizes, movements] = await Promise.all([store.sizes(), latestMovements(deps.clickhouse)]);
    return { ...withSize(definition, sizes), ...(movements.bySegment.get(definition.id) ?? { entered: 0, exited: 0 }), evaluatedAt: movements.evaluatedAt };
  });

  app.put<{ Params: { id: string } }>('/v1/segments/:id', replaceDoc, async (request) => {
    const definition = await existing(request, true);
    const body = parseBody(segmentBodySchema, request.body);
    const saved = await store.save({ id: definition.id, name: body.name, kind: 'custom', rule: body.rule });
    return withSize(saved, await store.sizes());
  });

  app.delete<{ Params: { id: string } }>('/v1/segments/:id', deleteDoc, async (request, reply) => {
    const definition = await existing(request, true);
    await store.remove(definition.id);
    return reply.status(204).send();
  });

  audienceRoutes(app, { ...deps, store });
}
