// Tickets open now, oldest first, held to a first-reply service level: who waits, since when, and whether it is breached.
import { useLocation } from 'preact-iso';
import { useQuery } from '../../api';
import { ScrollArea } from '../../components/charts';
import { QuerySelect } from '../../components/filter-bar';
import { Empty, Loaded } from '../../components/states';
import { useFilters } from '../../filters';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { useChannelName } from '../overview/by-channel';

export interface OpenTicketsAnswer {
  slaHours: number;
  total: number;
  breached: number;
  tickets: Array<{
    ticketId: string;
    profileId: string;
    channel: string;
    type: string;
    openedAt: string;
    ageHours: number;
    firstReplyAt: string | null;
    breached: boolean;
  }>;
}

const slaChoices = ['4', '8', '24', '48', '72'];
const knownTypes = ['question', 'complaint', 'request'];

export function OpenTickets() {
  const { t } = useI18n();
  const formats = useFormats();
  const channelName = useChannelName();
  const [filters] = useFilters();
  const { query } = useLocation();
  const slaHours = slaChoices.includes(query.sla ?? '') ? Number(query.sla) : 24;
  const state = useQuery<OpenTicketsAnswer>('/v1/analytics/open-tickets', {
    tz: filters.tz,
    channel: filters.channel,
    segment: filters.segment,
    slaHours,
    limit: 50,
  });
  const age = (hours: number) =>
    hours < 48
      ? t('common.units.hours', { value: formats.number(hours, 0) })
      : t('common.units.days', { value: formats.number(hours / 24, 1) });
  const type = (value: string) =>
    knownTypes.includes(value) ? t(`care.types.${value}`) : value || t('common.states.none');
  return (
    <section class="panel" aria-labelledby="open-title">
      <div class="panel-head">
        <h2 id="open-title">{t('care.openNow')}</h2>
        <div class="panel-controls">
          <QuerySelect
            name="sla"
            label={t('care.sla')}
            value={String(slaHours)}
            options={slaChoices.map((hours) => ({ value: hours, label: t('care.slaHours', { hours }) }))}
          />
        </div>
      </div>
      <Loaded state={state}>
        {(answer) => (
          <>
            <p class="open-summary">
              <span class="open-count">
                <strong data-testid="open-total">{formats.number(answer.total)}</strong> {t('care.openLabel')}
              </span>
              <span class={`open-count ${answer.breached > 0 ? 'breached' : ''}`}>
                <strong data-testid="open-breached">{formats.number(answer.breached)}</strong>{' '}
                {t('care.breachedLabel', { hours: formats.number(answer.slaHours) })}
              </span>
            </p>
            {answer.tickets.length === 0 ? (
              <Empty>
                <p>{t('care.noOpen')}</p>
              </Empty>
            ) : (
              <ScrollArea label={t('care.openNow')}>
                <table class="open-tickets" data-testid="open-tickets">
                  <caption class="visually-hidden">{t('care.openNow')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('care.ticket')}</th>
                      <th scope="col">{t('care.channel')}</th>
                      <th scope="col">{t('care.type')}</th>
                      <th scope="col">{t('care.openedAt')}</th>
                      <th scope="col" class="number">
                        {t('care.age')}
                      </th>
                      <th scope="col">{t('care.firstReply')}</th>
                      <th scope="col">{t('care.status')}</th>
                      <th scope="col">{t('care.customer')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {answer.tickets.map((ticket) => (
                      <tr key={ticket.ticketId} class={ticket.breached ? 'breached' : ''}>
                        <th scope="row" data-raw>
                          {ticket.ticketId}
                        </th>
                        <td>{channelName(ticket.channel)}</td>
                        <td>{type(ticket.type)}</td>
                        <td>{formats.dateTime(ticket.openedAt, filters.tz)}</td>
                        <td class="number">{age(ticket.ageHours)}</td>
                        <td>
                          {ticket.firstReplyAt ? (
                            formats.dateTime(ticket.firstReplyAt, filters.tz)
                          ) : (
                            <span class="muted">{t('care.noReply')}</span>
                          )}
                        </td>
                        <td>
                          {ticket.breached ? (
                            <span class="sla breached">{t('care.breached')}</span>
                          ) : (
                            <span class="sla within">{t('care.withinSla')}</span>
                          )}
                        </td>
                        <td>
                          <a href={`/console/customers/profile_id:${encodeURIComponent(ticket.profileId)}`}>
                            {t('care.view')}
                            <span class="visually-hidden"> {t('care.viewLabel', { ticket: ticket.ticketId })}</span>
                          </a>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollArea>
            )}
            {answer.total > answer.tickets.length && (
              <p class="muted">
                {t('care.showing', {
                  shown: formats.number(answer.tickets.length),
                  total: formats.number(answer.total),
                })}
              </p>
            )}
          </>
        )}
      </Loaded>
    </section>
  );
}
