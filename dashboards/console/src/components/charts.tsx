// Charts of the analytics screens: a uPlot line chart over calendar periods with its numbers as a table, horizontal bars, and heat shades.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import { useI18n } from '../i18n';
import { Empty } from './states';

/** uPlot and its stylesheet load with the first chart, so the first screen's cards do not wait for them. */
const loadPlotter = () =>
  Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([module]) => module.default);

export type PeriodUnit = 'day' | 'week' | 'month';
export const periodUnits: readonly PeriodUnit[] = ['day', 'week', 'month'];

/** Reads a `period` query value, falling back when it is not one of day, week, month. */
export const periodOf = (value: string | undefined, fallback: PeriodUnit): PeriodUnit =>
  (periodUnits as readonly string[]).includes(value ?? '') ? (value as PeriodUnit) : fallback;

/** Day, week and month as options of a select, in the console's language. */
export function usePeriodOptions(): Array<{ value: PeriodUnit; label: string }> {
  const { t } = useI18n();
  return periodUnits.map((unit) => ({ value: unit, label: t(`common.periods.${unit}`) }));
}

/** Labels of a period's first day (YYYY-MM-DD, a calendar date): short for an axis, long for a table. */
export function usePeriodLabels(unit: PeriodUnit): { short: (day: string) => string; long: (day: string) => string } {
  const { locale } = useI18n();
  return useMemo(() => {
    const month = unit === 'month';
    const short = new Intl.DateTimeFormat(
      locale,
      month
        ? { month: 'short', year: '2-digit', timeZone: 'UTC' }
        : { day: 'numeric', month: 'short', timeZone: 'UTC' },
    );
    const long = new Intl.DateTimeFormat(
      locale,
      month ? { month: 'long', year: 'numeric', timeZone: 'UTC' } : { dateStyle: 'medium', timeZone: 'UTC' },
    );
    const asDate = (day: string) => new Date(`${day}T00:00:00Z`);
    return { short: (day) => short.format(asDate(day)), long: (day) => long.format(asDate(day)) };
  }, [locale, unit]);
}

export interface Line {
  label: string;
  values: Array<number | null>;
  /** A colour with at least 3:1 contrast on white; lines also differ by dash for who cannot tell colours apart. */
  color: string;
  dash?: number[];
  format: (value: number | null) => string;
}

export const lineColors = ['#0b57d0', '#b3261e', '#116b2f', '#8a5300', '#6a3fb5'] as const;
export const lineDashes: Array<number[] | undefined> = [undefined, [6, 4], [2, 3], [10, 3, 2, 3]];

/** One or more lines over calendar periods; the same numbers in a table below it, for screen readers and exact reading. */
export function TimeChart({
  title,
  unit,
  periods,
  lines,
  height = 240,
  testId,
}: {
  title: string;
  unit: PeriodUnit;
  periods: string[];
  lines: Line[];
  height?: number;
  testId?: string;
}) {
  const { t, locale } = useI18n();
  const labels = usePeriodLabels(unit);
  const holder = useRef<HTMLDivElement>(null);
  const compact = useMemo(
    () => new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }),
    [locale],
  );

  useEffect(() => {
    const element = holder.current;
    if (!element || periods.length === 0) return undefined;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height,
      scales: { x: { time: false } },
      series: [
        {
          label: t('common.charts.period'),
          value: (_plot, index) => (index === null || periods[index] === undefined ? '' : labels.long(periods[index])),
        },
        ...lines.map((line) => ({
          label: line.label,
          stroke: line.color,
          width: 2,
          ...(line.dash ? { dash: line.dash } : {}),
          spanGaps: false,
          points: { show: periods.length <= 40, size: 5, fill: line.color },
          value: (_plot: uPlot, value: number | null) => line.format(value ?? null),
        })),
      ],
      axes: [
        {
          stroke: '#4a5361',
          grid: { stroke: '#e6e9ee' },
          space: 56,
          incrs: [1, 2, 3, 4, 6, 7, 12, 14, 28, 30, 60, 90, 180, 365],
          values: (_plot, splits) =>
            splits.map((split) =>
              Number.isInteger(split) && periods[split] !== undefined ? labels.short(periods[split]) : '',
            ),
        },
        {
          stroke: '#4a5361',
          grid: { stroke: '#e6e9ee' },
          size: 56,
          values: (_plot, splits) => splits.map((split) => compact.format(split)),
        },
      ],
      legend: { show: true, live: true },
    };
    const data: uPlot.AlignedData = [periods.map((_period, index) => index), ...lines.map((line) => line.values)];
    let plot: uPlot | undefined;
    let observer: ResizeObserver | undefined;
    let gone = false;
    void loadPlotter().then((Plotter) => {
      if (gone) return;
      const drawn = new Plotter(options, data, element);
      observer = new ResizeObserver(() => drawn.setSize({ width: Math.max(element.clientWidth, 200), height }));
      observer.observe(element);
      plot = drawn;
    });
    return () => {
      gone = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [periods, lines, height, labels, compact, t]);

  if (periods.length === 0) return <Empty />;
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div class="chart-plot" ref={holder} aria-hidden="true" />
      <details class="chart-table">
        <summary>{t('common.charts.table')}</summary>
        <ScrollArea label={title}>
          <table>
            <caption class="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{t('common.charts.period')}</th>
                {lines.map((line) => (
                  <th scope="col" class="number" key={line.label}>
                    {line.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {periods.map((period, index) => (
                <tr key={period}>
                  <th scope="row">{labels.long(period)}</th>
                  {lines.map((line) => (
                    <td class="number" key={line.label}>
                      {line.format(line.values[index] ?? null)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      </details>
    </figure>
  );
}

/** A wide table's own horizontal scroll: focusable and named, so keyboard users can scroll it too. */
export function ScrollArea({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

export interface Bar {
  key: string;
  label: ComponentChildren;
  value: number;
  /** The number as shown next to the bar. */
  text: string;
  tone?: 'good' | 'bad' | 'warn';
}

/** Horizontal bars as a table: a row header, the bar (decoration) and its number. */
export function BarList({
  caption,
  captionHidden = false,
  labelHeader,
  valueHeader,
  bars,
  testId,
}: {
  caption: string;
  captionHidden?: boolean;
  labelHeader: string;
  valueHeader: string;
  bars: Bar[];
  testId?: string;
}) {
  const max = Math.max(0, ...bars.map((bar) => bar.value));
  return (
    <table class="bars" data-testid={testId}>
      <caption class={captionHidden ? 'visually-hidden' : undefined}>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{labelHeader}</th>
          <th scope="col" class="number">
            {valueHeader}
          </th>
        </tr>
      </thead>
      <tbody>
        {bars.map((bar) => (
          <tr key={bar.key}>
            <th scope="row">{bar.label}</th>
            <td class="bar-cell">
              <span class="bar-track" aria-hidden="true">
                <span class={`bar ${bar.tone ?? ''}`} style={{ width: `${max > 0 ? (bar.value / max) * 100 : 0}%` }} />
              </span>
              <span class="bar-value" data-testid={testId ? `${testId}-${bar.key}` : undefined}>
                {bar.text}
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A heat shade class (`shade-0` … `shade-5`) for a share from 0 to 1; each keeps its text at AA contrast (see styles.css). */
export function shadeClass(share: number | null): string {
  if (share === null || !Number.isFinite(share) || share <= 0) return 'shade-0';
  return `shade-${Math.min(5, Math.max(1, Math.ceil(share * 5)))}`;
}
