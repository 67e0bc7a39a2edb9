// Identifier normalisation: one email and one phone however they are written, nothing guessed.
import { describe, expect, it } from 'vitest';
import { normaliseEmail, normalisePhone } from './identity';

describe('normaliseEmail', () => {
  it('lower-cases and trims', () => {
    expect(normaliseEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
  });
  it('refuses what is not an address', () => {
    for (const value of ['', 'ada', 'a@', '@b', 'a b@c.d', 42, null]) expect(normaliseEmail(value)).toBeNull();
  });
});

describe('normalisePhone', () => {
  it('writes numbers with a country code in E.164', () => {
    expect(normalisePhone('+84 91 234 5678')).toBe('+84912345678');
    expect(normalisePhone('0084-912-345-678')).toBe('+84912345678');
    expect(normalisePhone('+1 (415) 555-2671')).toBe('+14155552671');
  });
  it('refuses local numbers and nonsense rather than guess a country', () => {
    for (const value of ['0912345678', '12', '+', 'call me', '', undefined]) expect(normalisePhone(value)).toBeNull();
  });
  it("reads a local number as the given country's, and one with its country code as written", () => {
    expect(normalisePhone('0912 345 678', 'VN')).toBe('+84912345678');
    expect(normalisePhone('091.234.5678', 'VN')).toBe('+84912345678');
    expect(normalisePhone('+1 (415) 555-2671', 'VN')).toBe('+14155552671');
    for (const value of ['12', 'call me', '']) expect(normalisePhone(value, 'VN')).toBeNull();
  });
});
