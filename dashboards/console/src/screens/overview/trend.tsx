// One KPI over time: a select of the KPIs (in the URL as `kpi`) and its uPlot chart per day, week or month.
import { useLocation } from 'preact-iso';
import { useMemo } from 'preact/hooks';
import { useQuery } from '../../api';
import { lineColors, TimeChart, type PeriodUnit } from '../../components/charts';
import { QuerySelect } from '../../components/filter-bar';
import { Loaded } from '../../components/states';
import { analyticsParams, useFilters } from '../../filters';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { formatKpi, isKpiName, kpiNames, type KpiSeriesAnswer } from './kpis';

export function KpiTrend({ period }: { period: PeriodUnit }) {
  const { t } = useI18n();
  const formats = useFormats();
  const [filters] = useFilters();
  const { query } = useLocation();
  const measure = isKpiName(query.kpi) ? query.kpi : 'activeCustomers';
  const series = useQuery<KpiSeriesAnswer>('/v1/analytics/kpis/series', { ...analyticsParams(filters), period });
  const label = t(`overview.kpis.${measure}`);
  const lines = useMemo(
    () => [
      {
        label,
        color: lineColors[0],
        values: (series.data?.series ?? []).map((entry) => entry[measure]),
        format: (value: number | null) => formatKpi(measure, value, formats, t),
      },
    ],
    [series.data, measure, label, formats, t],
  );
  const periods = useMemo(() => (series.data?.series ?? []).map((entry) => entry.period), [series.data]);
  return (
    <section class="panel" aria-labelledby="trend-title">
      <div class="panel-head">
        <h2 id="trend-title">{t('overview.overTime')}</h2>
        <div class="panel-controls">
          <QuerySelect
            name="kpi"
            label={t('overview.measure')}
            value={measure}
            options={kpiNames.map((name) => ({ value: name, label: t(`overview.kpis.${name}`) }))}
          />
        </div>
      </div>
      <Loaded state={series}>
        {(answer) => (
          <TimeChart
            testId="kpi-trend"
            unit={answer.period}
            periods={periods}
            lines={lines}
            title={t('overview.chartCaption', { measure: label, period: t(`overview.periodName.${answer.period}`) })}
          />
        )}
      </Loaded>
    </section>
  );
}
