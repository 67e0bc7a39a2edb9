// The rule as the API's JSON: read it, or edit it and bring it into the editor once the JSON parses and the platform accepts its shape.
import { useState } from 'preact/hooks';
import { ApiError, useApi } from '../../api';
import { useI18n } from '../../i18n';
import { fromRule, type Group } from './rule-tree';

export function RuleJson({
  rule,
  readOnly,
  onApply,
}: {
  rule: unknown;
  readOnly: boolean;
  onApply: (root: Group) => void;
}) {
  const { t } = useI18n();
  const api = useApi();
  const pretty = JSON.stringify(rule, null, 2);
  const [draft, setDraft] = useState<string | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [notice, setNotice] = useState('');

  async function apply() {
    setNotice('');
    let parsed: unknown;
    try {
      parsed = JSON.parse(draft ?? pretty);
    } catch (error) {
      setProblems([t('segments.json.syntax', { message: (error as Error).message })]);
      return;
    }
    // The platform is the judge of a rule: it names every problem at its path.
    try {
      await api.request('POST', '/v1/segments/preview', { body: { rule: parsed } });
    } catch (error) {
      if (error instanceof ApiError && error.problems.length > 0) {
        setProblems(error.problems.map((problem) => `${problem.path ?? ''}: ${problem.message}`));
        return;
      }
      if (error instanceof ApiError) {
        setProblems([error.message]);
        return;
      }
    }
    try {
      onApply(fromRule(parsed));
      setDraft(null);
      setProblems([]);
      setNotice(t('segments.json.applied'));
    } catch (error) {
      setProblems([t('segments.json.shape', { message: (error as Error).message })]);
    }
  }

  return (
    <details class="rule-json">
      <summary>{t('segments.json.title')}</summary>
      <label class="field">
        <span>{t('segments.json.label')}</span>
        <textarea
          rows={Math.min(24, Math.max(6, (draft ?? pretty).split('\n').length + 1))}
          spellcheck={false}
          readOnly={readOnly}
          value={draft ?? pretty}
          onInput={(event) => setDraft((event.target as HTMLTextAreaElement).value)}
          aria-invalid={problems.length > 0 || undefined}
          aria-describedby={problems.length > 0 ? 'rule-json-problems' : undefined}
          data-testid="rule-json"
        />
      </label>
      {problems.length > 0 && (
        <ul class="field-error" id="rule-json-problems" role="alert">
          {problems.map((problem, index) => (
            <li key={index}>{problem}</li>
          ))}
        </ul>
      )}
      {notice && (
        <p class="muted" role="status">
          {notice}
        </p>
      )}
      {!readOnly && (
        <div class="actions">
          <button type="button" class="secondary" onClick={apply}>
            {t('segments.json.apply')}
          </button>
          {draft !== null && (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setDraft(null);
                setProblems([]);
              }}
            >
              {t('segments.json.reset')}
            </button>
          )}
        </div>
      )}
    </details>
  );
}
