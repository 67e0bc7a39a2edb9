import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureOf, verifySignature } from './sign';

describe('request signatures', () => {
  const secret = 'whsec_test_0123456789abcdef';
  const body = '{"id":"dlv_1","profile":{"profileId":"prf_1"}}';

  it('signs "<t>.<body>" with HMAC-SHA256 under the secret, as the header states', () => {
    const header = signatureOf(secret, body, 1_700_000_000);
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(header).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies its own signature within the tolerance', () => {
    const now = 1_700_000_000;
    expect(verifySignature(secret, body, signatureOf(secret, body, now), { now: now + 10 })).toBe(true);
  });

  it('refuses a changed body, another secret, an old timestamp and a malformed header', () => {
    const now = 1_700_000_000;
    const header = signatureOf(secret, body, now);
    expect(verifySignature(secret, `${body} `, header, { now })).toBe(false);
    expect(verifySignature('another-secret-0000', body, header, { now })).toBe(false);
    expect(verifySignature(secret, body, header, { now: now + 301 })).toBe(false);
    expect(verifySignature(secret, body, 'v1=abc', { now })).toBe(false);
  });
});
