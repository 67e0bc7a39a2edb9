// The fields of a behaviour condition: did / did not, the event, how many times, in how many days, and filters on its properties.
import { useI18n } from '../../i18n';
import { useEditor } from './editor-context';
import { newFilter, valueOperators, type EventNode } from './rule-tree';
import { Field, TestEditor, type Invalid } from './test-editor';

export function EventFields({ node, invalid }: { node: EventNode; invalid: Invalid }) {
  const { t } = useI18n();
  const { change, readOnly } = useEditor();
  const set = (patch: Partial<EventNode>) => change(node.id, (current) => ({ ...(current as EventNode), ...patch }));
  const text = (field: 'event' | 'atLeast' | 'atMost' | 'withinDays') => (event: Event) =>
    set({ [field]: (event.target as HTMLInputElement).value });
  return (
    <>
      <Field label={t('segments.editor.mode')}>
        {(id) => (
          <select
            id={id}
            value={node.mode}
            onChange={(event) => set({ mode: (event.target as HTMLSelectElement).value as EventNode['mode'] })}
          >
            <option value="performed">{t('segments.editor.modes.performed')}</option>
            <option value="notPerformed">{t('segments.editor.modes.notPerformed')}</option>
          </select>
        )}
      </Field>
      <Field class="wide" label={t('segments.editor.event')}>
        {(id) => (
          <input
            id={id}
            type="text"
            list="segment-event-names"
            value={node.event}
            onInput={text('event')}
            {...invalid('key')}
          />
        )}
      </Field>
      {node.mode === 'performed' && (
        <>
          <Field class="narrow" label={t('segments.editor.atLeast')}>
            {(id) => (
              <input
                id={id}
                type="number"
                min="0"
                step="1"
                inputMode="numeric"
                value={node.atLeast}
                onInput={text('atLeast')}
                {...invalid('atLeast')}
              />
            )}
          </Field>
          <Field class="narrow" label={t('segments.editor.atMost')}>
            {(id) => (
              <input
                id={id}
                type="number"
                min="0"
                step="1"
                inputMode="numeric"
                value={node.atMost}
                onInput={text('atMost')}
                {...invalid('atMost')}
              />
            )}
          </Field>
        </>
      )}
      <Field
        class="narrow"
        label={node.mode === 'performed' ? t('segments.editor.withinDaysOptional') : t('segments.editor.withinDays')}
      >
        {(id) => (
          <input
            id={id}
            type="number"
            min="1"
            step="1"
            inputMode="numeric"
            value={node.withinDays}
            onInput={text('withinDays')}
            {...invalid('withinDays')}
          />
        )}
      </Field>
      {(node.where.length > 0 || !readOnly) && (
        <div class="rule-filters">
          {node.where.length > 0 && <p class="filters-title">{t('segments.editor.where')}</p>}
          {node.where.map((filter, index) => (
            <div
              class="rule-filter"
              key={filter.id}
              role="group"
              aria-label={`${t('segments.editor.where')} (${index + 1})`}
            >
              <Field label={t('segments.editor.property')}>
                {(id) => (
                  <input
                    id={id}
                    type="text"
                    value={filter.property}
                    onInput={(event) =>
                      set({
                        where: node.where.map((other) =>
                          other.id === filter.id
                            ? { ...other, property: (event.target as HTMLInputElement).value }
                            : other,
                        ),
                      })
                    }
                    {...invalid(`where.${index}.property`)}
                  />
                )}
              </Field>
              <TestEditor
                test={filter.test}
                allowed={valueOperators}
                prefix={`where.${index}.`}
                invalid={invalid}
                onChange={(test) =>
                  set({ where: node.where.map((other) => (other.id === filter.id ? { ...other, test } : other)) })
                }
              />
              {!readOnly && (
                <button
                  type="button"
                  class="secondary remove"
                  onClick={() => set({ where: node.where.filter((other) => other.id !== filter.id) })}
                >
                  {t('segments.editor.removeFilter')}
                </button>
              )}
            </div>
          ))}
          {!readOnly && (
            <button type="button" class="secondary small" onClick={() => set({ where: [...node.where, newFilter()] })}>
              {t('segments.editor.addFilter')}
            </button>
          )}
        </div>
      )}
    </>
  );
}
