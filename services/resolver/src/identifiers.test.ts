// Which identifiers name nobody: placeholder emails and phones, built in and configured, compared as normalised.
import { describe, expect, it } from 'vitest';
import { blocklist } from './identifiers';

describe('blocklist', () => {
  const blocked = blocklist([' KhongCo@CuaHang.vn ', '+84 90 000 1111']);

  it('blocks the placeholder emails a till puts in, and keeps real ones', () => {
    for (const value of [
      'noemail@store.com',
      'no-email@shop.vn',
      'none@example.com',
      'unknown@cuahang.vn',
      'noreply@brand.vn',
    ]) {
      expect(blocked({ type: 'email', value }), value).toBe(true);
    }
    for (const value of ['ada@example.com', 'noemail.ada@example.com', 'nonexistent@x.vn'])
      expect(blocked({ type: 'email', value }), value).toBe(false);
  });

  it('blocks phones of one repeated digit and the configured values, normalised, and never a userId or anonymous id', () => {
    expect(blocked({ type: 'phone', value: '+84000000000' })).toBe(true);
    expect(blocked({ type: 'phone', value: '+11111111111' })).toBe(true);
    expect(blocked({ type: 'phone', value: '+84912345678' })).toBe(false);
    expect(blocked({ type: 'email', value: 'khongco@cuahang.vn' })).toBe(true);
    expect(blocked({ type: 'phone', value: '+84900001111' })).toBe(true);
    expect(blocked({ type: 'user_id', value: 'noemail@store.com' })).toBe(false);
    expect(blocked({ type: 'anonymous_id', value: '00000000' })).toBe(false);
  });
});
