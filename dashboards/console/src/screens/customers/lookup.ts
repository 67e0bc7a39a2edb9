// Which identifiers a search text may be, most likely first: an email, a phone as people write it in Vietnam (to E.164), a profile id, a Zalo or Messenger id, else a user or anonymous id.
import { parsePhoneNumberFromString } from 'libphonenumber-js';

export const identifierTypes = [
  'profile_id',
  'user_id',
  'anonymous_id',
  'email',
  'phone',
  'zalo_id',
  'messenger_psid',
] as const;
export type IdentifierType = (typeof identifierTypes)[number];

export interface Candidate {
  type: IdentifierType;
  value: string;
}

/** A phone number in E.164 (`0912 345 678` → `+84912345678`), Vietnam when no country code is given; null when it is not a valid number. */
export function phoneE164(text: string): string | null {
  if (!/^[\d\s+().\-/]+$/.test(text) || !/\d/.test(text)) return null;
  const parsed = parsePhoneNumberFromString(text, 'VN');
  return parsed?.isValid() ? parsed.number : null;
}

/** The lookups to try in order; every text is also tried as a user id and then as an anonymous id. */
export function candidatesFor(input: string): Candidate[] {
  const text = input.trim();
  if (text === '') return [];
  const candidates: Candidate[] = [];
  if (text.includes('@')) candidates.push({ type: 'email', value: text.toLowerCase() });
  const phone = phoneE164(text);
  if (phone) candidates.push({ type: 'phone', value: phone });
  if (text.startsWith('prf_')) candidates.push({ type: 'profile_id', value: text });
  // Zalo user ids and Messenger page-scoped ids are long runs of digits, longer than any local phone number.
  if (/^\d{12,}$/.test(text))
    candidates.push({ type: 'zalo_id', value: text }, { type: 'messenger_psid', value: text });
  candidates.push({ type: 'user_id', value: text }, { type: 'anonymous_id', value: text });
  return candidates;
}

/** `/v1/profiles/{type}:{value}` and the console's own `/console/customers/{type}:{value}`, the value encoded. */
export const profileRef = (candidate: Candidate): string => `${candidate.type}:${encodeURIComponent(candidate.value)}`;

/** The identifier named by the part of an address after /console/customers/, or null when it names none. */
export function parseRef(part: string): Candidate | null {
  let text: string;
  try {
    text = decodeURIComponent(part);
  } catch {
    return null;
  }
  const colon = text.indexOf(':');
  const type = text.slice(0, colon) as IdentifierType;
  const value = text.slice(colon + 1);
  return colon > 0 && value !== '' && identifierTypes.includes(type) ? { type, value } : null;
}
