// Customer care: tickets over time, open tickets against the service level, response by channel, NPS and CSAT.
import { useLocation } from 'preact-iso';
import { useMemo } from 'preact/hooks';
import { useQuery } from '../api';
import { lineColors, lineDashes, periodOf, TimeChart, usePeriodOptions, type PeriodUnit } from '../components/charts';
import { FilterBar, QuerySelect } from '../components/filter-bar';
import { Loaded } from '../components/states';
import { analyticsParams, useFilters } from '../filters';
import { useFormats } from '../format';
import { useI18n } from '../i18n';
import { OpenTickets } from './care/open-tickets';
import { ResponseByChannel, Surveys } from './care/surveys';
import type { KpiSeriesAnswer } from './overview/kpis';

interface TicketSeries {
  period: PeriodUnit;
  series: Array<{ period: string; opened: number; replied: number; resolved: number; complaints: number }>;
}

const ticketLines = ['opened', 'replied', 'resolved', 'complaints'] as const;

function TicketsOverTime({ period }: { period: PeriodUnit }) {
  const { t } = useI18n();
  const formats = useFormats();
  const [filters] = useFilters();
  const state = useQuery<TicketSeries>('/v1/analytics/tickets', { ...analyticsParams(filters), period });
  const lines = useMemo(
    () =>
      ticketLines.map((name, index) => ({
        label: t(`care.${name}`),
        color: lineColors[index] as string,
        ...(lineDashes[index] ? { dash: lineDashes[index] } : {}),
        values: (state.data?.series ?? []).map((entry) => entry[name]),
        format: (value: number | null) => formats.number(value),
      })),
    [state.data, t, formats],
  );
  return (
    <section class="panel" aria-labelledby="tickets-title">
      <h2 id="tickets-title">{t('care.ticketsOverTime')}</h2>
      <Loaded state={state}>
        {(answer) => (
          <TimeChart
            testId="tickets-chart"
            unit={answer.period}
            periods={answer.series.map((entry) => entry.period)}
            lines={lines}
            title={t('care.ticketsCaption', { period: t(`overview.periodName.${answer.period}`) })}
          />
        )}
      </Loaded>
    </section>
  );
}

function SatisfactionOverTime({ period }: { period: PeriodUnit }) {
  const { t } = useI18n();
  const formats = useFormats();
  const [filters] = useFilters();
  const state = useQuery<KpiSeriesAnswer>('/v1/analytics/kpis/series', { ...analyticsParams(filters), period });
  const lines = useMemo(
    () =>
      (['nps', 'csat'] as const).map((name, index) => ({
        label: t(`care.${name}Trend`),
        color: lineColors[index === 0 ? 4 : 2] as string,
        ...(index === 1 ? { dash: [6, 4] } : {}),
        values: (state.data?.series ?? []).map((entry) => entry[name]),
        format: (value: number | null) => formats.score(value),
      })),
    [state.data, t, formats],
  );
  return (
    <section class="panel" aria-labelledby="satisfaction-title">
      <h2 id="satisfaction-title">{t('care.satisfaction')}</h2>
      <Loaded state={state}>
        {(answer) => (
          <TimeChart
            testId="satisfaction-chart"
            unit={answer.period}
            periods={answer.series.map((entry) => entry.period)}
            lines={lines}
            title={t('care.satisfactionCaption', { period: t(`overview.periodName.${answer.period}`) })}
          />
        )}
      </Loaded>
    </section>
  );
}

export function Care() {
  const { t } = useI18n();
  const { query } = useLocation();
  const period = periodOf(query.period, 'day');
  const periodOptions = usePeriodOptions();
  return (
    <section class="analytics-screen care-screen" aria-labelledby="screen-title">
      <h1 id="screen-title">{t('care.title')}</h1>
      <p class="intro">{t('care.intro')}</p>
      <FilterBar>
        <QuerySelect name="period" label={t('overview.groupBy')} value={period} options={periodOptions} />
      </FilterBar>
      <OpenTickets />
      <TicketsOverTime period={period} />
      <ResponseByChannel />
      <SatisfactionOverTime period={period} />
      <Surveys />
    </section>
  );
}
