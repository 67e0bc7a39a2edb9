// The value types an import mapping may declare, and reading a cell as one: a number, a yes/no, a date.
export const valueTypes = ['string', 'number', 'boolean', 'date'] as const;
export type ValueType = (typeof valueTypes)[number];

export type Converted = { value: unknown } | { problem: string };

const numberPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const truthy = new Set(['true', 'yes', 'y', '1', 'có', 'co']);
const falsy = new Set(['false', 'no', 'n', '0', 'không', 'khong']);
/** ISO-8601 as ingest takes it: a date, or a date-time with an optional offset. */
const isoPattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
/** Day first, as dates are written in Vietnam (and most of the world): 31/12/2024, 31-12-2024 08:30. */
const dayFirstPattern = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

const quoted = (value: unknown) =>
  JSON.stringify(typeof value === 'string' && value.length > 60 ? `${value.slice(0, 60)}…` : value);
const pad = (value: number | string, width = 2) => String(value).padStart(width, '0');

/** A date or date-time as ISO-8601 (without an offset when none was written: ingest reads that as UTC), or null. */
export function isoDateOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (isoPattern.test(text)) return Number.isNaN(Date.parse(text)) ? null : text;
  const match = dayFirstPattern.exec(text);
  if (!match) return null;
  const [, day, month, year, hour, minute, second] = match.map((part) =>
    part === undefined ? undefined : Number(part),
  );
  const date = new Date(
    Date.UTC(year as number, (month as number) - 1, day as number, hour ?? 0, minute ?? 0, second ?? 0),
  );
  // Date.UTC rolls 31/02 over into March: a date that does not exist is a typing mistake, not a day to guess.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== (month as number) - 1 || (hour ?? 0) > 23) return null;
  const ymd = `${pad(year as number, 4)}-${pad(month as number)}-${pad(day as number)}`;
  return hour === undefined ? ymd : `${ymd}T${pad(hour)}:${pad(minute as number)}:${pad(second ?? 0)}`;
}

/** A cell (a CSV string, or an NDJSON value) as its declared type; `string` keeps text as written and makes other values text. */
export function convert(value: unknown, type: ValueType): Converted {
  switch (type) {
    case 'string':
      return {
        value: typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value),
      };
    case 'number': {
      if (typeof value === 'number' && Number.isFinite(value)) return { value };
      if (typeof value === 'string' && numberPattern.test(value.trim())) return { value: Number(value.trim()) };
      return { problem: `${quoted(value)} is not a number` };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      const text = String(value).trim().toLowerCase();
      if (truthy.has(text)) return { value: true };
      if (falsy.has(text)) return { value: false };
      return { problem: `${quoted(value)} is not a yes/no value (true/false, yes/no, 1/0, có/không)` };
    }
    case 'date': {
      const date = isoDateOf(value);
      return date === null
        ? { problem: `${quoted(value)} is not a date (2024-12-31, 2024-12-31T08:30:00+07:00 or 31/12/2024)` }
        : { value: date };
    }
  }
}

export { quoted };
