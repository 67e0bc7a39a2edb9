import { describe, expect, it } from 'vitest';
import { createAddressGuard, RefusedAddress } from './guard';

describe('the address guard', () => {
  const guard = createAddressGuard();

  it('refuses loopback, private, link-local and unspecified addresses, IPv4 and IPv6', () => {
    expect(guard.refusal('127.0.0.1')).toBe('loopback');
    expect(guard.refusal('10.1.2.3')).toBe('private');
    expect(guard.refusal('192.168.1.10')).toBe('private');
    expect(guard.refusal('172.16.0.1')).toBe('private');
    expect(guard.refusal('169.254.169.254')).toBe('link-local');
    expect(guard.refusal('0.0.0.0')).toBe('unspecified');
    expect(guard.refusal('::1')).toBe('loopback');
    expect(guard.refusal('fe80::1')).toBe('link-local');
    expect(guard.refusal('fd00::1')).toBe('private (unique local)');
    expect(guard.refusal('::')).toBe('unspecified');
  });

  it('judges an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(guard.refusal('::ffff:127.0.0.1')).toBe('loopback');
    expect(guard.refusal('::ffff:8.8.8.8')).toBeNull();
  });

  it('lets public unicast addresses through', () => {
    expect(guard.refusal('8.8.8.8')).toBeNull();
    expect(guard.refusal('2001:4860:4860::8888')).toBeNull();
  });

  it('lets through what the allow-list names, and nothing more', () => {
    const allowing = createAddressGuard(['127.0.0.0/8', '::1', '10.20.0.0/16']);
    expect(allowing.refusal('127.0.0.1')).toBeNull();
    expect(allowing.refusal('::1')).toBeNull();
    expect(allowing.refusal('10.20.3.4')).toBeNull();
    expect(allowing.refusal('10.21.0.1')).toBe('private');
    expect(allowing.refusal('169.254.169.254')).toBe('link-local');
  });

  it('checks every address a URL names or resolves to', async () => {
    await expect(guard.checkUrl('http://127.0.0.1:8080/hook')).rejects.toBeInstanceOf(RefusedAddress);
    await expect(guard.checkUrl('http://[::1]/hook')).rejects.toThrow('::1 is a loopback address');
    await expect(guard.checkUrl('http://localhost/hook')).rejects.toThrow(/localhost resolves to .* loopback address/);
    await expect(guard.checkUrl('https://93.184.215.14/hook')).resolves.toBeUndefined();
  });
});
