// A rule read aloud in the console's language: nested lists of "all of / any of", NOT, and each condition in words.
import { useFormats } from '../../format';
import { useI18n } from '../../i18n';
import { operators, type Operator } from './rule-tree';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function useTestText(): (node: Json, stat?: string) => string {
  const { t } = useI18n();
  const format = useFormats();
  return (node, stat) => {
    const operator = operators.find((name) => name in node) as Operator | undefined;
    if (!operator) return '';
    const value = node[operator];
    if (operator === 'exists') return value === false ? t('segments.summary.missing') : t('segments.summary.exists');
    const shown = (item: unknown): string => {
      if (stat === 'channels' && typeof item === 'string') return t(`common.channels.${item}`, { defaultValue: item });
      if ((operator === 'before' || operator === 'after') && typeof item === 'string') return format.date(item);
      if (typeof item === 'number') return stat === 'revenue' ? format.vnd(item) : format.number(item, 2);
      if (typeof item === 'string') return `“${item}”`;
      return String(item);
    };
    const text = Array.isArray(value)
      ? value.map(shown).join(', ')
      : operator === 'withinLastDays'
        ? format.number(Number(value))
        : shown(value);
    return t(`segments.summary.${operator}`, { value: text });
  };
}

function Condition({ node }: { node: Json }) {
  const { t } = useI18n();
  const format = useFormats();
  const testText = useTestText();
  if ('trait' in node) return <>{t('segments.summary.trait', { key: String(node.trait), test: testText(node) })}</>;
  if ('stat' in node)
    return (
      <>
        {t('segments.summary.stat', {
          stat: t(`segments.stats.${String(node.stat)}`),
          test: testText(node, String(node.stat)),
        })}
      </>
    );
  const where = Array.isArray(node.where) ? node.where.filter(isObject) : [];
  const filters =
    where.length > 0
      ? ` ${t('segments.summary.where', { filters: where.map((filter) => `${String(filter.property)} ${testText(filter)}`).join(', ') })}`
      : '';
  if ('notPerformed' in node) {
    return (
      <>
        {t('segments.summary.notPerformed', {
          event: `“${String(node.notPerformed)}”`,
          days: format.number(Number(node.withinDays)),
        })}
        {filters}
      </>
    );
  }
  const parts = [t('segments.summary.performed', { event: `“${String(node.event)}”` })];
  const times = (bound: 'atLeast' | 'atMost', value: unknown) => {
    if (typeof value === 'number')
      parts.push(
        value === 1
          ? t(`segments.summary.${bound}Once`)
          : t(`segments.summary.${bound}`, { number: format.number(value) }),
      );
  };
  times('atLeast', node.atLeast);
  times('atMost', node.atMost);
  if (typeof node.withinDays === 'number')
    parts.push(t('segments.summary.withinDays', { days: format.number(node.withinDays) }));
  return (
    <>
      {parts.join(' ')}
      {filters}
    </>
  );
}

function Node({ node }: { node: unknown }) {
  const { t } = useI18n();
  if (!isObject(node)) return <>{String(node)}</>;
  if ('not' in node) {
    return (
      <>
        <strong class="rule-not">{t('segments.summary.not')}</strong> <Node node={node.not} />
      </>
    );
  }
  const combinator = 'and' in node ? 'and' : 'or' in node ? 'or' : null;
  if (combinator) {
    const children = Array.isArray(node[combinator]) ? (node[combinator] as unknown[]) : [];
    return (
      <>
        {t(combinator === 'and' ? 'segments.summary.all' : 'segments.summary.any')}
        <ul>
          {children.map((child, index) => (
            <li key={index}>
              <Node node={child} />
            </li>
          ))}
        </ul>
      </>
    );
  }
  return <Condition node={node} />;
}

export function RuleSummary({ rule }: { rule: unknown }) {
  return (
    <div class="rule-summary" data-testid="rule-summary">
      <Node node={rule} />
    </div>
  );
}
