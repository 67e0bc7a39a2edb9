// Both languages' texts, and their keys flattened (`common.nav.overview`), for the parity test and the browser tests.
import { messages as en } from './en';
import { messages as vi } from './vi';

export const messages = { en, vi };

type Tree = { [key: string]: string | Tree };

/** Every text of a language by its dotted key. */
export function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const texts = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') texts.set(name, value);
    else for (const [inner, text] of flatten(value, name)) texts.set(inner, text);
  }
  return texts;
}
