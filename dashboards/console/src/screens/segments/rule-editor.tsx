// The visual rule editor: AND / OR groups (nested), NOT on any node, and trait, stat and behaviour conditions, each with the API's problems at it.
import { useEffect, useRef } from 'preact/hooks';
import { useI18n } from '../../i18n';
import {
  newEvent,
  newGroup,
  newStat,
  newTrait,
  statNames,
  statOperators,
  updateNode,
  valueOperators,
  type Condition,
  type Group,
  type Operator,
  type PlacedProblem,
  type RuleNode,
  type StatName,
} from './rule-tree';
import { EditorContextValue, errorId, useEditor, useInvalid, type EditorContext } from './editor-context';
import { EventFields } from './event-fields';
import { Field, TestEditor } from './test-editor';

/** Moves the focus into a node the user just added. */
function useFocusWhenAdded(id: string) {
  const { added } = useEditor();
  const ref = useRef<HTMLFieldSetElement>(null);
  useEffect(() => {
    if (added.current !== id) return;
    added.current = null;
    ref.current?.querySelector<HTMLElement>('input, select')?.focus();
  }, [id, added]);
  return ref;
}

function Problems({ node, lead }: { node: RuleNode; lead: string }) {
  const { problems } = useInvalid(node);
  if (problems.length === 0) return null;
  return (
    <div class="field-error rule-problem" id={errorId(node.id)} data-testid="rule-problem">
      {problems.map((problem, index) => (
        <p key={index}>
          {lead} <span class="api-message">{problem.message}</span> {problem.field && <code>{problem.field}</code>}
        </p>
      ))}
    </div>
  );
}

function Negate({ node }: { node: RuleNode }) {
  const { t } = useI18n();
  const { change } = useEditor();
  return (
    <label class="check">
      <input
        type="checkbox"
        checked={node.negated}
        onChange={(event) =>
          change(node.id, (current) => ({ ...current, negated: (event.target as HTMLInputElement).checked }))
        }
      />
      {t('segments.editor.not')}
    </label>
  );
}

function Remove({ node, label }: { node: RuleNode; label: string }) {
  const { change, readOnly } = useEditor();
  if (readOnly) return null;
  return (
    <button
      type="button"
      class="secondary remove"
      onClick={(event) => {
        // The focus goes to the enclosing group's add buttons, not back to the top of the page.
        const own = (event.currentTarget as HTMLElement).closest('.rule-condition, .rule-group');
        const group = own?.parentElement?.closest('.rule-group');
        change(node.id, () => null);
        requestAnimationFrame(() => group?.querySelector<HTMLElement>(':scope > .rule-add button')?.focus());
      }}
    >
      {label}
    </button>
  );
}

