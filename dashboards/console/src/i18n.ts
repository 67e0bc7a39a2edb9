// Languages of the console (Vietnamese first, English), chosen once and remembered; texts through i18next, numbers and dates through Intl.
import i18next, { type i18n, type TOptions } from 'i18next';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { messages as en } from './locales/en';
import { messages as vi } from './locales/vi';

export const languages = ['vi', 'en'] as const;
export type Language = (typeof languages)[number];

/** BCP 47 locale of each language's number, date and currency formats. */
export const locales: Record<Language, string> = { vi: 'vi-VN', en: 'en-GB' };

const storageKey = 'cdp.language';

/** The remembered language, else the browser's first preference that we speak, else Vietnamese. */
export function initialLanguage(): Language {
  const stored = globalThis.localStorage?.getItem(storageKey);
  if (stored === 'vi' || stored === 'en') return stored;
  for (const preference of globalThis.navigator?.languages ?? []) {
    const base = preference.slice(0, 2).toLowerCase();
    if (base === 'vi' || base === 'en') return base;
  }
  return 'vi';
}

export function rememberLanguage(language: Language): void {
  globalThis.localStorage?.setItem(storageKey, language);
  document.documentElement.lang = language;
}

export function createI18n(language: Language): i18n {
  const instance = i18next.createInstance();
  void instance.init({
    lng: language,
    fallbackLng: false,
    initAsync: false,
    resources: { en: { translation: en }, vi: { translation: vi } },
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return instance;
}

export interface I18n {
  language: Language;
  locale: string;
  t: (key: string, options?: TOptions) => string;
  setLanguage: (language: Language) => void;
}

export const I18nContext = createContext<I18n | null>(null);

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nContext');
  return value;
}
