// Unit tests of the message schemas: ISO-8601 times only, ids as strings or numbers, the type from the body or the endpoint.
import { describe, expect, it } from 'vitest';
import { parseMessage } from './messages';

const pathsOf = (result: ReturnType<typeof parseMessage>) =>
  result.ok ? [] : result.issues.map((issue) => issue.path);

describe('parseMessage', () => {
  it('accepts ISO-8601 times with or without a zone and with up to nanoseconds', () => {
    for (const timestamp of [
      '2024-05-01',
      '2024-05-01T12:00:00Z',
      '2024-05-01T12:00:00.123+02:00',
      '2024-05-01T12:00:00.123456789Z',
      '2024-05-01 12:00:00',
    ]) {
      expect({ timestamp, ok: parseMessage({ type: 'track', userId: 'u', event: 'E', timestamp }).ok }).toEqual({
        timestamp,
        ok: true,
      });
    }
  });

  it('refuses times Date.parse would guess at', () => {
    for (const timestamp of ['1', 'Tuesday 3pm', 'May 1, 2024', '2024-13-45T99:00:00Z', '+275760-09-13T00:00:00Z']) {
      expect({
        timestamp,
        paths: pathsOf(parseMessage({ type: 'track', userId: 'u', event: 'E', timestamp })),
      }).toEqual({ timestamp, paths: ['timestamp'] });
    }
  });

  it('takes numeric ids as strings and the type from the endpoint over the body', () => {
    const result = parseMessage({ type: 'page', userId: 42, event: 'E' }, 'track');
    expect(result).toMatchObject({ ok: true, message: { type: 'track', userId: '42', event: 'E' } });
  });

  it('reads an empty userId or anonymousId as none, as RudderStack sends an anonymous visitor', () => {
    const result = parseMessage({ type: 'page', userId: '', anonymousId: 'a-1', name: 'Home' });
    expect(result).toMatchObject({ ok: true, message: { type: 'page', userId: null, anonymousId: 'a-1' } });
    expect(parseMessage({ type: 'track', userId: 'u', anonymousId: ' ', event: 'E' })).toMatchObject({
      ok: true,
      message: { userId: 'u', anonymousId: null },
    });
    // Empty both ways is no identity at all, and alias still needs a real userId.
    expect(pathsOf(parseMessage({ type: 'track', userId: '', anonymousId: '', event: 'E' }))).toEqual(['userId']);
    expect(pathsOf(parseMessage({ type: 'alias', userId: '', previousId: 'p' }))).toEqual(['userId']);
  });

  it('names the missing field of each type', () => {
    expect(pathsOf(parseMessage({ type: 'track', userId: 'u' }))).toEqual(['event']);
    expect(pathsOf(parseMessage({ type: 'group', userId: 'u' }))).toEqual(['groupId']);
    expect(pathsOf(parseMessage({ type: 'alias', userId: 'u' }))).toEqual(['previousId']);
    expect(pathsOf(parseMessage({ type: 'identify', traits: {} }))).toEqual(['userId']);
    expect(pathsOf(parseMessage({ type: 'teleport', userId: 'u' }))).toEqual(['type']);
  });
});
