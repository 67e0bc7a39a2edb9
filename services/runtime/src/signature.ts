// Request signatures of our webhooks, both ways: `X-CDP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const signatureHeader = 'X-CDP-Signature';

const digestOf = (secret: string, body: string | Buffer, unixSeconds: number): Buffer =>
  createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest();

export function signatureOf(secret: string, body: string | Buffer, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${digestOf(secret, body, unixSeconds).toString('hex')}`;
}

/** Why a signature header fails, or `valid`: `malformed` (no `t` or `v1`), `stale` (outside the tolerance), `mismatch`. */
export type SignatureCheck = 'valid' | 'malformed' | 'stale' | 'mismatch';

/**
 * What a receiver does: recompute the HMAC over the raw body with the timestamp the header states, compare in
 * constant time, and refuse a timestamp further than the tolerance from now (a replayed request).
 */
export function checkSignature(
  secret: string,
  body: string | Buffer,
  header: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): SignatureCheck {
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return 'malformed';
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return 'stale';
  return timingSafeEqual(digestOf(secret, body, t), Buffer.from(v1, 'hex')) ? 'valid' : 'mismatch';
}

export function verifySignature(
  secret: string,
  body: string | Buffer,
  header: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  return checkSignature(secret, body, header, options) === 'valid';
}
