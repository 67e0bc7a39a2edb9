// Erasure and suppression of a customer, and the audit log of both: every route needs an admin key.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { newAuditId, type AuditLog, type Erasures, type SuppressionStore } from '@cdp/privacy';
import { AppError, type ClickHouseClient } from '@cdp/runtime';
import { identifierTypes, normaliseEmail, normalisePhone, type Identifier } from '@cdp/schemas';
import { profileOfRef } from './profiles';
import { auditDoc, eraseDoc, erasureDoc, liftDoc, suppressDoc } from './privacy-docs';

const identifierSchema = z.object({ type: z.enum(identifierTypes), value: z.string().min(1).max(1000) });

/** An identifier as the resolver stores it (emails and phones normalised), or a 400 naming what is wrong. */
function normalised(input: unknown): Identifier {
  const parsed = identifierSchema.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
    throw new AppError('INVALID_REQUEST', errors.map((error) => `${error.path || '(body)'}: ${error.message}`).join('; '), errors);
  }
  const { type, value } = parsed.data;
  const stored = type === 'email' ? normaliseEmail(value) : type === 'phone' ? normalisePhone(value) : value;
  if (stored === null) throw new AppError('INVALID_REQUEST', `value: not a valid ${type === 'phone' ? 'phone number with its country code' : type}`, [{ path: 'value', message: `not a valid ${type}` }]);
  return { type, value: stored };
}

const refIdentifier = (ref: string) => {
  const colon = ref.indexOf(':');
  return normalised({ type: ref.slice(0, colon), value: colon < 0 ? '' : ref.slice(colon + 1) });
};

const keyPrefixOf = (request: FastifyRequest) => request.grant?.prefix ?? '';

export function privacyRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient; erasures: Erasures; suppressions: SuppressionStore; audit: AuditLog }): void {
  app.delete<{ Params: { ref: string } }>('/v1/profiles/:ref', eraseDoc, async (request, reply) => {
    const survivor = await profileOfRef(deps.clickhouse, request.params.ref);
    const id = await deps.erasures.start(survivor, keyPrefixOf(request));
    return reply.status(202).header('location', `/v1/erasures/${id}`).send(await deps.erasures.get(id));
  });

  app.get<{ Params: { id: string } }>('/v1/erasures/:id', erasureDoc, async (request) => {
    const entry = await deps.erasures.get(request.params.id);
    if (!entry || entry.action !== 'erasure') throw new AppError('NOT_FOUND', `no erasure ${request.params.id}`);
    return entry;
  });

  app.post('/v1/suppressions', suppressDoc, async (request, reply) => {
    const identifier = normalised(request.body ?? {});
    const added = await deps.suppressions.suppress([identifier], 'request');
    await deps.audit.record({ id: newAuditId('suppress'), action: 'suppress', keyPrefix: keyPrefixOf(request), state: 'done', counts: { identifiers: added } });
    return reply.status(added > 0 ? 201 : 200).send({ type: identifier.type, suppressed: true, created: added > 0 });
  });

  app.delete<{ Params: { ref: string } }>('/v1/suppressions/:ref', liftDoc, async (request, reply) => {
    const identifier = refIdentifier(request.params.ref);
    if (!(await deps.suppressions.lift(identifier))) {
      throw new AppError('NOT_FOUND', `no suppression made on request for this ${identifier.type}; an erased customer's stay suppressed`);
    }
    await deps.audit.record({ id: newAuditId('unsuppress'), action: 'unsuppress', keyPrefix: keyPrefixOf(request), state: 'done', counts: { identifiers: 1 } });
    return reply.status(204).send();
  });

  app.get<{ Querystring: { limit?: string } }>('/v1/audit', auditDoc, async (request) => {
    const limit = Number(request.query.limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AppError('INVALID_REQUEST', 'limit must be a whole number from 1 to 1000', [{ path: 'limit', message: 'from 1 to 1000' }]);
    return { entries: await deps.audit.list(limit) };
  });
}
