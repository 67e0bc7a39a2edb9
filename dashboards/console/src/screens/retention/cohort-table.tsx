// The cohort heatmap: one row per cohort, one cell per later period with the share of the cohort back, counts on hover.
import { Empty } from '../../components/states';
import { ScrollArea, shadeClass, usePeriodLabels, type PeriodUnit } from '../../components/charts';
import { addDays, todayIn } from '../../filters';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';

export interface RetentionAnswer {
  cohorts: Array<{ cohort: string; size: number; retained: number[] }>;
}

/** The first day of the period `count` periods after the one starting on `day`. */
export function periodStart(day: string, unit: PeriodUnit, count: number): string {
  if (unit === 'day') return addDays(day, count);
  if (unit === 'week') return addDays(day, 7 * count);
  const [year, month] = day.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, month - 1 + count, 1)).toISOString().slice(0, 10);
}

export function CohortTable({
  answer,
  unit,
  periods,
  timeZone,
}: {
  answer: RetentionAnswer;
  unit: PeriodUnit;
  periods: number;
  timeZone: string;
}) {
  const { t } = useI18n();
  const formats = useFormats();
  const labels = usePeriodLabels(unit);
  const today = todayIn(timeZone);
  const offsets = Array.from({ length: periods }, (_value, index) => index);
  const reached = (cohort: string, offset: number) => periodStart(cohort, unit, offset) <= today;
  if (answer.cohorts.every((row) => row.size === 0)) return <Empty>{<p>{t('retention.empty')}</p>}</Empty>;

  // Period 0 is the whole cohort by definition; shades compare the later periods with the best of them.
  const best = Math.max(
    0,
    ...answer.cohorts.flatMap((row) =>
      offsets
        .filter((offset) => offset > 0 && reached(row.cohort, offset) && row.size > 0)
        .map((offset) => (row.retained[offset] ?? 0) / row.size),
    ),
  );
  const shade = (share: number | null, offset: number) =>
    offset === 0 ? 'whole' : shadeClass(share === null || best === 0 ? null : share / best);

  // All cohorts together: of the customers whose cohort reached period k, how many came back in it.
  const overall = offsets.map((offset) => {
    const rows = answer.cohorts.filter((row) => reached(row.cohort, offset));
    const size = rows.reduce((sum, row) => sum + row.size, 0);
    const back = rows.reduce((sum, row) => sum + (row.retained[offset] ?? 0), 0);
    return { size, back, share: size > 0 ? back / size : null };
  });

  return (
    <ScrollArea label={t('retention.table')}>
      <table class="cohorts" data-testid="retention-table">
        <caption class="visually-hidden">{t('retention.table')}</caption>
        <thead>
          <tr>
            <th scope="col">{t(`retention.cohortColumn.${unit}`)}</th>
            <th scope="col" class="number">
              {t('retention.size')}
            </th>
            {offsets.map((offset) => (
              <th scope="col" class="number" key={offset}>
                {t(`retention.offset.${unit}`, { n: offset })}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {answer.cohorts.map((row) => (
            <tr key={row.cohort} data-cohort={row.cohort}>
              <th scope="row">{labels.long(row.cohort)}</th>
              <td class="number" data-testid={`retention-size-${row.cohort}`}>
                {formats.number(row.size)}
              </td>
              {offsets.map((offset) => {
                const count = row.retained[offset] ?? 0;
                if (!reached(row.cohort, offset)) {
                  return (
                    <td key={offset} class="cell future" title={t('retention.notYet')}>
                      <span class="visually-hidden">{t('retention.notYet')}</span>
                    </td>
                  );
                }
                const share = row.size > 0 ? count / row.size : null;
                const text = t('retention.cell', {
                  percent: formats.percent(share),
                  back: formats.number(count),
                  size: formats.number(row.size),
                });
                return (
                  <td key={offset} class={`cell number ${shade(share, offset)}`} title={text} data-count={count}>
                    <span data-testid={`retention-share-${row.cohort}-${offset}`}>{formats.percent(share)}</span>
                    <span class="visually-hidden">
                      {' '}
                      ({t('retention.customers', { number: formats.number(count) })})
                    </span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">{t('retention.all')}</th>
            <td class="number">{formats.number(answer.cohorts.reduce((sum, row) => sum + row.size, 0))}</td>
            {overall.map((cell, offset) => (
              <td
                key={offset}
                class={`cell number ${cell.share === null ? 'future' : shade(cell.share, offset)}`}
                title={
                  cell.share === null
                    ? t('retention.notYet')
                    : t('retention.cell', {
                        percent: formats.percent(cell.share),
                        back: formats.number(cell.back),
                        size: formats.number(cell.size),
                      })
                }
              >
                {cell.share === null ? (
                  <span class="visually-hidden">{t('retention.notYet')}</span>
                ) : (
                  formats.percent(cell.share)
                )}
              </td>
            ))}
          </tr>
        </tfoot>
      </table>
    </ScrollArea>
  );
}
