// The segment builder: name, visual rule editor, live preview and the rule as JSON; saves a new or changed segment, shows a built-in's rule read-only.
import { useLocation } from 'preact-iso';
import { useMemo, useState } from 'preact/hooks';
import { ApiError, useApi, useQuery } from '../../api';
import { ErrorBox, Loaded } from '../../components/states';
import { useI18n } from '../../i18n';
import { RuleJson } from './rule-json';
import { RuleEditor } from './rule-editor';
import { fromRule, newGroup, newStat, placeProblems, toRule, type Group } from './rule-tree';
import { PreviewPanel, usePreview } from './preview';
import { segmentPath, useSegmentName, type Segment } from './names';

type Mode = 'new' | 'edit' | 'view';

function starterRule(): Group {
  const orders = newStat('orders');
  return newGroup('and', [{ ...orders, test: { ...orders.test, value: '1' } }]);
}

function BuilderForm({
  mode,
  segment,
  initialName,
  initialRoot,
}: {
  mode: Mode;
  segment?: Segment;
  initialName: string;
  initialRoot: Group;
}) {
  const { t } = useI18n();
  const api = useApi();
  const { route } = useLocation();
  const nameOf = useSegmentName();
  const readOnly = mode === 'view';
  const [name, setName] = useState(initialName);
  const [root, setRoot] = useState<Group>(initialRoot);
  const [saving, setSaving] = useState(false);
  const [saveFailure, setSaveFailure] = useState<{ ruleText: string; name: string; error: ApiError } | null>(null);
  const [nameMissing, setNameMissing] = useState(false);
  const { rule, paths } = useMemo(() => toRule(root), [root]);
  const ruleText = JSON.stringify(rule);
  const preview = usePreview(ruleText);

  // The save's problems while the rule is as it was saved; otherwise the live preview's.
  const current =
    saveFailure && saveFailure.ruleText === ruleText
      ? saveFailure.error
      : preview.error?.code === 'INVALID_SEGMENT' && !preview.pending
        ? preview.error
        : undefined;
  const placed = current ? placeProblems(current.problems, paths) : [];
  const ruleProblems = placed.filter((problem) => problem.nodeId !== null);
  const nameProblems =
    saveFailure && saveFailure.name === name
      ? saveFailure.error.problems.filter((problem) => problem.path === 'name')
      : [];
  const otherProblems = placed.filter((problem) => problem.nodeId === null && problem.field !== 'name');
  const nameInvalid = nameMissing || nameProblems.length > 0;

  async function save(event: Event) {
    event.preventDefault();
    if (name.trim() === '') {
      setNameMissing(true);
      document.getElementById('segment-name')?.focus();
      return;
    }
    setSaving(true);
    setSaveFailure(null);
    try {
      const saved = await api.send<Segment>(
        mode === 'edit' && segment ? 'PUT' : 'POST',
        mode === 'edit' && segment ? `/v1/segments/${encodeURIComponent(segment.id)}` : '/v1/segments',
        { name: name.trim(), rule },
      );
      route(segmentPath(saved.id));
    } catch (error) {
      setSaveFailure({
        ruleText,
        name,
        error: error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error)),
      });
      setSaving(false);
    }
  }

  const title =
    mode === 'new'
      ? t('segments.builder.newTitle')
      : mode === 'edit'
        ? t('segments.builder.editTitle')
        : t('segments.builder.viewTitle');
  return (
    <section class="segments-screen segment-builder" aria-labelledby="builder-title">
      <p class="crumbs">
        <a href="/console/segments">{t('segments.back')}</a>
        {segment && (
          <>
            {' › '}
            <a href={segmentPath(segment.id)}>{nameOf(segment.id, segment.name)}</a>
          </>
        )}
      </p>
      <h1 id="builder-title">{title}</h1>
      {readOnly && segment && (
        <div class="notice">
          <p>{t('segments.builder.readOnly')}</p>
          <a class="button secondary" href={`/console/segments/new?from=${encodeURIComponent(segment.id)}`}>
            {t('segments.builder.copy')}
          </a>
        </div>
      )}
      <form class="builder-layout" onSubmit={save} noValidate>
        <div class="builder-main">
          <label class="field name-field">
            <span>{t('segments.builder.name')}</span>
            <input
              id="segment-name"
              type="text"
              value={readOnly && segment ? nameOf(segment.id, segment.name) : name}
              readOnly={readOnly}
              maxLength={200}
              required
              onInput={(event) => {
                setName((event.target as HTMLInputElement).value);
                setNameMissing(false);
              }}
              aria-invalid={nameInvalid || undefined}
              aria-describedby={nameInvalid ? 'segment-name-problem' : undefined}
            />
          </label>
          {nameInvalid && (
            <p class="field-error" id="segment-name-problem">
              {nameMissing
                ? t('segments.builder.nameRequired')
                : nameProblems.map((problem) => problem.message).join('; ')}
            </p>
          )}
          <h2>{t('segments.builder.rule')}</h2>
          <RuleEditor root={root} onChange={(update) => setRoot(update)} problems={ruleProblems} readOnly={readOnly} />
          {otherProblems.length > 0 && (
            <ul class="field-error" data-testid="rule-problem">
              {otherProblems.map((problem, index) => (
                <li key={index}>
                  {problem.field && <code>{problem.field}</code>} {problem.message}
                </li>
              ))}
            </ul>
          )}
          <RuleJson rule={rule} readOnly={readOnly} onApply={(next) => setRoot(() => next)} />
          {saveFailure && saveFailure.error.problems.length === 0 && <ErrorBox error={saveFailure.error} />}
          {saveFailure && saveFailure.error.problems.length > 0 && (
            <p class="field-error" role="alert">
              {t('segments.builder.invalid')}
            </p>
          )}
          {!readOnly && (
            <div class="actions">
              <button type="submit" disabled={saving} data-testid="save-segment">
                {saving ? t('segments.builder.saving') : t('segments.builder.save')}
              </button>
              <a class="button secondary" href={segment ? segmentPath(segment.id) : '/console/segments'}>
                {t('segments.builder.cancel')}
              </a>
            </div>
          )}
        </div>
        <PreviewPanel state={preview} />
      </form>
    </section>
  );
}

/** A builder for a new segment (optionally a copy of another's rule), or for an existing one: editable when custom, read-only when built in. */
export function SegmentBuilder({ id, copyFrom }: { id?: string; copyFrom?: string }) {
  const { t } = useI18n();
  const nameOf = useSegmentName();
  const sourceId = id ?? copyFrom;
  const source = useQuery<Segment>(sourceId ? `/v1/segments/${encodeURIComponent(sourceId)}` : null);
  if (!sourceId) return <BuilderForm mode="new" initialName="" initialRoot={starterRule()} />;
  return (
    <Loaded state={source}>
      {(segment) => {
        let root: Group;
        try {
          root = fromRule(segment.rule);
        } catch {
          root = starterRule();
        }
        if (copyFrom)
          return (
            <BuilderForm
              mode="new"
              initialName={t('segments.builder.copyName', { name: nameOf(segment.id, segment.name) })}
              initialRoot={root}
            />
          );
        return (
          <BuilderForm
            mode={segment.kind === 'builtin' ? 'view' : 'edit'}
            segment={segment}
            initialName={segment.name}
            initialRoot={root}
          />
        );
      }}
    </Loaded>
  );
}
