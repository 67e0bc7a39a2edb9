// The builder's live preview: POST /v1/segments/preview about 400 ms after the last edit, older answers ignored, count and a sample shown.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, useApi } from '../../api';
import { ErrorBox } from '../../components/states';
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';

export interface PreviewResult {
  count: number;
  sample: string[];
}

export interface PreviewState {
  /** The last answer, kept while a newer one is on its way. */
  result?: PreviewResult;
  error?: ApiError;
  pending: boolean;
}

export const previewDelayMs = 400;

/** Previews the rule (as its JSON text) after it stops changing; `null` previews nothing. */
export function usePreview(ruleText: string | null): PreviewState {
  const api = useApi();
  const [state, setState] = useState<PreviewState>({ pending: ruleText !== null });
  const latest = useRef(0);
  useEffect(() => {
    if (ruleText === null) return undefined;
    const id = ++latest.current;
    const controller = new AbortController();
    setState((previous) => ({ ...previous, pending: true }));
    const timer = setTimeout(() => {
      api
        .request('POST', '/v1/segments/preview', {
          body: { rule: JSON.parse(ruleText) as unknown },
          signal: controller.signal,
        })
        .then((response) => response.json() as Promise<PreviewResult>)
        .then(
          (result) => id === latest.current && setState({ result, pending: false }),
          (error: unknown) => {
            if ((error as Error).name === 'AbortError' || id !== latest.current) return;
            setState((previous) => ({
              result: previous.result,
              error: error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)),
              pending: false,
            }));
          },
        );
    }, previewDelayMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [ruleText, api]);
  return state;
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
