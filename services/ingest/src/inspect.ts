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
