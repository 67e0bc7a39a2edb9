// One value test of a condition (operator and value), with the input each operator needs: number, days, date, yes / no, list, channel.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import { channels } from '../../filters';
import { useI18n } from '../../i18n';
import type { Operator, Test, ValueType } from './rule-tree';

/** Which control of a condition a problem names: `value`, `operator`, `key`, `atLeast`, `where.0.value`, … */
export type Invalid = (control: string) => { 'aria-invalid'?: true; 'aria-describedby'?: string };

/** A labelled control: the label names the control by id, so its name is the label alone, not the options inside it. */
export function Field({
  label,
  class: className,
  children,
}: {
  label: ComponentChildren;
  class?: string;
  children: (id: string) => ComponentChildren;
}) {
  const id = useId();
  return (
    <div class={className ? `field ${className}` : 'field'}>
      <label for={id}>{label}</label>
      {children(id)}
    </div>
  );
}

const inputKind = (operator: Operator): string =>
  operator === 'exists'
    ? 'boolean'
    : operator === 'before' || operator === 'after'
      ? 'date'
      : ['gt', 'gte', 'lt', 'lte', 'withinLastDays'].includes(operator)
        ? 'number'
        : 'text';

const valueOf = (event: Event) => (event.target as HTMLInputElement | HTMLSelectElement).value;

export function TestEditor({
  test,
  allowed,
  onChange,
  invalid,
  prefix = '',
  stat,
}: {
  test: Test;
  allowed: Operator[];
  onChange: (test: Test) => void;
  invalid: Invalid;
  /** Control name prefix, e.g. `where.0.` for a property filter. */
  prefix?: string;
  /** The stat this test is on; without it the test is on a trait or event property. */
  stat?: string;
}) {
  const { t } = useI18n();
  const setOperator = (operator: Operator) => {
    const sameInput = inputKind(operator) === inputKind(test.operator);
    onChange({ ...test, operator, value: sameInput ? test.value : operator === 'exists' ? 'true' : '' });
  };
  const typed = !stat && (test.operator === 'equals' || test.operator === 'in');
  return (
    <>
      <Field label={t('segments.editor.operator')}>
        {(id) => (
          <select
            id={id}
            value={test.operator}
            onChange={(event) => setOperator(valueOf(event) as Operator)}
            {...invalid(`${prefix}operator`)}
          >
            {allowed.map((operator) => (
              <option key={operator} value={operator}>
                {t(`segments.operators.${operator}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {typed && (
        <Field label={t('segments.editor.valueType')}>
          {(id) => (
            <select
              id={id}
              value={test.valueType}
              onChange={(event) => {
                const valueType = valueOf(event) as ValueType;
                onChange({
                  ...test,
                  valueType,
                  value: valueType === 'boolean' ? 'true' : test.valueType === 'boolean' ? '' : test.value,
                });
              }}
            >
              {(['text', 'number', 'boolean'] as const).map((type) => (
                <option key={type} value={type}>
                  {t(`segments.editor.valueTypes.${type}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <ValueInput
        test={test}
        stat={stat}
        onChange={(value) => onChange({ ...test, value })}
        attributes={invalid(`${prefix}value`)}
      />
    </>
  );
}

function ValueInput({
  test,
  stat,
  onChange,
  attributes,
}: {
  test: Test;
  stat: string | undefined;
  onChange: (value: string) => void;
  attributes: ReturnType<Invalid>;
}) {
  const { t } = useI18n();
  const label = t('segments.editor.value');
  if (test.operator === 'exists' || (test.valueType === 'boolean' && test.operator === 'equals' && !stat)) {
    return (
      <Field label={label}>
        {(id) => (
          <select
            id={id}
            value={test.value === 'false' ? 'false' : 'true'}
            onChange={(event) => onChange(valueOf(event))}
            {...attributes}
          >
            <option value="true">
              {test.operator === 'exists' ? t('segments.editor.exists.true') : t('segments.editor.yes')}
            </option>
            <option value="false">
              {test.operator === 'exists' ? t('segments.editor.exists.false') : t('segments.editor.no')}
            </option>
          </select>
        )}
      </Field>
    );
  }
  if (stat === 'channels') {
    return (
      <Field label={label}>
        {(id) => (
          <select id={id} value={test.value} onChange={(event) => onChange(valueOf(event))} {...attributes}>
            {!channels.includes(test.value as (typeof channels)[number]) && (
              <option value={test.value}>{test.value || '—'}</option>
            )}
            {channels.map((channel) => (
              <option key={channel} value={channel}>
                {t(`common.channels.${channel}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }
  const kind = inputKind(test.operator);
  const numeric = kind === 'number' || (test.operator === 'equals' && (test.valueType === 'number' || !!stat));
  // One element for every kind keeps the focus while the operator changes; the JSX types want one literal type.
  const type = (kind === 'date' ? 'date' : numeric ? 'number' : 'text') as 'text';
  const fieldLabel = (
    <>
      {label}
      {test.operator === 'withinLastDays' && ` (${t('segments.editor.days')})`}
      {test.operator === 'in' && <span class="hint"> ({t('segments.editor.listHint')})</span>}
    </>
  );
  return (
    <Field class="value" label={fieldLabel}>
      {(id) => (
        <input
          id={id}
          type={type}
          inputMode={numeric ? 'decimal' : undefined}
          step={numeric ? 'any' : undefined}
          value={test.value}
          onInput={(event) => onChange(valueOf(event))}
          {...attributes}
        />
      )}
    </Field>
  );
}
