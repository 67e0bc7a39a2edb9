// One segment: its size and rule in words, its members page by page, the audience's download, and delete after a confirmation.
import { useLocation } from 'preact-iso';
import { useRef, useState } from 'preact/hooks';
import { ApiError, useApi, useQuery } from '../../api';
import { ErrorBox, Loaded } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { Downloads } from './download';
import { Members } from './members';
import { segmentPath, useSegmentName, type Segment } from './names';
import { RuleSummary } from './rule-summary';

function DeleteSegment({ segment, name }: { segment: Segment; name: string }) {
  const { t } = useI18n();
  const api = useApi();
  const { route } = useLocation();
  const dialog = useRef<HTMLDialogElement>(null);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  async function confirm() {
    setDeleting(true);
    setError(null);
    try {
      await api.send('DELETE', `/v1/segments/${encodeURIComponent(segment.id)}`);
      dialog.current?.close();
      route('/console/segments');
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : new ApiError(0, 'NETWORK', String(failure)));
      setDeleting(false);
    }
  }
  return (
    <>
      <button type="button" class="danger" onClick={() => dialog.current?.showModal()} data-testid="delete-segment">
        {t('segments.detail.delete')}
      </button>
      <dialog ref={dialog} class="confirm-dialog" aria-labelledby="delete-title" aria-describedby="delete-body">
        <h2 id="delete-title">{t('segments.remove.title')}</h2>
        <p id="delete-body">{t('segments.remove.body', { name })}</p>
        {error && <ErrorBox error={error} />}
        <div class="actions">
          <button type="button" class="danger" onClick={confirm} disabled={deleting} data-testid="confirm-delete">
            {deleting ? t('segments.remove.deleting') : t('segments.remove.confirm')}
          </button>
          <button type="button" class="secondary" onClick={() => dialog.current?.close()} autofocus>
            {t('segments.remove.cancel')}
          </button>
        </div>
      </dialog>
    </>
  );
}

export function SegmentDetail({ id }: { id: string }) {
  const { t } = useI18n();
  const format = useFormats();
  const nameOf = useSegmentName();
  const state = useQuery<Segment>(`/v1/segments/${encodeURIComponent(id)}`);
  return (
    <section class="segments-screen segment-detail" aria-labelledby="segment-title">
      <p class="crumbs">
        <a href="/console/segments">{t('segments.back')}</a>
      </p>
      {state.error?.status === 404 ? (
        <>
          <h1 id="segment-title">{t('segments.title')}</h1>
          <div class="state empty" role="alert">
            <p>{t('segments.detail.notFound')}</p>
          </div>
        </>
      ) : (
        <Loaded state={state}>
          {(segment) => {
            const name = nameOf(segment.id, segment.name);
            return (
              <>
                <div class="screen-head">
                  <div>
                    <h1 id="segment-title">{name}</h1>
                    <p>
                      <span class={`badge ${segment.kind}`}>{t(`segments.kinds.${segment.kind}`)}</span>{' '}
                      <code>{segment.id}</code>
                    </p>
                  </div>
                  <div class="actions">
                    <a class="button secondary" href={`${segmentPath(segment.id)}/edit`}>
                      {segment.kind === 'custom' ? t('segments.detail.edit') : t('segments.detail.view')}
                    </a>
                    {segment.kind === 'custom' && <DeleteSegment segment={segment} name={name} />}
                  </div>
                </div>
                <div class="cards">
                  <div class="card">
                    <div class="label">{t('segments.detail.size')}</div>
                    <div class="value" data-testid="segment-size">
                      {format.number(segment.size)}
                    </div>
                    <div class="delta">{t('segments.detail.sizeHint')}</div>
                  </div>
                  <div class="card">
                    <div class="label">{t('segments.detail.updatedAt')}</div>
                    <div class="value small">{format.dateTime(segment.updatedAt)}</div>
                  </div>
                </div>
                <div class="panel">
                  <h2>{t('segments.detail.rule')}</h2>
                  <RuleSummary rule={segment.rule} />
                </div>
                <Downloads segment={segment} />
                <Members segment={segment} />
              </>
            );
          }}
        </Loaded>
      )}
    </section>
  );
}
