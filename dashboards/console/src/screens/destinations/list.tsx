// The destinations list: each webhook with its status, what fires it and where it sends.
import { useQuery } from '../../api';
import { Empty, Loaded } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { destinationPath, hostOf, useTriggerText, type Destination } from './model';

export function StatusBadge({ status }: { status: Destination['status'] }) {
  const { t } = useI18n();
  return <span class={`badge ${status}`}>{t(`destinations.status.${status}`)}</span>;
}

export function DestinationsList() {
  const { t } = useI18n();
  const format = useFormats();
  const triggerText = useTriggerText();
  const state = useQuery<{ destinations: Destination[] }>('/v1/destinations');
  return (
    <section class="destinations-screen" aria-labelledby="destinations-title">
      <div class="screen-head">
        <div>
          <h1 id="destinations-title">{t('destinations.title')}</h1>
          <p class="muted">{t('destinations.intro')}</p>
        </div>
        <div class="actions">
          <button type="button" class="secondary" onClick={state.reload} disabled={state.loading}>
            {t('destinations.refresh')}
          </button>
          <a class="button" href="/console/destinations/new">
            {t('destinations.newDestination')}
          </a>
        </div>
      </div>
      <Loaded state={state}>
        {({ destinations }) =>
          destinations.length === 0 ? (
            <Empty>
              <p>{t('destinations.list.none')}</p>
            </Empty>
          ) : (
            <div class="panel table-scroll" tabIndex={0} role="region" aria-labelledby="destinations-title">
              <table class="destinations-table">
                <caption class="visually-hidden">{t('destinations.list.caption')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('destinations.list.name')}</th>
                    <th scope="col">{t('destinations.list.status')}</th>
                    <th scope="col">{t('destinations.list.triggers')}</th>
                    <th scope="col">{t('destinations.list.url')}</th>
                    <th scope="col">{t('destinations.list.updatedAt')}</th>
                  </tr>
                </thead>
                <tbody>
                  {destinations.map((destination) => (
                    <tr key={destination.id} data-testid={`destination-row-${destination.id}`}>
                      <th scope="row">
                        <a href={destinationPath(destination.id)}>{destination.name}</a>
                      </th>
                      <td>
                        <StatusBadge status={destination.status} />
                      </td>
                      <td>{destination.triggers.map(triggerText).join('; ')}</td>
                      <td>
                        <code>{hostOf(destination.url)}</code>
                      </td>
                      <td>{format.dateTime(destination.updatedAt)}</td>
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
