// The identifiers of an event, normalised in this one place: userId, anonymousId, email (traits), phone (E.164).
import { createHash } from 'node:crypto';
import {
  channelIdentifierTypes,
  normaliseEmail,
  normalisePhone,
  type EventRecord,
  type Identifier,
  type IdentifierType,
} from '@cdp/schemas';

const strength: Record<IdentifierType, number> = {
  user_id: 0,
  email: 1,
  phone: 2,
  zalo_id: 3,
  messenger_psid: 4,
  anonymous_id: 5,
};
const channelTypes = new Set<string>(channelIdentifierTypes);

/** A stable id derived from the identifier a profile started from, so every resolver instance computes the same one. */
export function profileIdOf(identifier: Identifier): string {
  const digest = createHash('sha256').update(`${identifier.type}\u0000${identifier.value}`).digest('hex');
  return `prf_${digest.slice(0, 24)}`;
}

export const identifierKey = (identifier: Identifier) => `${identifier.type}:${identifier.value}`;

const asObject = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** The JSON object a text holds, or null when it holds anything else or is not JSON. */
export function parseObject(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** An event's `context` and `traits` as `parseObject` gives them: null where the text holds no JSON object. */
export interface ParsedParts {
  context: Record<string, unknown> | null;
  traits: Record<string, unknown> | null;
}

// Only an identify's own traits are read.
const partsOf = (event: EventRecord): ParsedParts => ({
  context: parseObject(event.context),
  traits: event.type === 'identify' ? parseObject(event.traits) : null,
});

/** Traits the event states about its customer: identify's `traits`, and any event's `context.traits` beneath them. */
function traitsOf(event: EventRecord, parts: ParsedParts): Record<string, unknown> {
  const contextTraits = asObject(parts.context?.traits);
  return event.type === 'identify' ? { ...contextTraits, ...parts.traits } : contextTraits;
}

/** Local parts of an email that a till or a form puts in when the customer gave none. */
const placeholderLocalParts = new Set([
  'noemail',
  'no-email',
  'no.email',
  'none',
  'null',
  'nil',
  'na',
  'n/a',
  'unknown',
  'noreply',
  'no-reply',
  'donotreply',
  'do-not-reply',
]);

/** Whether an identifier names nobody: a placeholder email or phone, never linked to a profile. */
export type Blocked = (identifier: Identifier) => boolean;

/**
 * The built-in placeholders (an email whose local part is `noemail`, `none`, `unknown`, `noreply` and the like; a
 * phone of one digit repeated) and the configured emails and phones, compared as normalised.
 */
export function blocklist(configured: string[] = []): Blocked {
  const listed = new Set<string>();
  for (const value of configured) {
    const email = normaliseEmail(value);
    const phone = normalisePhone(value);
    if (email) listed.add(`email:${email}`);
    if (phone) listed.add(`phone:${phone}`);
  }
  return (identifier) => {
    if (identifier.type === 'email')
      return (
        placeholderLocalParts.has(identifier.value.slice(0, identifier.value.lastIndexOf('@'))) ||
        listed.has(`email:${identifier.value}`)
      );
    if (identifier.type === 'phone')
      return /^\+\d{1,3}(\d)\1+$/.test(identifier.value) || listed.has(`phone:${identifier.value}`);
    return false;
  };
}

/** The channel user ids of Segment's `context.externalIds` (`[{ id, type: 'zalo_id' | 'messenger_psid' }]`); other types are ignored. */
function channelIdsOf(context: Record<string, unknown> | null): Array<{ type: IdentifierType; value: string }> {
  const externalIds = context?.externalIds;
  if (!Array.isArray(externalIds)) return [];
  return externalIds.flatMap((entry) => {
    const { id, type } = asObject(entry);
    const value = typeof id === 'number' ? String(id) : id;
    return typeof type === 'string' && channelTypes.has(type) && typeof value === 'string' && value.length > 0
      ? [{ type: type as IdentifierType, value }]
      : [];
  });
}

/**
 * Every identifier of the event, strongest first, each once, none that is blocked. An alias's previousId is an
 * anonymous id. `parts`: its context and traits when the caller has parsed them already.
 */
export function identifiersOf(
  event: EventRecord,
  blocked: Blocked = () => false,
  parts: ParsedParts = partsOf(event),
): Identifier[] {
  const found = new Map<string, Identifier>();
  const add = (type: IdentifierType, value: string | null) => {
    if (value && !blocked({ type, value })) found.set(`${type}:${value}`, { type, value });
  };
  add('user_id', event.userId);
  const traits = traitsOf(event, parts);
  add('email', normaliseEmail(traits.email));
  add('phone', normalisePhone(traits.phone));
  for (const { type, value } of channelIdsOf(parts.context)) add(type, value);
  add('anonymous_id', event.anonymousId);
  if (event.type === 'alias') add('anonymous_id', event.previousId);
  return [...found.values()].sort((a, b) => strength[a.type] - strength[b.type]);
}
