// /v1/destinations: an admin creates, reads, replaces and deletes webhooks, lists their deliveries, replays and tests.
import type { FastifyInstance } from 'fastify';
import { parseProfileRef, refFormat } from '@cdp/profiles';
import { AppError, invalidInput, problemsOf, type ZodTypeProvider } from '@cdp/runtime';
import { destinationBodySchema, type DestinationBody, type DestinationPatch } from '@cdp/schemas';
import { publicView, type DestinationStore, type SigningDestination } from '../definitions';
import type { Delivery, DeliveryStore } from '../deliveries';
import type { Dispatcher } from '../dispatcher';
import { RefusedAddress, type AddressGuard } from '../guard';
import type { PayloadReader } from '../payload';
import { contentTypeOf, parseTemplate, renderBody, TemplateProblem } from '../template';
import {
  createDoc,
  deleteDoc,
  deliveriesDoc,
  listDoc,
  patchDoc,
  previewDoc,
  readDoc,
  replaceDoc,
  replayDoc,
  testDoc,
} from './docs';

export interface DestinationRouteDeps {
  store: DestinationStore;
  deliveries: DeliveryStore;
  dispatcher: Dispatcher;
  guard: AddressGuard;
  payloads: PayloadReader;
}

const invalid = { code: 'INVALID_REQUEST', lead: 'the destination is not valid' } as const;

const shownDelivery = (delivery: Delivery) => ({
  id: delivery.deliveryId,
  status: delivery.status,
  profileId: delivery.profileId,
  trigger: delivery.trigger.kind === 'event' ? { ...delivery.trigger, identifiers: undefined } : delivery.trigger,
  attempts: delivery.attempts,
  createdAt: new Date(delivery.createdAt).toISOString(),
  updatedAt: new Date(delivery.updatedAt).toISOString(),
  nextAttemptAt: delivery.status === 'pending' ? new Date(delivery.nextAttemptAt).toISOString() : null,
  lastStatus: delivery.lastStatus === 0 ? null : delivery.lastStatus,
  lastError: delivery.lastError,
  latencyMs: delivery.latencyMs,
});

/** The stored definition with the patch's fields in place of its own; null removes a template or the traits. */
function patched(destination: SigningDestination, patch: DestinationPatch): DestinationBody {
  const { template, traits, ...rest } = patch;
  const body: DestinationBody = {
    name: destination.name,
    kind: destination.kind,
    url: destination.url,
    headers: destination.headers,
    secret: destination.secret,
    batch: destination.batch,
    ratePerSecond: destination.ratePerSecond,
    status: destination.status,
    triggers: destination.triggers,
    ...rest,
  };
  const keptTemplate = template === undefined ? destination.template : template;
  const keptTraits = traits === undefined ? destination.traits : traits;
  if (keptTemplate !== null) body.template = keptTemplate;
  if (keptTraits !== null) body.traits = keptTraits;
  return body;
}

/** What zod cannot check: the template parses, and the URL's host resolves to addresses a destination may reach. */
async function checked(body: DestinationBody, guard: AddressGuard): Promise<DestinationBody> {
  const problems: Array<{ path: string; message: string }> = [];
  if (body.template !== undefined) {
    try {
      parseTemplate(body.template);
    } catch (error) {
      if (!(error instanceof TemplateProblem)) throw error;
      problems.push({ path: 'template', message: error.message });
    }
  }
  try {
    await guard.checkUrl(body.url);
  } catch (error) {
    problems.push({
      path: 'url',
      message:
        error instanceof RefusedAddress ? error.message : `the host does not resolve: ${(error as Error).message}`,
    });
  }
  if (problems.length > 0) throw invalidInput(problems, { answer: invalid });
  return body;
}

export function destinationRoutes(app: FastifyInstance, deps: DestinationRouteDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const existing = async (id: string): Promise<SigningDestination> => {
    const destination = await deps.store.get(id);
    if (!destination) throw new AppError('NOT_FOUND', `no destination ${id}`);
    return destination;
  };

  app.get('/v1/destinations', listDoc, async () => ({ destinations: (await deps.store.list()).map(publicView) }));

  api.post('/v1/destinations', createDoc, async (request, reply) => {
    const saved = await deps.store.save(await checked(request.body, deps.guard));
    return reply.status(201).send(publicView(saved));
  });

  api.post('/v1/destinations/preview', previewDoc, async (request) => {
    const { profile: ref, template, traits } = request.body;
    const invalidPreview = { code: 'INVALID_REQUEST', lead: 'the preview is not valid' } as const;
    const parsed = parseProfileRef(ref);
    if (!parsed) throw invalidInput([{ path: 'profile', message: refFormat }], { answer: invalidPreview });
    const payload = await deps.payloads.previewOf(parsed, traits ?? null, Date.now());
    if (!payload) throw new AppError('NOT_FOUND', `no profile has ${parsed.type} ${parsed.value}`);
    let body: string;
    try {
      body = await renderBody(template ?? '', payload);
    } catch (error) {
      // A parse problem names its line; a render that fails (a limit reached) says why.
      const message = error instanceof TemplateProblem ? error.message : (error as Error).message;
      throw invalidInput([{ path: 'template', message }], { answer: invalidPreview });
    }
    return { profileId: payload.profile.profileId, body, contentType: contentTypeOf(body), payload };
  });

  api.get('/v1/destinations/:id', readDoc, async (request) => publicView(await existing(request.params.id)));

  api.put('/v1/destinations/:id', replaceDoc, async (request) => {
    const destination = await existing(request.params.id);
    return publicView(await deps.store.save(await checked(request.body, deps.guard), destination.id));
  });

  api.patch('/v1/destinations/:id', patchDoc, async (request) => {
    const destination = await existing(request.params.id);
    const merged = destinationBodySchema.safeParse(patched(destination, request.body));
    if (!merged.success) throw invalidInput(problemsOf(merged.error), { answer: invalid });
    return publicView(await deps.store.save(await checked(merged.data, deps.guard), destination.id));
  });

  api.delete('/v1/destinations/:id', deleteDoc, async (request, reply) => {
    if (!(await deps.store.remove(request.params.id)))
      throw new AppError('NOT_FOUND', `no destination ${request.params.id}`);
    return reply.status(204).send();
  });

  api.get('/v1/destinations/:id/deliveries', deliveriesDoc, async (request) => {
    const destination = await existing(request.params.id);
    const { limit, status } = request.query;
    return {
      deliveries: (await deps.deliveries.recent(destination.id, status ? { limit, status } : { limit })).map(
        shownDelivery,
      ),
    };
  });

  api.post('/v1/destinations/:id/replay', replayDoc, async (request) => {
    const destination = await existing(request.params.id);
    const replayed = await deps.deliveries.replayDead(destination.id, Date.now());
    deps.dispatcher.wake([destination.id]);
    return { replayed };
  });

  api.post('/v1/destinations/:id/test', testDoc, async (request) => {
    const { answer, error } = await deps.dispatcher.sendTest(await existing(request.params.id));
    return {
      ok: answer !== null && answer.status >= 200 && answer.status < 300,
      status: answer?.status ?? null,
      latencyMs: answer ? Math.round(answer.latencyMs) : null,
      body: answer?.body ?? '',
      error,
    };
  });
}
