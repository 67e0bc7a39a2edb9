// Unit tests of the structural JSON checks: depth, prototype-poisoning keys, no stack overflow.
import { describe, expect, it } from 'vitest';
import { inspectJson, jsonFitsWithin, maxNestingDepth } from './inspect';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let level = 0; level < depth; level += 1) value = { a: value };
  return value;
};

describe('inspectJson', () => {
  it('accepts ordinary payloads up to the depth limit', () => {
    expect(inspectJson({ userId: 'u', properties: { items: [{ sku: 'x', tags: ['a'] }] } })).toBeNull();
    expect(inspectJson(nested(maxNestingDepth - 1))).toBeNull();
  });

  it('refuses nesting past the limit without overflowing the stack', () => {
    expect(inspectJson(nested(maxNestingDepth + 1))?.message).toMatch(/deeper than 32/);
    expect(inspectJson(JSON.parse(`${'['.repeat(300_000)}${']'.repeat(300_000)}`))?.message).toMatch(/deeper/);
  });

  it('names the path of a __proto__ or constructor.prototype key', () => {
    expect(inspectJson(JSON.parse('{"properties":{"__proto__":{"x":1}}}'))).toEqual({
      path: 'properties.__proto__',
      message: 'the key __proto__ is not allowed',
    });
    expect(inspectJson(JSON.parse('{"traits":{"constructor":{"prototype":{}}}}'))?.path).toBe('traits.constructor');
    expect(inspectJson({ traits: { constructor: 'a plain trait' } })).toBeNull();
  });
});

describe('jsonFitsWithin', () => {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const samples: unknown[] = [
    { type: 'identify', userId: 'KH1', traits: { name: 'Nguyễn Văn An', points: 12, vip: true, note: null } },
    { properties: { items: [{ sku: 'x', price: -1.2345678901234567e-123 }, 0.0000012345678901234567] } },
    { text: '\u0000\u001f"\\\ud83d\ude00\ud800', emoji: '😀'.repeat(50), vi: 'Đặng Thị Hằng'.repeat(20) },
    [],
    {},
    'plain',
    Number.MAX_VALUE,
  ];

  it('never says a value fits when its JSON is larger', () => {
    for (const sample of samples) {
      const size = bytes(sample);
      expect(jsonFitsWithin(sample, size - 1)).toBe(false);
      // The bound is loose, but within a small multiple of the real size for ordinary payloads.
      expect(jsonFitsWithin(sample, size * 8 + 64)).toBe(true);
    }
  });

  it('answers false for what JSON.parse cannot make, so the caller measures it', () => {
    expect(jsonFitsWithin({ at: new Date(0) }, 1_000_000)).toBe(false);
    expect(jsonFitsWithin({ missing: undefined }, 1_000_000)).toBe(false);
    expect(jsonFitsWithin(nested(maxNestingDepth + 1), 1_000_000)).toBe(false);
  });
});
