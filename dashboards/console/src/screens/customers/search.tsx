// The one search box of Customer 360, and the search itself: each likely identifier tried in turn until a profile answers.
import { useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, useApi } from '../../api';
import { ErrorBox, Loading } from '../../components/states';
import { useI18n } from '../../i18n';
import { candidatesFor, profileRef, type Candidate } from './lookup';

export function SearchForm({ initial }: { initial: string }) {
  const { t } = useI18n();
  const { route } = useLocation();
  const [text, setText] = useState(initial);
  const [empty, setEmpty] = useState(false);
  return (
    <form
      class="customer-search"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        if (text.trim() === '') return setEmpty(true);
        route(`/console/customers?q=${encodeURIComponent(text.trim())}`);
      }}
    >
      <label class="field" for="customer-query">
        {t('customers.search.label')}
      </label>
      <div class="search-row">
        <input
          id="customer-query"
          type="search"
          name="q"
          autocomplete="off"
          spellcheck={false}
          placeholder={t('customers.search.placeholder')}
          value={text}
          onInput={(event) => {
            setText((event.target as HTMLInputElement).value);
            setEmpty(false);
          }}
          aria-invalid={empty || undefined}
          aria-describedby={empty ? 'customer-query-problem' : undefined}
          data-testid="customer-query"
        />
        <button type="submit">{t('customers.search.submit')}</button>
      </div>
      {empty && (
        <p class="field-error" id="customer-query-problem">
          {t('customers.search.empty')}
        </p>
      )}
    </form>
  );
}

/** What was tried, in words: "Phone +84912345678", "User ID 0912 345 678". */
export function TriedList({ tried }: { tried: Candidate[] }) {
  const { t } = useI18n();
  return (
    <ul class="tried">
      {tried.map((candidate) => (
        <li key={`${candidate.type}:${candidate.value}`}>
          {t(`customers.types.${candidate.type}`)}: <code>{candidate.value}</code>
        </li>
      ))}
    </ul>
  );
}

export function NotFound({ query, tried }: { query: string; tried: Candidate[] }) {
  const { t } = useI18n();
  return (
    <div class="state empty not-found" role="alert" data-testid="not-found">
      <p>
        <strong>{t('customers.search.notFound', { query })}</strong>
      </p>
      <p>{t('customers.search.tried')}</p>
      <TriedList tried={tried} />
      <p class="muted">{t('customers.search.hint')}</p>
    </div>
  );
}

export function SearchResult({ query }: { query: string }) {
  const api = useApi();
  const { route } = useLocation();
  const [outcome, setOutcome] = useState<{ notFound?: Candidate[]; error?: ApiError } | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    const candidates = candidatesFor(query);
    void (async () => {
      for (const candidate of candidates) {
        try {
          await api.request('GET', `/v1/profiles/${profileRef(candidate)}`, { signal: controller.signal });
          // Found: the customer's own address, which remembers what was typed; the search itself leaves no history entry.
          route(`/console/customers/${profileRef(candidate)}?q=${encodeURIComponent(query)}`, true);
          return;
        } catch (error) {
          if (controller.signal.aborted) return;
          if (error instanceof ApiError && error.status === 404) continue;
          setOutcome({ error: error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)) });
          return;
        }
      }
      setOutcome({ notFound: candidates });
    })();
    return () => controller.abort();
  }, [query, api]);
  if (outcome?.error) return <ErrorBox error={outcome.error} />;
  if (outcome?.notFound) return <NotFound query={query} tried={outcome.notFound} />;
  return <Loading />;
}
