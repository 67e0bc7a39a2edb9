// The analytics filters (period, time zone, channel, segment), kept in the URL so a view can be shared and reloaded.
import { useLocation } from 'preact-iso';
import { useCallback, useMemo } from 'preact/hooks';

export const presets = ['7d', '30d', '90d', 'thisMonth', 'lastMonth', 'custom'] as const;
export type Preset = (typeof presets)[number];

export const channels = ['web', 'app', 'email', 'sms', 'phone', 'social', 'chat', 'store', 'unknown'] as const;

export interface Filters {
  preset: Preset;
  /** First day of the window (YYYY-MM-DD, in `tz`), included. */
  from: string;
  /** Day after the window's last (YYYY-MM-DD, in `tz`), excluded. */
  to: string;
  tz: string;
  channel: string;
  segment: string;
}

const dayMs = 86_400_000;
const isDay = (text: string | undefined): text is string =>
  !!text && /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`));

/** Old names some browsers still report, by the name the IANA database uses today (Vietnam's above all). */
const renamedZones: Record<string, string> = {
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Katmandu': 'Asia/Kathmandu',
};

export const browserTimeZone = (): string => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  return renamedZones[zone] ?? zone;
};

/** Today's date on the clocks of a zone. */
export function todayIn(timeZone: string, now = Date.now()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * dayMs).toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs);
}

/** The window of a preset on the clocks of `tz`: today counts, so `to` is tomorrow. */
export function presetWindow(
  preset: Exclude<Preset, 'custom'>,
  timeZone: string,
  now = Date.now(),
): { from: string; to: string } {
  const today = todayIn(timeZone, now);
  const tomorrow = addDays(today, 1);
  const monthStart = `${today.slice(0, 7)}-01`;
  switch (preset) {
    case '7d':
      return { from: addDays(tomorrow, -7), to: tomorrow };
    case '30d':
      return { from: addDays(tomorrow, -30), to: tomorrow };
    case '90d':
      return { from: addDays(tomorrow, -90), to: tomorrow };
    case 'thisMonth':
      return { from: monthStart, to: tomorrow };
    case 'lastMonth': {
      const lastMonthStart = `${addDays(monthStart, -1).slice(0, 7)}-01`;
      return { from: lastMonthStart, to: monthStart };
    }
  }
}

/** The window of equal length just before a window, for "change against the previous period". */
export function previousWindow(filters: Pick<Filters, 'from' | 'to'>): { from: string; to: string } {
  return { from: addDays(filters.from, -daysBetween(filters.from, filters.to)), to: filters.from };
}

export function readFilters(query: Record<string, string | undefined>, now = Date.now()): Filters {
  const tz = query.tz && isKnownZone(query.tz) ? query.tz : browserTimeZone();
  const asked = (presets as readonly string[]).includes(query.preset ?? '') ? (query.preset as Preset) : undefined;
  const custom = isDay(query.from) && isDay(query.to) && query.from < query.to;
  const preset: Preset = asked === 'custom' && !custom ? '30d' : (asked ?? (custom ? 'custom' : '30d'));
  const window =
    preset === 'custom' ? { from: query.from as string, to: query.to as string } : presetWindow(preset, tz, now);
  return { preset, ...window, tz, channel: query.channel ?? '', segment: query.segment ?? '' };
}

function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The query parameters of the analytics API for a set of filters. */
export function analyticsParams(filters: Filters): Record<string, string> {
  const params: Record<string, string> = { from: filters.from, to: filters.to, tz: filters.tz };
  if (filters.channel) params.channel = filters.channel;
  if (filters.segment) params.segment = filters.segment;
  return params;
}

/** The current filters and a way to change some of them (the URL changes; the view follows). */
export function useFilters(): [Filters, (change: Partial<Filters> & Record<string, string | undefined>) => void] {
  const location = useLocation();
  const filters = useMemo(() => readFilters(location.query), [location.url]);
  const update = useCallback(
    (change: Partial<Filters> & Record<string, string | undefined>) => {
      const next: Record<string, string | undefined> = { ...location.query, ...change };
      if (next.preset && next.preset !== 'custom') {
        delete next.from;
        delete next.to;
      }
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(next)) if (value) search.set(name, value);
      // The path as the address bar has it: preact-iso's `path` drops the trailing slash, and /console (no slash) is redirected without its query.
      const path = new URL(location.url, 'http://console.invalid').pathname;
      location.route(`${path}${search.size ? `?${search.toString()}` : ''}`);
    },
    [location.url],
  );
  return [filters, update];
}
