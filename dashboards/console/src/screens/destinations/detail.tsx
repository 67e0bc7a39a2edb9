// One destination: what it is, a test send, pause / resume / delete, and its recent deliveries with a replay of dead letters.
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { ApiError, useApi, useQuery } from '../../api';
import { Empty, ErrorBox, Loaded } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { StatusBadge } from './list';
import { useTriggerText, type Delivery, type DeliveryStatus, type Destination } from './model';

const shownDeliveries = 50;

function deliveryTrigger(delivery: Delivery, t: (key: string) => string): string {
  const { trigger } = delivery;
  if (trigger.kind === 'segment') return `${trigger.segmentId ?? ''} · ${trigger.change ?? ''}`;
  // Event triggers and follow-ups name the event that started them.
  if (trigger.event) return trigger.event;
  if (trigger.kind === 'test') return t('destinations.deliveries.testTrigger');
  return trigger.kind;
}

function Deliveries({ destination }: { destination: Destination }) {
  const { t } = useI18n();
  const api = useApi();
  const format = useFormats();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [replayed, setReplayed] = useState<number | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const state = useQuery<{ deliveries: Delivery[] }>(
    `/v1/destinations/${encodeURIComponent(destination.id)}/deliveries`,
    { limit: shownDeliveries, status },
  );
  async function replay() {
    setFailure(null);
    try {
      const answer = await api.send<{ replayed: number }>(
        'POST',
        `/v1/destinations/${encodeURIComponent(destination.id)}/replay`,
      );
      setReplayed(answer.replayed);
      state.reload();
    } catch (error) {
      setFailure(error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)));
    }
  }
  return (
    <section class="panel" aria-labelledby="deliveries-title">
      <div class="panel-head">
        <h2 id="deliveries-title">{t('destinations.deliveries.title')}</h2>
        <div class="actions">
          <div class="field inline">
            <label for="delivery-status">{t('destinations.deliveries.show')}</label>
            <select
              id="delivery-status"
              value={status}
              onChange={(event) => setStatus((event.target as HTMLSelectElement).value as DeliveryStatus | '')}
            >
              <option value="">{t('destinations.deliveries.all')}</option>
              {(['pending', 'delivered', 'dead'] as const).map((each) => (
                <option key={each} value={each}>
                  {t(`destinations.deliveryStatus.${each}`)}
                </option>
              ))}
            </select>
          </div>
          <button type="button" class="secondary" onClick={state.reload} disabled={state.loading}>
            {t('destinations.refresh')}
          </button>
          <button type="button" class="secondary" onClick={replay} data-testid="replay">
            {t('destinations.deliveries.replay')}
          </button>
        </div>
      </div>
      {replayed !== null && (
        <p role="status" data-testid="replayed">
          {t('destinations.deliveries.replayed', { number: format.number(replayed) })}
        </p>
      )}
      {failure && <ErrorBox error={failure} />}
      <Loaded state={state}>
        {({ deliveries }) =>
          deliveries.length === 0 ? (
            <Empty>
              <p>{t('destinations.deliveries.none')}</p>
            </Empty>
          ) : (
            // Focusable, so a keyboard can scroll the table sideways on a narrow screen.
            <div class="table-scroll" tabIndex={0} role="region" aria-labelledby="deliveries-title">
              <table class="deliveries-table">
                <caption class="visually-hidden">{t('destinations.deliveries.caption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('destinations.deliveries.createdAt')}</th>
                    <th scope="col">{t('destinations.deliveries.status')}</th>
                    <th scope="col">{t('destinations.deliveries.trigger')}</th>
                    <th scope="col" class="number">
                      {t('destinations.deliveries.attempts')}
                    </th>
                    <th scope="col" class="number">
                      {t('destinations.deliveries.lastStatus')}
                    </th>
                    <th scope="col" class="number">
                      {t('destinations.deliveries.latency')}
                    </th>
                    <th scope="col">{t('destinations.deliveries.error')}</th>
                  </tr>
                </thead>
                <tbody>
                  {deliveries.map((delivery) => (
                    <tr key={delivery.id} data-testid="delivery-row" data-status={delivery.status}>
                      <td>{format.dateTime(delivery.createdAt)}</td>
                      <td>
                        <span class={`badge ${delivery.status}`}>
                          {t(`destinations.deliveryStatus.${delivery.status}`)}
                        </span>
                      </td>
                      {/* Event and segment ids as the data names them, not the console's words. */}
                      <td data-raw>{deliveryTrigger(delivery, t)}</td>
                      <td class="number">{format.number(delivery.attempts)}</td>
                      <td class="number">{delivery.lastStatus ?? t('common.states.none')}</td>
                      <td class="number">
                        {delivery.latencyMs === null
                          ? t('common.states.none')
                          : `${format.number(delivery.latencyMs)} ms`}
                      </td>
                      <td class="delivery-error">{delivery.lastError || t('common.states.none')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </section>
  );
}

function Overview({ destination, reload }: { destination: Destination; reload: () => void }) {
  const { t } = useI18n();
  const api = useApi();
  const format = useFormats();
  const { route } = useLocation();
  const triggerText = useTriggerText();
  const [busy, setBusy] = useState(false);
  const [tested, setTested] = useState<{
    ok: boolean;
    status: number | null;
    latencyMs: number | null;
    error: string | null;
  } | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const path = `/v1/destinations/${encodeURIComponent(destination.id)}`;

  async function act(action: () => Promise<void>) {
    setBusy(true);
    setFailure(null);
    try {
      await action();
    } catch (error) {
      setFailure(error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)));
    } finally {
      setBusy(false);
    }
  }
  const test = () =>
    act(async () => {
      setTested(null);
      setTested(await api.send('POST', `${path}/test`));
    });
  const toggle = () =>
    act(async () => {
      await api.send('PATCH', path, { status: destination.status === 'active' ? 'paused' : 'active' });
      reload();
    });
  const remove = () => {
    if (!globalThis.confirm(t('destinations.detail.confirmRemove'))) return;
    void act(async () => {
      await api.send('DELETE', path);
      route('/console/destinations');
    });
  };

  return (
    <>
      <div class="screen-head">
        <div>
          <h1 id="destination-title">{destination.name}</h1>
          <p class="muted">
            {t('destinations.list.updatedAt')}: {format.dateTime(destination.updatedAt)}
          </p>
        </div>
        <div class="actions">
          <button type="button" onClick={test} disabled={busy} data-testid="send-test">
            {busy ? t('destinations.detail.testing') : t('destinations.detail.test')}
          </button>
          <button type="button" class="secondary" onClick={toggle} disabled={busy} data-testid="toggle-status">
            {destination.status === 'active' ? t('destinations.detail.pause') : t('destinations.detail.resume')}
          </button>
          <button type="button" class="danger" onClick={remove} disabled={busy}>
            {t('destinations.detail.remove')}
          </button>
        </div>
      </div>
      {tested && (
        <p role="status" class={tested.ok ? 'good' : 'bad'} data-testid="test-answer">
          {tested.status !== null
            ? t('destinations.detail.testAnswer', { status: tested.status, ms: format.number(tested.latencyMs) })
            : t('destinations.detail.testError', { error: tested.error ?? '' })}
        </p>
      )}
      {failure && <ErrorBox error={failure} />}
      <dl class="panel facts">
        <dt>{t('destinations.detail.status')}</dt>
        <dd data-testid="destination-status">
          <StatusBadge status={destination.status} />
        </dd>
        <dt>{t('destinations.detail.url')}</dt>
        <dd>
          <code class="url">{destination.url}</code>
        </dd>
        <dt>{t('destinations.detail.triggers')}</dt>
        <dd>
          <ul>
            {destination.triggers.map((trigger, index) => (
              <li key={index}>{triggerText(trigger)}</li>
            ))}
          </ul>
        </dd>
        <dt>{t('destinations.detail.template')}</dt>
        <dd>
          {destination.template ? (
            <pre>
              <code>{destination.template}</code>
            </pre>
          ) : (
            t('destinations.detail.noTemplate')
          )}
        </dd>
      </dl>
    </>
  );
}

export function DestinationDetail({ id }: { id: string }) {
  const { t } = useI18n();
  const state = useQuery<Destination>(`/v1/destinations/${encodeURIComponent(id)}`);
  return (
    <section class="destinations-screen" aria-labelledby="destination-title">
      <p class="crumbs">
        <a href="/console/destinations">{t('destinations.back')}</a>
      </p>
      <Loaded state={state}>
        {(destination) => (
          <>
            <Overview destination={destination} reload={state.reload} />
            <Deliveries destination={destination} />
          </>
        )}
      </Loaded>
    </section>
  );
}
