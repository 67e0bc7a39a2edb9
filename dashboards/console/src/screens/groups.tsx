// Customer groups: the built-in lifecycle stages and RFM groups with their size and last movement, and the RFM grid.
import { useQuery } from '../api';
import { Empty, Loaded } from '../components/states';
import { useFormats } from '../format';
import { useI18n } from '../i18n';
import { segmentPath, type Segment, type SegmentList } from './segments/names';
import { RfmGrid } from './groups/rfm-grid';

export const lifecycleIds = [
  'lifecycle-new',
  'lifecycle-active',
  'lifecycle-returning',
  'lifecycle-dormant',
  'lifecycle-churned',
];
export const rfmIds = [
  'rfm-champions',
  'rfm-loyal',
  'rfm-potential-loyalists',
  'rfm-new-customers',
  'rfm-at-risk',
  'rfm-hibernating',
  'rfm-lost',
];

function Movement({ segment, evaluated }: { segment: Segment; evaluated: boolean }) {
  const { t } = useI18n();
  const formats = useFormats();
  if (!evaluated || (segment.entered === undefined && segment.exited === undefined))
    return <p class="movement muted">{t('groups.noMovement')}</p>;
  const entered = segment.entered ?? 0;
  const exited = segment.exited ?? 0;
  if (entered === 0 && exited === 0) return <p class="movement muted">{t('groups.unchanged')}</p>;
  return (
    <p class="movement">
      <span class="entered" data-testid={`group-entered-${segment.id}`}>
        {t('groups.entered', { number: formats.number(entered) })}
      </span>
      {' · '}
      <span class="exited" data-testid={`group-exited-${segment.id}`}>
        {t('groups.exited', { number: formats.number(exited) })}
      </span>
    </p>
  );
}

function GroupCards({
  ids,
  list,
  title,
  titleId,
}: {
  ids: string[];
  list: SegmentList;
  title: string;
  titleId: string;
}) {
  const { t } = useI18n();
  const formats = useFormats();
  const present = ids
    .map((id) => list.segments.find((segment) => segment.id === id))
    .filter((segment): segment is Segment => segment !== undefined);
  return (
    <section class="group-section" aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {present.length === 0 ? (
        <Empty />
      ) : (
        <ul class="cards group-cards">
          {present.map((segment) => (
            <li class="card group-card" key={segment.id} data-testid={`group-${segment.id}`}>
              <h3>
                <a href={segmentPath(segment.id)}>{t(`groups.names.${segment.id}`)}</a>
              </h3>
              <p class="value">
                <span data-testid={`group-size-${segment.id}`}>{formats.number(segment.size)}</span>{' '}
                <span class="unit">{t('groups.customersUnit')}</span>
              </p>
              <p class="explain">{t(`groups.explain.${segment.id}`)}</p>
              <Movement segment={segment} evaluated={Boolean(list.evaluatedAt)} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Groups() {
  const { t } = useI18n();
  const formats = useFormats();
  const state = useQuery<SegmentList>('/v1/segments');
  return (
    <section class="analytics-screen groups-screen" aria-labelledby="screen-title">
      <h1 id="screen-title">{t('groups.title')}</h1>
      <p class="intro">{t('groups.intro')}</p>
      <Loaded state={state}>
        {(list) => (
          <>
            <p class="evaluated" data-testid="groups-evaluated">
              {list.evaluatedAt
                ? t('groups.evaluatedAt', { at: formats.dateTime(list.evaluatedAt) })
                : t('groups.notEvaluated')}
            </p>
            <GroupCards ids={lifecycleIds} list={list} title={t('groups.lifecycle')} titleId="lifecycle-title" />
            <GroupCards ids={rfmIds} list={list} title={t('groups.rfm')} titleId="rfm-title" />
          </>
        )}
      </Loaded>
      <RfmGrid />
    </section>
  );
}
