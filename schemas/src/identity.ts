// Identifiers, their normalisation (the one place it happens), and the identity link record's Avro codec (schema: schemas/avro/identity-link.avsc).
import { avroCodec } from './avro';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

export const identifierTypes = ['user_id', 'email', 'phone', 'anonymous_id'] as const;
export type IdentifierType = (typeof identifierTypes)[number];

export interface Identifier {
  type: IdentifierType;
  value: string;
}

export interface IdentityLink {
  requestId: string;
  messageId: string;
  identifiers: Identifier[];
}

const linkCodec = avroCodec<IdentityLink>('identity-link.avsc');

export const encodeLink = linkCodec.encode;
export const decodeLink = linkCodec.decode;

/** Lower-cased and trimmed; null unless it looks like an address (one @ with text on both sides). */
export function normaliseEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) && email.length <= 320 ? email : null;
}

/**
 * E.164, or null. Only numbers written with their country code (`+84 …`, `0084 …`) are used: guessing a country
 * for a local number could join two different people, which is worse than not joining at all.
 */
export function normalisePhone(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  let text = String(value).trim();
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  if (!text.startsWith('+')) return null;
  const phone = parsePhoneNumberFromString(text);
  return phone?.isPossible() ? phone.number : null;
}
