// Structural checks of parsed JSON that zod does not make: nesting depth and prototype-poisoning keys.

/** Deeper than this is no analytics payload; it is refused before anything recursive (JSON.stringify) sees it. */
export const maxNestingDepth = 32;

export interface JsonProblem {
  path: string;
  message: string;
}

/**
 * The first problem in a parsed JSON value, or null. Same rules as secure-json-parse: a `__proto__` key, or a
 * `constructor` key holding an object with a `prototype` key. Iterative, so a 100k-deep array cannot overflow the stack.
 */
export function inspectJson(value: unknown, basePath = ''): JsonProblem | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: basePath, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= maxNestingDepth) {
      return { path: item.path, message: `nesting is deeper than ${maxNestingDepth} levels` };
    }
    const entries = Array.isArray(item.value) ? item.value.entries() : Object.entries(item.value);
    for (const [key, child] of entries) {
      const path = item.path ? `${item.path}.${key}` : String(key);
      if (key === '__proto__') return { path, message: 'the key __proto__ is not allowed' };
      if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) {
        return { path, message: 'a constructor.prototype key is not allowed' };
      }
      stack.push({ value: child, path, depth: item.depth + 1 });
    }
  }
  return null;
}
