// A customer's timeline, newest first, a page at a time ("load more"): time, what happened, channel; orders, tickets and surveys marked.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, useApi } from '../../api';
import { ErrorBox, Loading } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { customers as english } from '../../locales/en/customers';

export interface TimelineEvent {
  messageId: string;
  type: string;
  event?: string;
  name?: string;
  timestamp: string;
  channel?: string;
  properties?: Record<string, unknown>;
}

interface TimelinePage {
  events: TimelineEvent[];
  nextCursor: string | null;
}

/** Events a page: enough to see the last visits, short enough to read on a phone. */
export const timelinePageSize = 25;

type Kind = 'order' | 'ticket' | 'survey' | 'other';

const knownEvents = new Set(Object.keys(english.timeline.events));
const knownTypes = new Set(Object.keys(english.timeline.types));

function kindOf(entry: TimelineEvent): Kind {
  if (entry.type !== 'track') return 'other';
  if (entry.event === 'Order Completed' || entry.event === 'Order Refunded') return 'order';
  if (entry.event?.startsWith('Ticket ')) return 'ticket';
  if (entry.event === 'Survey Responded') return 'survey';
  return 'other';
}

const scalar = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;

function Entry({ entry }: { entry: TimelineEvent }) {
  const { t } = useI18n();
  const format = useFormats();
  const kind = kindOf(entry);
  const properties = entry.properties ?? {};
  const what =
    entry.type === 'track' && entry.event
      ? knownEvents.has(entry.event)
        ? t(`customers.timeline.events.${entry.event}`)
        : entry.event
      : knownTypes.has(entry.type)
        ? t(`customers.timeline.types.${entry.type}`)
        : entry.type;
  let detail: string | undefined;
  if (kind === 'order') {
    const amount =
      typeof properties.revenue === 'number'
        ? properties.revenue
        : typeof properties.total === 'number'
          ? properties.total
          : null;
    detail = t('customers.timeline.orderDetail', {
      id: scalar(properties.order_id) ?? '—',
      revenue: format.vnd(amount),
    });
  } else if (kind === 'ticket') {
    const type = scalar(properties.type);
    const id = scalar(properties.ticket_id) ?? '—';
    detail = type
      ? t('customers.timeline.ticketDetail', {
          type: t(`customers.timeline.ticketTypes.${type}`, { defaultValue: type }),
          id,
        })
      : t('customers.timeline.ticketId', { id });
  } else if (kind === 'survey') {
    const survey = scalar(properties.survey);
    detail = t('customers.timeline.surveyDetail', {
      survey: survey
        ? t(`customers.timeline.surveys.${survey}`, { defaultValue: survey })
        : t('customers.timeline.survey'),
      score: typeof properties.score === 'number' ? format.number(properties.score, 1) : '—',
    });
  }
  const channel = entry.channel ?? 'unknown';
  return (
    <li class={`timeline-entry ${kind}`} data-testid="timeline-entry" data-kind={kind}>
      <time dateTime={entry.timestamp}>{format.dateTime(entry.timestamp)}</time>
      <div class="what">
        {kind !== 'other' && <span class={`entry-tag ${kind}`}>{t(`customers.timeline.${kind}`)}</span>}
        <span class="entry-name">{what}</span>
        {(entry.type === 'page' || entry.type === 'screen') && entry.name && (
          <span class="entry-detail">{entry.name}</span>
        )}
        {detail && <span class="entry-detail">{detail}</span>}
      </div>
      <span class="entry-channel">
        <span class="visually-hidden">{t('customers.timeline.channel')}: </span>
        {t(`common.channels.${channel}`, { defaultValue: channel })}
      </span>
    </li>
  );
}

export function Timeline({ address }: { address: string }) {
  const { t } = useI18n();
  const format = useFormats();
  const api = useApi();
  const [events, setEvents] = useState<TimelineEvent[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const controller = useRef<AbortController | null>(null);

  async function load(cursor?: string) {
    controller.current?.abort();
    const current = (controller.current = new AbortController());
    setLoading(true);
    setError(null);
    try {
      const page = await api.get<TimelinePage>(
        `/v1/profiles/${address}/events`,
        { limit: timelinePageSize, cursor },
        current.signal,
      );
      setEvents((previous) => (cursor ? [...previous, ...page.events] : page.events));
      setNext(page.nextCursor);
    } catch (failure) {
      if ((failure as Error).name === 'AbortError') return;
      setError(failure instanceof ApiError ? failure : new ApiError(0, 'NETWORK', String(failure)));
    }
    setLoading(false);
  }

  useEffect(() => {
    void load();
    return () => controller.current?.abort();
  }, [address]);

  return (
    <section class="panel timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title">{t('customers.timeline.title')}</h2>
      <p class="muted">
        {t('customers.timeline.caption')}
        {events.length > 0 && ` · ${t('customers.timeline.shown', { number: format.number(events.length) })}`}
      </p>
      {next === undefined && !error && <Loading />}
      {next !== undefined && events.length === 0 && <p>{t('customers.timeline.none')}</p>}
      {events.length > 0 && (
        <ol class="timeline-list" data-testid="timeline">
          {events.map((entry) => (
            <Entry key={entry.messageId} entry={entry} />
          ))}
        </ol>
      )}
      {error && <ErrorBox error={error} retry={() => void load(next ?? undefined)} />}
      {next && !error && (
        <button
          type="button"
          class="secondary"
          onClick={() => void load(next)}
          disabled={loading}
          data-testid="timeline-more"
        >
          {loading ? t('customers.timeline.loading') : t('customers.timeline.more')}
        </button>
      )}
      {next === null && events.length > 0 && <p class="muted">{t('customers.timeline.end')}</p>}
    </section>
  );
}
