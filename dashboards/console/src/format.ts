// Numbers, money (VND), percentages, dates and durations in the console's language, through Intl.
import { useMemo } from 'preact/hooks';
import { useI18n } from './i18n';

export interface Formats {
  number: (value: number | null | undefined, digits?: number) => string;
  vnd: (value: number | null | undefined) => string;
  percent: (ratio: number | null | undefined, digits?: number) => string;
  /** A score already on 0–100 (NPS, CSAT), shown with one decimal. */
  score: (value: number | null | undefined) => string;
  date: (value: string | number | Date | null | undefined, timeZone?: string) => string;
  dateTime: (value: string | number | Date | null | undefined, timeZone?: string) => string;
}

const missing = '—';

export function formatsFor(locale: string): Formats {
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: 'VND', maximumFractionDigits: 0 });
  const decimals = new Map<number, Intl.NumberFormat>();
  const withDigits = (digits: number) => {
    let format = decimals.get(digits);
    if (!format)
      decimals.set(
        digits,
        (format = new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 })),
      );
    return format;
  };
  const percentFormat = (digits: number) =>
    new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: digits });
  const toDate = (value: string | number | Date) => (value instanceof Date ? value : new Date(value));
  return {
    number: (value, digits = 0) =>
      value === null || value === undefined || Number.isNaN(value)
        ? missing
        : digits === 0
          ? integer.format(value)
          : withDigits(digits).format(value),
    vnd: (value) => (value === null || value === undefined ? missing : money.format(value)),
    percent: (ratio, digits = 1) =>
      ratio === null || ratio === undefined ? missing : percentFormat(digits).format(ratio),
    score: (value) => (value === null || value === undefined ? missing : withDigits(1).format(value)),
    date: (value, timeZone) =>
      value === null || value === undefined
        ? missing
        : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone }).format(toDate(value)),
    dateTime: (value, timeZone) =>
      value === null || value === undefined
        ? missing
        : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(toDate(value)),
  };
}

export function useFormats(): Formats {
  const { locale } = useI18n();
  return useMemo(() => formatsFor(locale), [locale]);
}
