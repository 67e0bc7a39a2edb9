// Sign-in with a read key: checked against the API before it is kept; a wrong key says what to do.
import { useState } from 'preact/hooks';
import { ApiError, checkKey } from '../api';
import { useI18n } from '../i18n';
import { ErrorBox } from './states';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (key: string) => void; notice?: string | undefined }) {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [checking, setChecking] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setProblem(null);
    setFailure(null);
    const trimmed = key.trim();
    if (!trimmed) return setProblem(t('common.signIn.missingKey'));
    setChecking(true);
    try {
      if (await checkKey(trimmed)) onSignedIn(trimmed);
      else setProblem(t('common.signIn.wrongKey'));
    } catch (error) {
      setFailure(error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)));
    } finally {
      setChecking(false);
    }
  }

  return (
    <main class="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{t('common.signIn.title')}</h1>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <p>{t('common.signIn.intro')}</p>
        <label for="read-key">{t('common.signIn.key')}</label>
        <input
          id="read-key"
          name="read-key"
          type="password"
          autoComplete="off"
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
          aria-invalid={problem ? 'true' : 'false'}
          aria-describedby={problem ? 'sign-in-problem' : undefined}
        />
        {problem && (
          <p id="sign-in-problem" class="field-error" role="alert">
            {problem}
          </p>
        )}
        {failure && <ErrorBox error={failure} />}
        <button type="submit" disabled={checking}>
          {checking ? t('common.signIn.checking') : t('common.signIn.submit')}
        </button>
      </form>
    </main>
  );
}
