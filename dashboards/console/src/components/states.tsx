// What a screen shows while it waits, when the API refused, and when there is nothing yet: never a blank area.
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api';
import { useI18n } from '../i18n';

export function Loading() {
  const { t } = useI18n();
  return (
    <p class="state loading" role="status" aria-live="polite">
      {t('common.states.loading')}
    </p>
  );
}

/** The API's own message (and each problem it named), or what to do when it did not answer. */
export function ErrorBox({ error, retry }: { error: ApiError; retry?: () => void }) {
  const { t } = useI18n();
  return (
    <div class="state error" role="alert">
      <p>
        <strong>
          {error.code === 'NETWORK'
            ? t('common.states.network')
            : error.scope !== undefined
              ? t('common.states.forbidden', { scope: error.scope })
              : t('common.states.error')}
        </strong>
        {error.code !== 'NETWORK' && error.scope === undefined && (
          <>
            {': '}
            <span class="api-message">{error.message}</span> <code>{error.code}</code>
          </>
        )}
      </p>
      {error.problems.length > 0 && (
        <ul>
          {error.problems.map((problem, index) => (
            <li key={index}>
              {problem.path && <code>{problem.path}</code>} {problem.message}
            </li>
          ))}
        </ul>
      )}
      {retry && (
        <button type="button" onClick={retry}>
          {t('common.states.retry')}
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children?: ComponentChildren }) {
  const { t } = useI18n();
  return <div class="state empty">{children ?? <p>{t('common.states.empty')}</p>}</div>;
}

/** Teaches a new user to send a first event to this very host. */
export function GettingStarted() {
  const { t } = useI18n();
  const host = globalThis.location?.origin ?? 'http://localhost:8080';
  const curl = `curl -u WRITE_KEY: -H 'content-type: application/json' \\\n  -d '{"userId":"ada","event":"Order Completed","properties":{"revenue":250000,"currency":"VND"}}' \\\n  ${host}/v1/track`;
  const snippet = `analytics.load({ writeKey: 'WRITE_KEY', cdnSettings: { integrations: { 'Segment.io': { apiKey: 'WRITE_KEY', apiHost: '${new URL(host).host}/v1', protocol: '${new URL(host).protocol.replace(':', '')}' } } } })`;
  return (
    <section class="getting-started" aria-labelledby="getting-started-title">
      <h2 id="getting-started-title">{t('common.start.title')}</h2>
      <p>{t('common.start.intro')}</p>
      <pre>
        <code>{curl}</code>
      </pre>
      <p>{t('common.start.snippet')}</p>
      <pre>
        <code>{snippet}</code>
      </pre>
      <p>{t('common.start.demo')}</p>
      <pre>
        <code>pnpm exec cdp demo --url {host} --write-key WRITE_KEY</code>
      </pre>
    </section>
  );
}

/** Loading, error or the content, from one query's state. */
export function Loaded<T>({
  state,
  children,
}: {
  state: { data: T | undefined; error: ApiError | undefined; loading: boolean; reload: () => void };
  children: (data: T) => ComponentChildren;
}) {
  if (state.error) return <ErrorBox error={state.error} retry={state.reload} />;
  if (state.data === undefined) return <Loading />;
  return <>{children(state.data)}</>;
}
