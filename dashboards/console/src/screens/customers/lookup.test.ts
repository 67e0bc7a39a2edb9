// Search texts become the lookups a care agent means: Vietnamese phone spellings to E.164, emails, profile ids, then user and anonymous ids.
import { describe, expect, it } from 'vitest';
import { candidatesFor, parseRef, phoneE164, profileRef } from './lookup';

describe('customer lookup', () => {
  it('reads a Vietnamese phone however people type it', () => {
    for (const text of [
      '0912 345 678',
      '0912.345.678',
      '0912-345-678',
      '+84 912 345 678',
      '84912345678',
      '(+84) 912345678',
    ])
      expect(phoneE164(text)).toBe('+84912345678');
    expect(phoneE164('+1 415 555 2671')).toBe('+14155552671');
    expect(phoneE164('12345')).toBeNull();
    expect(phoneE164('kh-1-00069')).toBeNull();
  });

  it('tries the likely identifier first and falls back to user and anonymous ids', () => {
    expect(candidatesFor(' Lan@Example.com ').map((candidate) => candidate.type)).toEqual([
      'email',
      'user_id',
      'anonymous_id',
    ]);
    expect(candidatesFor('Lan@Example.com')[0]?.value).toBe('lan@example.com');
    expect(candidatesFor('0912 345 678')).toEqual([
      { type: 'phone', value: '+84912345678' },
      { type: 'user_id', value: '0912 345 678' },
      { type: 'anonymous_id', value: '0912 345 678' },
    ]);
    expect(candidatesFor('prf_3f9a').map((candidate) => candidate.type)).toEqual([
      'profile_id',
      'user_id',
      'anonymous_id',
    ]);
    expect(candidatesFor('kh-1-00069').map((candidate) => candidate.type)).toEqual(['user_id', 'anonymous_id']);
    expect(candidatesFor('8458231697534102657').map((candidate) => candidate.type)).toEqual([
      'zalo_id',
      'messenger_psid',
      'user_id',
      'anonymous_id',
    ]);
    expect(parseRef('zalo_id%3A8458231697534102657')).toEqual({ type: 'zalo_id', value: '8458231697534102657' });
    expect(candidatesFor('   ')).toEqual([]);
  });

  it('round-trips an identifier through a console address', () => {
    const candidate = { type: 'phone' as const, value: '+84912345678' };
    expect(profileRef(candidate)).toBe('phone:%2B84912345678');
    expect(parseRef(profileRef(candidate))).toEqual(candidate);
    expect(parseRef('email:a%40b.c')).toEqual({ type: 'email', value: 'a@b.c' });
    expect(parseRef('nickname:ada')).toBeNull();
    expect(parseRef('user_id:')).toBeNull();
    expect(parseRef('%E0%A4%A')).toBeNull();
  });
});
