// Segment definitions over HTTP: list, create, read, replace, delete, preview (count + sample without saving), audiences.
import type { FastifyInstance } from 'fastify';
import { AppError, type ClickHouseClient, type ZodTypeProvider } from '@cdp/runtime';
import { createSegmentStore, latestMovements, previewRule, type SegmentDefinition } from '@cdp/segments';
import { audienceRoutes } from './audiences';
import { createDoc, deleteDoc, listDoc, previewDoc, readDoc, replaceDoc } from './segment-docs';

const sampleSize = 20;

// Bodies reach the handlers parsed: their routes validate them (400 INVALID_SEGMENT, every problem at its exact path).
export function segmentRoutes(
  app: FastifyInstance,
  deps: { clickhouse: ClickHouseClient; /** Carries the tighter limits of previews. */ preview: ClickHouseClient },
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const store = createSegmentStore(deps.clickhouse);
  const withSize = (definition: SegmentDefinition, sizes: Map<string, number>) => ({
    ...definition,
    size: sizes.get(definition.id) ?? 0,
  });

  async function existing(id: string, change: boolean): Promise<SegmentDefinition> {
    const definition = await store.get(id);
    if (!definition) throw new AppError('NOT_FOUND', `no segment ${id}`);
    if (change && definition.kind === 'builtin')
      throw new AppError('READ_ONLY_SEGMENT', `${definition.id} is a built-in segment`);
    return definition;
  }

  app.get('/v1/segments', listDoc, async () => {
    const [definitions, sizes, movements] = await Promise.all([
      store.list(),
      store.sizes(),
      latestMovements(deps.clickhouse),
    ]);
    const moved = (id: string) => movements.bySegment.get(id) ?? { entered: 0, exited: 0 };
    return {
      evaluatedAt: movements.evaluatedAt,
      segments: definitions.map((definition) => ({ ...withSize(definition, sizes), ...moved(definition.id) })),
    };
  });

  api.post('/v1/segments', createDoc, async (request, reply) => {
    const { body } = request;
    const saved = await store.save({ name: body.name, kind: 'custom', rule: body.rule });
    return reply.status(201).send({ ...saved, size: 0 });
  });

  api.post('/v1/segments/preview', previewDoc, async (request) => {
    const { rule } = request.body;
    return previewRule(deps.preview, rule, { now: Date.now(), sampleSize });
  });

  api.get('/v1/segments/:id', readDoc, async (request) => {
    const definition = await existing(request.params.id, false);
    const [sizes, movements] = await Promise.all([store.sizes(), latestMovements(deps.clickhouse)]);
    return {
      ...withSize(definition, sizes),
      ...(movements.bySegment.get(definition.id) ?? { entered: 0, exited: 0 }),
      evaluatedAt: movements.evaluatedAt,
    };
  });

  api.put('/v1/segments/:id', replaceDoc, async (request) => {
    const definition = await existing(request.params.id, true);
    const { body } = request;
    const saved = await store.save({ id: definition.id, name: body.name, kind: 'custom', rule: body.rule });
    return withSize(saved, await store.sizes());
  });

  api.delete('/v1/segments/:id', deleteDoc, async (request, reply) => {
    const definition = await existing(request.params.id, true);
    await store.remove(definition.id);
    return reply.status(204).send();
  });

  audienceRoutes(app, { ...deps, store });
}
