// The overview: every KPI of the period with its change against the period before, by channel, and each KPI over time.
import { useLocation } from 'preact-iso';
import { useQuery } from '../api';
import { periodOf, usePeriodOptions } from '../components/charts';
import { FilterBar, QuerySelect } from '../components/filter-bar';
import { Empty, ErrorBox, GettingStarted, Loading } from '../components/states';
import { analyticsParams, presetWindow, previousWindow, useFilters } from '../filters';
import { useFormats } from '../format';
import { useI18n } from '../i18n';
import { ByChannel } from './overview/by-channel';
import { betterWhenLower, formatKpi, kpiNames, type KpiName, type KpisAnswer, type KpiValues } from './overview/kpis';
import { KpiTrend } from './overview/trend';

/** ▲/▼ and the relative change, coloured by whether it is good news; a sentence for screen readers. */
function Change({ name, now, before }: { name: KpiName; now: number | null; before: number | null | undefined }) {
  const { t } = useI18n();
  const formats = useFormats();
  if (before === undefined) return <p class="delta">{t('common.states.loading')}</p>;
  const previous = t('overview.previous', { value: formatKpi(name, before, formats, t) });
  if (now === null || before === null) return <p class="delta">{t('common.change.none')}</p>;
  if (now === before)
    return (
      <p class="delta">
        {t('common.change.same')} ({previous})
      </p>
    );
  const up = now > before;
  const good = up !== betterWhenLower(name);
  // From zero a relative change has no size: say which way it went.
  const relative = before === 0 ? null : Math.abs(now - before) / Math.abs(before);
  const amount = relative === null ? '' : formats.percent(relative);
  const sentence =
    relative === null
      ? t(up ? 'overview.upFromZero' : 'overview.downToZero')
      : t(up ? 'common.change.up' : 'common.change.down', { value: amount });
  return (
    <p class={`delta ${good ? 'good' : 'bad'}`} data-testid={`kpi-change-${name}`}>
      <span aria-hidden="true">
        {up ? '▲' : '▼'} {amount}
      </span>
      <span class="visually-hidden">{sentence}</span> <span class="previous">({previous})</span>
    </p>
  );
}

function Cards({ now, before }: { now: KpiValues; before: KpiValues | undefined }) {
  const { t } = useI18n();
  const formats = useFormats();
  return (
    <ul class="cards kpi-cards" aria-label={t('overview.kpisLabel')}>
      {kpiNames.map((name) => (
        <li class="card" key={name}>
          <p class="label" id={`kpi-label-${name}`}>
            {t(`overview.kpis.${name}`)}
          </p>
          <p class="value" data-testid={`kpi-${name}`} aria-describedby={`kpi-label-${name}`}>
            {formatKpi(name, now[name], formats, t)}
          </p>
          {(name === 'nps' || name === 'csat') && (
            <p class="delta">
              {t('overview.responses', {
                number: formats.number(now[name === 'nps' ? 'npsResponses' : 'csatResponses']),
              })}
            </p>
          )}
          <Change name={name} now={now[name]} before={before === undefined ? undefined : before[name]} />
        </li>
      ))}
    </ul>
  );
}

/** Whether anything at all was ever sent: only asked when the chosen period is empty. */
function useNothingYet(empty: boolean, timeZone: string): boolean | undefined {
  const window = presetWindow('90d', timeZone);
  const recent = useQuery<KpisAnswer>(empty ? '/v1/analytics/kpis' : null, { ...window, tz: timeZone });
  if (!empty || recent.error) return false;
  return recent.data === undefined ? undefined : recent.data.totals.activeCustomers === 0;
}

export function Overview() {
  const { t } = useI18n();
  const [filters] = useFilters();
  const { query } = useLocation();
  const period = periodOf(query.period, 'day');
  const periodOptions = usePeriodOptions();
  const current = useQuery<KpisAnswer>('/v1/analytics/kpis', analyticsParams(filters));
  const previous = useQuery<KpisAnswer>('/v1/analytics/kpis', {
    ...analyticsParams(filters),
    ...previousWindow(filters),
  });
  const nothingYet = useNothingYet(current.data?.totals.activeCustomers === 0, filters.tz);

  if (nothingYet) {
    return (
      <section class="analytics-screen" aria-labelledby="screen-title">
        <h1 id="screen-title">{t('overview.title')}</h1>
        <GettingStarted />
      </section>
    );
  }
  return (
    <section class="analytics-screen" aria-labelledby="screen-title">
      <h1 id="screen-title">{t('overview.title')}</h1>
      <p class="intro">{t('overview.intro')}</p>
      <FilterBar>
        <QuerySelect name="period" label={t('overview.groupBy')} value={period} options={periodOptions} />
      </FilterBar>
      {current.error ? (
        <ErrorBox error={current.error} retry={current.reload} />
      ) : !current.data || nothingYet === undefined ? (
        <Loading />
      ) : (
        <>
          {current.data.totals.activeCustomers === 0 && (
            <Empty>
              <p>{t('overview.noActivity')}</p>
            </Empty>
          )}
          {previous.error && <ErrorBox error={previous.error} retry={previous.reload} />}
          <Cards
            now={current.data.totals}
            before={previous.error ? { ...current.data.totals, ...nullKpis } : previous.data?.totals}
          />
          <KpiTrend period={period} />
          <ByChannel answer={current.data} />
        </>
      )}
    </section>
  );
}

/** When the previous period could not be read: no change to show. */
const nullKpis = Object.fromEntries(kpiNames.map((name) => [name, null])) as unknown as KpiValues;
