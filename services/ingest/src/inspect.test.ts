// Unit tests of the structural JSON checks: depth, prototype-poisoning keys, no stack overflow.
import { describe, expect, it } from 'vitest';
import { inspectJson, maxNestingDepth } from './inspect';

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
