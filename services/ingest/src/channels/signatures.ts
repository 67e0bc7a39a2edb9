// The providers' webhook signatures, checked over the raw body bytes in constant time.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const equalHex = (expected: Buffer, stated: string): boolean =>
  /^[0-9a-f]{64}$/i.test(stated) && timingSafeEqual(expected, Buffer.from(stated, 'hex'));

/** Messenger (Meta webhooks): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the app secret>`. */
export function validHubSignature(appSecret: string, rawBody: Buffer, header: string): boolean {
  const stated = header.trim().replace(/^sha256=/i, '');
  return equalHex(createHmac('sha256', appSecret).update(rawBody).digest(), stated);
}

/**
 * Zalo Official Account: `X-ZEvent-Signature: mac=<hex SHA-256 of appId + raw body + timestamp + OA secret key>`,
 * the timestamp being the body's `timestamp` field as sent. A plain SHA-256 of the concatenation, not an HMAC.
 */
export function zaloMacOf(appId: string, rawBody: Buffer, timestamp: string, oaSecret: string): Buffer {
  return createHash('sha256').update(appId).update(rawBody).update(timestamp).update(oaSecret).digest();
}

export function validZaloSignature(
  { appId, oaSecret }: { appId: string; oaSecret: string },
  rawBody: Buffer,
  timestamp: string,
  header: string,
): boolean {
  const stated = header.trim().replace(/^mac\s*=\s*/i, '');
  return equalHex(zaloMacOf(appId, rawBody, timestamp, oaSecret), stated);
}
