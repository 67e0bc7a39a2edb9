// Profile ids and identifiers of an event, by the simplest correct rule: the userId's profile, else the anonymousId's.
import { createHash } from 'node:crypto';
import type { EventRecord } from '@cdp/schemas';

export type IdentifierType = 'user_id' | 'anonymous_id';

export interface Identifier {
  type: IdentifierType;
  value: string;
}

/** A stable id derived from the identifier, so every resolver instance computes the same one. */
export function profileIdOf(identifier: Identifier): string {
  const digest = createHash('sha256').update(`${identifier.type}\u0000${identifier.value}`).digest('hex');
  return `prf_${digest.slice(0, 24)}`;
}

export function identifiersOf(event: EventRecord): Identifier[] {
  const identifiers: Identifier[] = [];
  if (event.userId) identifiers.push({ type: 'user_id', value: event.userId });
  if (event.anonymousId) identifiers.push({ type: 'anonymous_id', value: event.anonymousId });
  return identifiers;
}

/** The identifier that decides the profile: a userId always wins. */
export function primaryIdentifier(event: EventRecord): Identifier | null {
  return identifiersOf(event)[0] ?? null;
}
