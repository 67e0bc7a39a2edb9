// The segments list: the owner's segments and the built-ins, each with its size, last evaluation's changes and last change.
import { useQuery } from '../../api';
import { Empty, Loaded } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { builtinOrder, segmentPath, useSegmentName, type Segment, type SegmentList } from './names';

function Changes({ segment, evaluatedAt }: { segment: Segment; evaluatedAt: string | null | undefined }) {
  const { t } = useI18n();
  const format = useFormats();
  // Saved after the last evaluation: its size and changes are not known yet.
  if (evaluatedAt && Date.parse(segment.updatedAt) > Date.parse(evaluatedAt))
    return <span class="muted">{t('segments.list.pending')}</span>;
  if (segment.entered === undefined && segment.exited === undefined) return <>{t('common.states.none')}</>;
  const entered = segment.entered ?? 0;
  const exited = segment.exited ?? 0;
  if (entered === 0 && exited === 0) return <span class="muted">{t('segments.list.noChange')}</span>;
  return (
    <span class="segment-changes">
      {entered > 0 && <span class="entered">{t('segments.list.entered', { number: format.number(entered) })}</span>}
      {entered > 0 && exited > 0 && ' · '}
      {exited > 0 && <span class="exited">{t('segments.list.exited', { number: format.number(exited) })}</span>}
    </span>
  );
}

function SegmentTable({
  segments,
  caption,
  evaluatedAt,
}: {
  segments: Segment[];
  caption: string;
  evaluatedAt: string | null | undefined;
}) {
  const { t } = useI18n();
  const format = useFormats();
  const nameOf = useSegmentName();
  return (
    <div class="panel table-scroll" tabIndex={0} role="region" aria-label={caption}>
      <table class="segments-table">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('segments.list.name')}</th>
            <th scope="col" class="number">
              {t('segments.list.size')}
            </th>
            <th scope="col">{t('segments.list.changes')}</th>
            <th scope="col">{t('segments.list.kind')}</th>
            <th scope="col">{t('segments.list.updatedAt')}</th>
          </tr>
        </thead>
        <tbody>
          {segments.map((segment) => (
            <tr key={segment.id} data-testid={`segment-row-${segment.id}`}>
              <th scope="row" class="segment-name">
                <a href={segmentPath(segment.id)}>{nameOf(segment.id, segment.name)}</a>
              </th>
              <td class="number" data-testid={`segment-size-${segment.id}`}>
                {format.number(segment.size)}
              </td>
              <td>
                <Changes segment={segment} evaluatedAt={evaluatedAt} />
              </td>
              <td>
                <span class={`badge ${segment.kind}`}>{t(`segments.kinds.${segment.kind}`)}</span>
              </td>
              <td>{format.dateTime(segment.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SegmentsList() {
  const { t } = useI18n();
  const format = useFormats();
  const state = useQuery<SegmentList>('/v1/segments');
  return (
    <section class="segments-screen" aria-labelledby="segments-title">
      <div class="screen-head">
        <div>
          <h1 id="segments-title">{t('segments.title')}</h1>
          <p class="muted">{t('segments.intro')}</p>
        </div>
        <div class="actions">
          <button type="button" class="secondary" onClick={state.reload} disabled={state.loading}>
            {t('segments.refresh')}
          </button>
          <a class="button" href="/console/segments/new">
            {t('segments.newSegment')}
          </a>
        </div>
      </div>
      <Loaded state={state}>
        {(data) => {
          const custom = data.segments.filter((segment) => segment.kind === 'custom');
          const builtins = data.segments
            .filter((segment) => segment.kind !== 'custom')
            .sort((a, b) => builtinOrder(a.id) - builtinOrder(b.id));
          return (
            <>
              {'evaluatedAt' in data && (
                <p class="muted" data-testid="evaluated-at">
                  {data.evaluatedAt
                    ? t('segments.list.evaluatedAt', { time: format.dateTime(data.evaluatedAt) })
                    : t('segments.list.notEvaluated')}
                </p>
              )}
              <h2>{t('segments.list.custom')}</h2>
              {custom.length > 0 ? (
                <SegmentTable segments={custom} caption={t('segments.list.custom')} evaluatedAt={data.evaluatedAt} />
              ) : (
                <Empty>
                  <p>{t('segments.list.noCustom')}</p>
                  <a class="button" href="/console/segments/new">
                    {t('segments.newSegment')}
                  </a>
                </Empty>
              )}
              <h2>{t('segments.list.builtins')}</h2>
              <SegmentTable segments={builtins} caption={t('segments.list.builtins')} evaluatedAt={data.evaluatedAt} />
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