function ConditionEditor({ node }: { node: Condition }) {
  const { t } = useI18n();
  const { change } = useEditor();
  const { problems, invalid } = useInvalid(node);
  const ref = useFocusWhenAdded(node.id);
  const kindLabel = t(
    node.kind === 'trait'
      ? 'segments.editor.kindTrait'
      : node.kind === 'stat'
        ? 'segments.editor.kindStat'
        : 'segments.editor.kindEvent',
  );
  return (
    <fieldset
      ref={ref}
      class={`rule-condition ${node.kind}${problems.length > 0 ? ' invalid' : ''}${node.negated ? ' negated' : ''}`}
      data-testid="rule-condition"
      data-kind={node.kind}
    >
      <legend>{kindLabel}</legend>
      <div class="rule-fields">
        {node.kind === 'trait' && (
          <>
            <Field label={t('segments.editor.traitKey')}>
              {(id) => (
                <input
                  id={id}
                  type="text"
                  value={node.key}
                  onInput={(event) =>
                    change(
                      node.id,
                      (current) => ({ ...current, key: (event.target as HTMLInputElement).value }) as RuleNode,
                    )
                  }
                  {...invalid('key')}
                />
              )}
            </Field>
            <TestEditor
              test={node.test}
              allowed={valueOperators}
              invalid={invalid}
              onChange={(test) => change(node.id, (current) => ({ ...current, test }) as RuleNode)}
            />
          </>
        )}
        {node.kind === 'stat' && (
          <>
            <Field label={t('segments.editor.stat')}>
              {(id) => (
                <select
                  id={id}
                  value={node.stat}
                  onChange={(event) => {
                    const stat = (event.target as HTMLSelectElement).value as StatName;
                    const allowed = statOperators(stat);
                    const keep = allowed.includes(node.test.operator) && stat !== 'channels';
                    const test = keep
                      ? { ...node.test, valueType: 'number' as const }
                      : {
                          operator: allowed[0] as Operator,
                          value: stat === 'channels' ? 'web' : '',
                          valueType: 'number' as const,
                        };
                    change(node.id, (current) => ({ ...current, stat, test }) as RuleNode);
                  }}
                  {...invalid('key')}
                >
                  {statNames.map((stat) => (
                    <option key={stat} value={stat}>
                      {t(`segments.stats.${stat}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <TestEditor
              test={node.test}
              allowed={statOperators(node.stat)}
              stat={node.stat}
              invalid={invalid}
              onChange={(test) => change(node.id, (current) => ({ ...current, test }) as RuleNode)}
            />
          </>
        )}
        {node.kind === 'event' && <EventFields node={node} invalid={invalid} />}
        <div class="rule-node-actions">
          <Negate node={node} />
          <Remove node={node} label={t('segments.editor.remove')} />
        </div>
      </div>
      <Problems node={node} lead={t('segments.builder.conditionInvalid')} />
    </fieldset>
  );
}

function GroupEditor({ group, root }: { group: Group; root?: boolean }) {
  const { t } = useI18n();
  const { change, readOnly, added } = useEditor();
  const { problems } = useInvalid(group);
  const ref = useFocusWhenAdded(group.id);
  const add = (node: RuleNode) => {
    added.current = node.id;
    change(group.id, (current) => ({ ...(current as Group), children: [...(current as Group).children, node] }));
  };
  return (
    <fieldset
      ref={ref}
      class={`rule-group${problems.length > 0 ? ' invalid' : ''}${group.negated ? ' negated' : ''}`}
      data-testid="rule-group"
    >
      <legend>{root ? t('segments.editor.rootGroup') : t('segments.editor.group')}</legend>
      <div class="rule-group-head">
        <Field label={t('segments.editor.combinator')}>
          {(id) => (
            <select
              id={id}
              value={group.combinator}
              onChange={(event) =>
                change(group.id, (current) => ({
                  ...current,
                  combinator: (event.target as HTMLSelectElement).value as 'and' | 'or',
                }))
              }
            >
              <option value="and">{t('segments.editor.and')}</option>
              <option value="or">{t('segments.editor.or')}</option>
            </select>
          )}
        </Field>
        <Negate node={group} />
        {!root && <Remove node={group} label={t('segments.editor.removeGroup')} />}
      </div>
      <Problems node={group} lead={t('segments.builder.groupInvalid')} />
      {group.children.length === 0 ? (
        <p class="muted">{t('segments.editor.emptyGroup')}</p>
      ) : (
        <ol class="rule-children">
          {group.children.map((child, index) => (
            <li key={child.id}>
              {index > 0 && (
                <span class={`joiner ${group.combinator}`} aria-hidden="true">
                  {t(group.combinator === 'and' ? 'segments.editor.joinAnd' : 'segments.editor.joinOr')}
                </span>
              )}
              {child.kind === 'group' ? <GroupEditor group={child} /> : <ConditionEditor node={child} />}
            </li>
          ))}
        </ol>
      )}
      {!readOnly && (
        <div class="rule-add">
          <button type="button" class="secondary small" onClick={() => add(newStat())}>
            {t('segments.editor.addStat')}
          </button>
          <button type="button" class="secondary small" onClick={() => add(newEvent())}>
            {t('segments.editor.addEvent')}
          </button>
          <button type="button" class="secondary small" onClick={() => add(newTrait())}>
            {t('segments.editor.addTrait')}
          </button>
          <button
            type="button"
            class="secondary small"
            onClick={() => add(newGroup(group.combinator === 'and' ? 'or' : 'and'))}
          >
            {t('segments.editor.addGroup')}
          </button>
        </div>
      )}
    </fieldset>
  );
}

/** Event names of the tracking plan, offered while typing a behaviour's event. */
const planEvents = [
  'Order Completed',
  'Order Refunded',
  'Product Viewed',
  'Product Added',
  'Checkout Started',
  'Ticket Opened',
  'Ticket Replied',
  'Ticket Resolved',
  'Survey Responded',
  'Call Completed',
  'Chat Started',
  'Email Opened',
  'Email Link Clicked',
];

export function RuleEditor({
  root,
  onChange,
  problems,
  readOnly,
}: {
  root: Group;
  onChange: (update: (root: Group) => Group) => void;
  problems: PlacedProblem[];
  readOnly: boolean;
}) {
  const added = useRef<string | null>(null);
  const context: EditorContext = {
    change: (id, replace) => onChange((current) => updateNode(current, id, replace)),
    problemsOf: (id) => problems.filter((problem) => problem.nodeId === id),
    readOnly,
    added,
  };
  return (
    <EditorContextValue.Provider value={context}>
      <fieldset class="rule-editor" disabled={readOnly}>
        <GroupEditor group={root} root />
      </fieldset>
      <datalist id="segment-event-names">
        {planEvents.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
    </EditorContextValue.Provider>
  );
}
