// One customer's 360 page: name, the identifier that found them, identities, stats, traits, segments, then the timeline.
import { useQuery } from '../../api';
import { Loaded } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { segmentPath, useSegmentName, type SegmentList } from '../segments/names';
import { profileRef, type Candidate } from './lookup';
import { customerName } from './name';
import { NotFound } from './search';
import { Timeline } from './timeline';

export interface Profile {
  profileId: string;
  identities: Array<{ type: string; value: string }>;
  traits: Record<string, unknown>;
  stats: {
    firstSeen: string | null;
    lastSeen: string | null;
    events: number;
    orders: number;
    revenue: number;
    lastOrderAt: string | null;
    channels: string[];
    latestNps: number | null;
    latestCsat: number | null;
    openTickets: number;
  };
  segments: string[];
}

const traitText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function Stats({ profile }: { profile: Profile }) {
  const { t } = useI18n();
  const format = useFormats();
  const { stats } = profile;
  const items: Array<[key: string, value: string, date?: boolean]> = [
    ['orders', format.number(stats.orders)],
    ['revenue', format.vnd(stats.revenue)],
    ['lastOrderAt', format.dateTime(stats.lastOrderAt), true],
    ['events', format.number(stats.events)],
    ['firstSeen', format.dateTime(stats.firstSeen), true],
    ['lastSeen', format.dateTime(stats.lastSeen), true],
    ['latestNps', format.number(stats.latestNps)],
    ['latestCsat', format.number(stats.latestCsat)],
    ['openTickets', format.number(stats.openTickets)],
    [
      'channels',
      stats.channels.length > 0
        ? stats.channels.map((channel) => t(`common.channels.${channel}`, { defaultValue: channel })).join(', ')
        : t('common.states.none'),
    ],
  ];
  return (
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">{t('customers.profile.stats')}</h2>
      <dl class="cards stats-cards">
        {items.map(([key, value, date]) => (
          <div class="card" key={key} data-testid={`stat-${key}`}>
            <dt class="label">{t(`customers.stats.${key}`)}</dt>
            <dd class={date ? 'value date' : 'value'}>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Segments({ ids }: { ids: string[] }) {
  const { t } = useI18n();
  const nameOf = useSegmentName();
  const list = useQuery<SegmentList>(ids.length > 0 ? '/v1/segments' : null);
  const names = new Map((list.data?.segments ?? []).map((segment) => [segment.id, segment.name]));
  return (
    <section aria-labelledby="segments-title">
      <h2 id="segments-title">{t('customers.profile.segments')}</h2>
      {ids.length === 0 ? (
        <p class="muted">{t('customers.profile.noSegments')}</p>
      ) : (
        <ul class="chips" data-testid="customer-segments">
          {ids.map((id) => (
            <li key={id}>
              <a href={segmentPath(id)}>{nameOf(id, names.get(id))}</a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ProfileView({ profile, candidate, query }: { profile: Profile; candidate: Candidate; query: string }) {
  const { t } = useI18n();
  const name = customerName(profile.traits);
  const traits = Object.entries(profile.traits).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <div class="customer-head">
        <h2 class="customer-name" data-testid="customer-name">
          {name ?? t('customers.profile.unnamed')}
        </h2>
        <p class="matched" data-testid="matched-by">
          {t('customers.matched', { type: t(`customers.types.${candidate.type}`), value: candidate.value })}{' '}
          {query && query !== candidate.value && <span class="muted">{t('customers.typed', { query })}</span>}
        </p>
        <p class="muted">
          {t('customers.profile.profileId')}: <code>{profile.profileId}</code>
        </p>
      </div>
      <section aria-labelledby="identities-title">
        <h2 id="identities-title">{t('customers.profile.identities')}</h2>
        <ul class="chips identities" data-testid="identities">
          {profile.identities.map((identity) => (
            <li key={`${identity.type}:${identity.value}`}>
              <span class="chip-label">{t(`customers.types.${identity.type}`, { defaultValue: identity.type })}</span>{' '}
              <span class="identifier">{identity.value}</span>
            </li>
          ))}
        </ul>
      </section>
      <Stats profile={profile} />
      <Segments ids={profile.segments} />
      <section class="panel" aria-labelledby="traits-title">
        <h2 id="traits-title">{t('customers.profile.traits')}</h2>
        {traits.length === 0 ? (
          <p class="muted">{t('customers.profile.noTraits')}</p>
        ) : (
          <table class="traits-table">
            <thead>
              <tr>
                <th scope="col">{t('customers.profile.trait')}</th>
                <th scope="col">{t('customers.profile.value')}</th>
              </tr>
            </thead>
            <tbody>
              {traits.map(([key, value]) => (
                <tr key={key}>
                  <th scope="row">
                    <code>{key}</code>
                  </th>
                  <td class="identifier">{traitText(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

export function CustomerPage({ candidate, query }: { candidate: Candidate; query: string }) {
  const ref = profileRef(candidate);
  const state = useQuery<Profile>(`/v1/profiles/${ref}`);
  if (state.error?.status === 404) return <NotFound query={query || candidate.value} tried={[candidate]} />;
  return (
    <Loaded state={state}>
      {(profile) => (
        <div class="customer" data-testid="customer">
          <ProfileView profile={profile} candidate={candidate} query={query} />
          <Timeline address={ref} />
        </div>
      )}
    </Loaded>
  );
}
