// Which events the consent they carry keeps out of profiles.
import { describe, expect, it } from 'vitest';
import { consentRule } from './consent';

const context = (categoryPreferences: unknown) =>
  JSON.stringify({ library: { name: 'analytics.js' }, consent: { categoryPreferences } });

describe('consent rule', () => {
  const denied = consentRule(['Analytics', 'C0002']);

  it('denies an event that sets a needed category to false, whatever its case', () => {
    expect(denied(context({ analytics: false, Advertising: true }))).toBe(true);
    expect(denied(context({ C0002: false }))).toBe(true);
  });

  it('keeps an event that grants the categories, names other ones only, or says nothing of consent', () => {
    expect(denied(context({ Analytics: true, Advertising: false }))).toBe(false);
    expect(denied(context({ Advertising: false }))).toBe(false);
    expect(denied(JSON.stringify({ library: { name: 'analytics-node' } }))).toBe(false);
    expect(denied(context('yes'))).toBe(false);
    expect(denied(context({ Analytics: 'false' }))).toBe(false);
  });

  it('denies nothing when no category is needed', () => {
    expect(consentRule([])(context({ Analytics: false }))).toBe(false);
  });
});
