// Identifiers, their normalisation (the one place it happens), and the identity link record's Avro codec (schema: schemas/avro/identity-link.avsc).
import { avroCodec } from './avro';
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export const identifierTypes = ['user_id', 'email', 'phone', 'zalo_id', 'messenger_psid', 'anonymous_id'] as const;
export type IdentifierType = (typeof identifierTypes)[number];

/**
 * Identifiers a messaging channel gives its users: a Zalo Official Account's follower id, a Facebook Page's
 * page-scoped id (PSID). An event names them in Segment's `context.externalIds` (`[{ id, type }]`).
 */
export const channelIdentifierTypes = ['zalo_id', 'messenger_psid'] as const;
export type ChannelIdentifierType = (typeof channelIdentifierTypes)[number];

export interface Identifier {
  type: IdentifierType;
  value: string;
}

export interface IdentityLink {
  requestId: string;
  messageId: string;
  identifiers: Identifier[];
  /**
   * Whether each identifier's value is its pseudonym (a keyed hash, see @cdp/privacy) rather than the identifier
   * itself. Records written before pseudonyms hold plaintext; the link log keeps them, so both are read.
   */
  pseudonymous: boolean;
}

const linkCodec = avroCodec<Omit<IdentityLink, 'pseudonymous'>>('identity-link.avsc');

/**
 * A pseudonymous record is its Avro bytes after this marker byte. A plaintext record cannot start with it: its first
 * field, the requestId, is never empty, and Avro writes a string's length first (zigzag: 2 × length, never 0).
 */
const pseudonymousMarker = 0x00;

export function encodeLink(link: IdentityLink): Buffer {
  const { pseudonymous, ...record } = link;
  const body = linkCodec.encode(record);
  return pseudonymous ? Buffer.concat([Buffer.of(pseudonymousMarker), body]) : body;
}

export function decodeLink(buffer: Buffer): IdentityLink {
  const pseudonymous = buffer[0] === pseudonymousMarker;
  const { requestId, messageId, identifiers } = linkCodec.decode(pseudonymous ? buffer.subarray(1) : buffer);
  return { requestId, messageId, identifiers, pseudonymous };
}

/** Lower-cased and trimmed; null unless it looks like an address (one @ with text on both sides). */
export function normaliseEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) && email.length <= 320 ? email : null;
}

/**
 * E.164, or null. Without a country, only numbers written with their country code (`+84 …`, `0084 …`) are used:
 * guessing a country for a local number could join two different people, which is worse than not joining at all.
 * A caller that knows the country (an import of one shop's customers, `--country VN`) names it, and a local
 * number (`0912 345 678`) is read as that country's; the stored identifier is the same E.164 either way.
 */
export function normalisePhone(value: unknown, defaultCountry?: CountryCode): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  let text = String(value).trim();
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  if (!text.startsWith('+') && !defaultCountry) return null;
  const phone = text.startsWith('+')
    ? parsePhoneNumberFromString(text)
    : parsePhoneNumberFromString(text, defaultCountry);
  return phone?.isPossible() ? phone.number : null;
}

/** A country whose phone numbers the normaliser knows, by its ISO 3166-1 alpha-2 code. */
export type PhoneCountry = CountryCode;

/** Whether a two-letter code names a country whose phone numbers are known (ISO 3166-1 alpha-2: VN, TH, US). */
export function isPhoneCountry(code: string): code is PhoneCountry {
  return isSupportedCountry(code);
}
