// The overview's KPIs split by channel: one row per channel with a message in the period.
import { ScrollArea } from '../../components/charts';
import { Empty } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { formatKpi, type KpiName, type KpisAnswer } from './kpis';

const shown: KpiName[] = [
  'activeCustomers',
  'newCustomers',
  'orders',
  'revenue',
  'aov',
  'purchaseFrequency',
  'tickets',
  'complaints',
  'nps',
  'csat',
];

/** A channel's name in the console's language; a channel the console does not know keeps the API's name. */
export function useChannelName(): (channel: string) => string {
  const { t } = useI18n();
  return (channel) => {
    const name = t(`common.channels.${channel}`);
    return name === `common.channels.${channel}` ? channel : name;
  };
}

export function ByChannel({ answer }: { answer: KpisAnswer }) {
  const { t } = useI18n();
  const formats = useFormats();
  const channelName = useChannelName();
  return (
    <section class="panel" aria-labelledby="by-channel-title">
      <h2 id="by-channel-title">{t('overview.byChannel')}</h2>
      {answer.byChannel.length === 0 ? (
        <Empty />
      ) : (
        <ScrollArea label={t('overview.byChannel')}>
          <table class="by-channel" data-testid="by-channel">
            <caption class="visually-hidden">{t('overview.byChannel')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('overview.channel')}</th>
                {shown.map((name) => (
                  <th scope="col" class="number" key={name}>
                    {t(`overview.kpis.${name}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {answer.byChannel.map((row) => (
                <tr key={row.channel} data-channel={row.channel}>
                  <th scope="row">{channelName(row.channel)}</th>
                  {shown.map((name) => (
                    <td class="number" key={name} data-kpi={name}>
                      {formatKpi(name, row[name], formats, t)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      )}
    </section>
  );
}
