// The builder's live preview: POST /v1/segments/preview shortly after the last edit, older answers ignored, count and a sample shown.
import { useDelayedPost, type DelayedPostState } from '../../api';
import { ErrorBox } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';

export interface PreviewResult {
  count: number;
  sample: string[];
}

export type PreviewState = DelayedPostState<PreviewResult>;

/** Previews the rule (as its JSON text) after it stops changing; `null` previews nothing. */
export function usePreview(ruleText: string | null): PreviewState {
  return useDelayedPost<PreviewResult>('/v1/segments/preview', ruleText === null ? null : `{"rule":${ruleText}}`);
}

const sampleShown = 8;

export function PreviewPanel({ state }: { state: PreviewState }) {
  const { t } = useI18n();
  const format = useFormats();
  const invalid = state.error?.code === 'INVALID_SEGMENT';
  const status = state.pending ? 'pending' : invalid ? 'invalid' : state.error ? 'error' : 'ready';
  return (
    <aside class="segment-preview panel" aria-labelledby="preview-title" data-testid="preview" data-state={status}>
      <h2 id="preview-title">{t('segments.preview.title')}</h2>
      <div role="status" aria-live="polite">
        <p class="label">{t('segments.preview.count')}</p>
        <p class={`preview-count${state.pending || invalid ? ' stale' : ''}`} data-testid="preview-count">
          {state.result && !invalid ? format.number(state.result.count) : t('common.states.none')}
        </p>
        {state.pending && <p class="muted">{t('segments.preview.updating')}</p>}
        {!state.pending && invalid && <p class="field-error">{t('segments.preview.invalid')}</p>}
      </div>
      {!state.pending && state.error && !invalid && <ErrorBox error={state.error} />}
      {state.result && !invalid && state.result.count === 0 && !state.pending && <p>{t('segments.preview.none')}</p>}
      {state.result && !invalid && state.result.sample.length > 0 && (
        <>
          <h3>{t('segments.preview.sample')}</h3>
          <ul class="preview-sample">
            {state.result.sample.slice(0, sampleShown).map((profileId) => (
              <li key={profileId}>
                <a href={`/console/customers/profile_id:${encodeURIComponent(profileId)}`}>
                  <code>{profileId}</code>
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
      <p class="muted small">{t('segments.preview.asOf')}</p>
    </aside>
  );
}
