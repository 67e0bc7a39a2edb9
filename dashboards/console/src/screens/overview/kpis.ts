// The KPIs of GET /v1/analytics/kpis as the console shows them: their order, how each is written, and which way is better.
import type { Formats } from '../../format';
import type { I18n } from '../../i18n';

export interface KpiValues {
  activeCustomers: number;
  newCustomers: number;
  orders: number;
  revenue: number;
  aov: number | null;
  purchaseFrequency: number | null;
  churnRate: number | null;
  nps: number | null;
  npsResponses: number;
  csat: number | null;
  csatResponses: number;
  tickets: number;
  complaints: number;
  medianFirstResponseMinutes: number | null;
  medianResolutionHours: number | null;
}

export interface KpisAnswer {
  totals: KpiValues;
  byChannel: Array<KpiValues & { channel: string }>;
}

export interface KpiSeriesAnswer {
  period: 'day' | 'week' | 'month';
  series: Array<KpiValues & { period: string }>;
}

export type KpiName = Exclude<keyof KpiValues, 'npsResponses' | 'csatResponses'>;

export const kpiNames: KpiName[] = [
  'activeCustomers',
  'newCustomers',
  'orders',
  'revenue',
  'aov',
  'purchaseFrequency',
  'churnRate',
  'nps',
  'csat',
  'tickets',
  'complaints',
  'medianFirstResponseMinutes',
  'medianResolutionHours',
];

export const isKpiName = (text: string | undefined): text is KpiName => (kpiNames as string[]).includes(text ?? '');

/** Measures where less is better: a fall is good news, shown in green. */
const lowerIsBetter = new Set<KpiName>([
  'churnRate',
  'tickets',
  'complaints',
  'medianFirstResponseMinutes',
  'medianResolutionHours',
]);
export const betterWhenLower = (name: KpiName): boolean => lowerIsBetter.has(name);

/** A KPI's value as people read it: money in VND, churn as a percentage, scores with one decimal, durations with their unit. */
export function formatKpi(name: KpiName, value: number | null | undefined, formats: Formats, t: I18n['t']): string {
  if (value === null || value === undefined) return formats.number(null);
  switch (name) {
    case 'revenue':
    case 'aov':
      return formats.vnd(value);
    case 'churnRate':
      return formats.percent(value);
    case 'purchaseFrequency':
      return formats.number(value, 2);
    case 'nps':
    case 'csat':
      return formats.score(value);
    case 'medianFirstResponseMinutes':
      return t('common.units.minutes', { value: formats.number(value, 1) });
    case 'medianResolutionHours':
      return t('common.units.hours', { value: formats.number(value, 1) });
    default:
      return formats.number(value);
  }
}
