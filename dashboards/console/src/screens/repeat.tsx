// Repeat purchase: how many buyers of the period bought again, how often, how soon, and buyers by their number of orders.
import { useQuery } from '../api';
import { BarList } from '../components/charts';
import { FilterBar } from '../components/filter-bar';
import { Empty, Loaded } from '../components/states';
import { analyticsParams, useFilters } from '../filters';
import { useFormats } from '../format';
import { useI18n } from '../i18n';

export interface RepeatAnswer {
  customers: number;
  repeatCustomers: number;
  orders: number;
  repeatRate: number | null;
  ordersPerCustomer: number | null;
  distribution: Record<'1' | '2' | '3' | '4' | '5+', number>;
  medianDaysToSecondPurchase: number | null;
  medianDaysBetweenPurchases: number | null;
}

const cards = [
  'customers',
  'repeatCustomers',
  'repeatRate',
  'ordersPerCustomer',
  'medianDaysToSecondPurchase',
  'medianDaysBetweenPurchases',
] as const;
const buckets = ['1', '2', '3', '4', '5+'] as const;

function Measures({ answer }: { answer: RepeatAnswer }) {
  const { t } = useI18n();
  const formats = useFormats();
  const text = (name: (typeof cards)[number]): string => {
    const value = answer[name];
    if (value === null) return formats.number(null);
    if (name === 'repeatRate') return formats.percent(value);
    if (name === 'ordersPerCustomer') return formats.number(value, 2);
    if (name === 'medianDaysToSecondPurchase' || name === 'medianDaysBetweenPurchases')
      return t('common.units.days', { value: formats.number(value, 1) });
    return formats.number(value);
  };
  return (
    <ul class="cards" aria-label={t('repeat.measures')}>
      {cards.map((name) => (
        <li class="card" key={name}>
          <p class="label" id={`repeat-label-${name}`}>
            {t(`repeat.${name}`)}
          </p>
          <p class="value" data-testid={`repeat-${name}`} aria-describedby={`repeat-label-${name}`}>
            {text(name)}
          </p>
          <p class="delta">{t(`repeat.hints.${name}`)}</p>
        </li>
      ))}
    </ul>
  );
}

function Distribution({ answer }: { answer: RepeatAnswer }) {
  const { t } = useI18n();
  const formats = useFormats();
  const bars = buckets.map((bucket) => {
    const value = answer.distribution[bucket] ?? 0;
    const share = answer.customers > 0 ? value / answer.customers : null;
    return {
      key: bucket,
      label:
        bucket === '5+'
          ? t('repeat.ordersMany')
          : bucket === '1'
            ? t('repeat.ordersOne')
            : t('repeat.orders', { number: bucket }),
      value,
      text: `${formats.number(value)} (${formats.percent(share)})`,
      tone: bucket === '1' ? undefined : ('good' as const),
    };
  });
  return (
    <BarList
      testId="repeat-distribution"
      captionHidden
      caption={t('repeat.distribution')}
      labelHeader={t('repeat.ordersColumn')}
      valueHeader={t('repeat.buyersColumn')}
      bars={bars}
    />
  );
}

export function Repeat() {
  const { t } = useI18n();
  const [filters] = useFilters();
  const formats = useFormats();
  const state = useQuery<RepeatAnswer>('/v1/analytics/repeat-purchase', analyticsParams(filters));
  return (
    <section class="analytics-screen" aria-labelledby="screen-title">
      <h1 id="screen-title">{t('repeat.title')}</h1>
      <p class="intro">{t('repeat.intro')}</p>
      <FilterBar />
      <Loaded state={state}>
        {(answer) => (
          <>
            {answer.customers === 0 && (
              <Empty>
                <p>{t('repeat.empty')}</p>
              </Empty>
            )}
            <Measures answer={answer} />
            <section class="panel" aria-labelledby="distribution-title">
              <h2 id="distribution-title">{t('repeat.distributionTitle')}</h2>
              <p class="muted">
                {t('repeat.distributionIntro', {
                  orders: formats.number(answer.orders),
                  customers: formats.number(answer.customers),
                })}
              </p>
              <Distribution answer={answer} />
            </section>
          </>
        )}
      </Loaded>
    </section>
  );
}
