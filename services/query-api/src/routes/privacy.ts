// Erasure and suppression of a customer, and the audit log of both: every route needs an admin key.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { newAuditId, type AuditLog, type Erasures, type SuppressionStore } from '@cdp/privacy';
import { AppError, invalidInput, problemsOf, type ClickHouseClient, type ZodTypeProvider } from '@cdp/runtime';
import type { Identifier } from '@cdp/schemas';
import { profileOfRef } from './profiles';
import { auditDoc, eraseDoc, erasureDoc, identifierBody, liftDoc, suppressDoc } from './privacy-docs';

/** The identifier a `{type}:{value}` path names, normalised as a suppression's body is, or the same 400 at its `type` or `value`. */
function refIdentifier(ref: string): Identifier {
  const colon = ref.indexOf(':');
  const parsed = identifierBody.safeParse({ type: ref.slice(0, colon), value: colon < 0 ? '' : ref.slice(colon + 1) });
  if (!parsed.success) throw invalidInput(problemsOf(parsed.error), { part: 'params' });
  return parsed.data;
}

const keyPrefixOf = (request: FastifyRequest) => request.grant?.prefix ?? '';

export function privacyRoutes(
  app: FastifyInstance,
  deps: { clickhouse: ClickHouseClient; erasures: Erasures; suppressions: SuppressionStore; audit: AuditLog },
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.delete('/v1/profiles/:ref', eraseDoc, async (request, reply) => {
    const survivor = await profileOfRef(deps.clickhouse, request.params.ref);
    const id = await deps.erasures.start(survivor, keyPrefixOf(request));
    return reply
      .status(202)
      .header('location', `/v1/erasures/${id}`)
      .send(await deps.erasures.get(id));
  });

  api.get('/v1/erasures/:id', erasureDoc, async (request) => {
    const entry = await deps.erasures.get(request.params.id);
    if (!entry || entry.action !== 'erasure') throw new AppError('NOT_FOUND', `no erasure ${request.params.id}`);
    return entry;
  });

  api.post('/v1/suppressions', suppressDoc, async (request, reply) => {
    const identifier = request.body;
    const added = await deps.suppressions.suppress([identifier], 'request');
    await deps.audit.record({
      id: newAuditId('suppress'),
      action: 'suppress',
      keyPrefix: keyPrefixOf(request),
      state: 'done',
      counts: { identifiers: added },
    });
    return reply.status(added > 0 ? 201 : 200).send({ type: identifier.type, suppressed: true, created: added > 0 });
  });

  api.delete('/v1/suppressions/:ref', liftDoc, async (request, reply) => {
    const identifier = refIdentifier(request.params.ref);
    if (!(await deps.suppressions.lift(identifier))) {
      throw new AppError(
        'NOT_FOUND',
        `no suppression made on request for this ${identifier.type}; an erased customer's stay suppressed`,
      );
    }
    await deps.audit.record({
      id: newAuditId('unsuppress'),
      action: 'unsuppress',
      keyPrefix: keyPrefixOf(request),
      state: 'done',
      counts: { identifiers: 1 },
    });
    return reply.status(204).send();
  });

  api.get('/v1/audit', auditDoc, async (request) => ({ entries: await deps.audit.list(request.query.limit) }));
}
