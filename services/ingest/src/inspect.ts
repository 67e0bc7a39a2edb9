// Structural checks of parsed JSON that zod does not make: nesting depth and prototype-poisoning keys.

/** Deeper than this is no analytics payload; it is refused before anything recursive (JSON.stringify) sees it. */
export const maxNestingDepth = 32;

export interface JsonProblem {
  path: string;
  message: string;
}

interface Found {
  keys: string[];
  message: string;
}

/**
 * The first problem in a parsed JSON value, or null. Same rules as secure-json-parse: a `__proto__` key, or a
 * `constructor` key holding an object with a `prototype` key. The recursion stops at maxNestingDepth, so a
 * 100k-deep array cannot overflow the stack; the path is built only for a problem, as this runs on every event.
 */
export function inspectJson(value: unknown, basePath = ''): JsonProblem | null {
  const found = visit(value, 0);
  if (!found) return null;
  const keys = found.keys.reverse();
  return { path: [basePath, ...keys].filter(Boolean).join('.'), message: found.message };
}

function visit(value: unknown, depth: number): Found | null {
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= maxNestingDepth) return { keys: [], message: `nesting is deeper than ${maxNestingDepth} levels` };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = visit(value[index], depth + 1);
      if (found) return (found.keys.push(String(index)), found);
    }
    return null;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') return { keys: [key], message: 'the key __proto__ is not allowed' };
    if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) {
      return { keys: [key], message: 'a constructor.prototype key is not allowed' };
    }
    const found = visit(child, depth + 1);
    if (found) return (found.keys.push(key), found);
  }
  return null;
}

/**
 * Whether JSON.stringify(value) is surely at most `limit` bytes of UTF-8, by a bound that needs no serializing: a
 * string's code unit takes at most 6 bytes (`\u001f`), a number at most 32 characters. A plain JSON value (what
 * JSON.parse made) only; anything else, or a bound over the limit, answers false and the caller measures exactly.
 */
export function jsonFitsWithin(value: unknown, limit: number): boolean {
  return boundOf(value, limit, 0) <= limit;
}

function boundOf(value: unknown, budget: number, depth: number): number {
  switch (typeof value) {
    case 'string':
      return value.length * 6 + 2;
    case 'number':
      return 32;
    case 'boolean':
      return 5;
    case 'object':
      break;
    default:
      return Number.POSITIVE_INFINITY;
  }
  if (value === null) return 4;
  if (depth >= maxNestingDepth) return Number.POSITIVE_INFINITY;
  let total = 2;
  if (Array.isArray(value)) {
    for (const item of value) {
      total += boundOf(item, budget - total, depth + 1) + 1;
      if (total > budget) return total;
    }
    return total;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return Number.POSITIVE_INFINITY;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    total += key.length * 6 + 4 + boundOf((value as Record<string, unknown>)[key], budget - total, depth + 1);
    if (total > budget) return total;
  }
  return total;
}
