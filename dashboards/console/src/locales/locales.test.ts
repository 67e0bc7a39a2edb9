// Vietnamese and English say everything: the same keys, no empty text, the same placeholders in each.
import { describe, expect, it } from 'vitest';
import { flatten, messages } from './index';

const english = flatten(messages.en);
const vietnamese = flatten(messages.vi);
const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]).sort();

describe('console texts', () => {
  it('have every key in both languages', () => {
    expect([...vietnamese.keys()].filter((key) => !english.has(key))).toEqual([]);
    expect([...english.keys()].filter((key) => !vietnamese.has(key))).toEqual([]);
  });

  it('leave no text empty', () => {
    for (const [language, texts] of [
      ['en', english],
      ['vi', vietnamese],
    ] as const) {
      expect([...texts].filter(([, text]) => text.trim() === '').map(([key]) => `${language}:${key}`)).toEqual([]);
    }
  });

  it('name the same placeholders in both languages', () => {
    const mismatched = [...english].filter(
      ([key, text]) => JSON.stringify(placeholders(text)) !== JSON.stringify(placeholders(vietnamese.get(key) ?? '')),
    );
    expect(mismatched.map(([key]) => key)).toEqual([]);
  });

  it('write Vietnamese with its diacritics', () => {
    const withDiacritics = [...vietnamese.values()].filter((text) =>
      /[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]/i.test(text),
    );
    expect(withDiacritics.length).toBeGreaterThan(vietnamese.size / 2);
  });
});
