// Retention: cohorts by first purchase or first visit, as a heatmap of the share of each cohort back in each later period.
import { useLocation } from 'preact-iso';
import { useQuery } from '../api';
import { periodOf, usePeriodOptions } from '../components/charts';
import { FilterBar, QuerySelect } from '../components/filter-bar';
import { Loaded } from '../components/states';
import { analyticsParams, useFilters } from '../filters';
import { useI18n } from '../i18n';
import { CohortTable, type RetentionAnswer } from './retention/cohort-table';

const cohortKinds = ['first_purchase', 'first_seen'] as const;
type CohortKind = (typeof cohortKinds)[number];
const periodCounts = ['4', '6', '8', '12', '16'];

export function Retention() {
  const { t } = useI18n();
  const [filters] = useFilters();
  const { query } = useLocation();
  const cohort: CohortKind = (cohortKinds as readonly string[]).includes(query.cohort ?? '')
    ? (query.cohort as CohortKind)
    : 'first_purchase';
  const period = periodOf(query.period, 'week');
  const periods = periodCounts.includes(query.periods ?? '') ? Number(query.periods) : 8;
  const periodOptions = usePeriodOptions();
  const state = useQuery<RetentionAnswer>('/v1/analytics/retention', {
    ...analyticsParams(filters),
    cohort,
    period,
    periods,
  });
  return (
    <section class="analytics-screen" aria-labelledby="screen-title">
      <h1 id="screen-title">{t('retention.title')}</h1>
      <p class="intro">{t('retention.intro')}</p>
      <FilterBar>
        <QuerySelect
          name="cohort"
          label={t('retention.cohort')}
          value={cohort}
          options={cohortKinds.map((kind) => ({ value: kind, label: t(`retention.cohorts.${kind}`) }))}
        />
        <QuerySelect name="period" label={t('retention.period')} value={period} options={periodOptions} />
        <QuerySelect
          name="periods"
          label={t('retention.periods')}
          value={String(periods)}
          options={periodCounts.map((count) => ({ value: count, label: count }))}
        />
      </FilterBar>
      <section class="panel" aria-labelledby="cohorts-title">
        <h2 id="cohorts-title">{t(`retention.heading.${cohort}`)}</h2>
        <p class="muted">{t(`retention.explain.${cohort}`)}</p>
        <Loaded state={state}>
          {(answer) => <CohortTable answer={answer} unit={period} periods={periods} timeZone={filters.tz} />}
        </Loaded>
      </section>
    </section>
  );
}
