// The builder's editable copy of a segment rule: groups and conditions with stable ids, to and from the API's rule JSON, and each node's JSON path.

/** Operators of the rule language (services/segments/README.md): a condition holds exactly one. */
export const operators = [
  'equals',
  'in',
  'contains',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'before',
  'after',
  'withinLastDays',
] as const;
export type Operator = (typeof operators)[number];

export const numericStats = [
  'orders',
  'revenue',
  'events',
  'openTickets',
  'latestNps',
  'latestCsat',
  'rfmRecency',
  'rfmFrequency',
  'rfmMonetary',
] as const;
export const dateStats = ['lastOrderAt', 'firstSeen', 'lastSeen'] as const;
export const statNames = [...numericStats, ...dateStats, 'channels'] as const;
export type StatName = (typeof statNames)[number];

/** Which operators each kind of stat takes, as the API allows them. */
export function statOperators(stat: StatName): Operator[] {
  if ((numericStats as readonly string[]).includes(stat)) return ['gte', 'lte', 'equals', 'gt', 'lt', 'exists'];
  if ((dateStats as readonly string[]).includes(stat)) return ['withinLastDays', 'before', 'after', 'exists'];
  return ['contains'];
}
/** Operators of traits and event properties. */
export const valueOperators: Operator[] = [
  'equals',
  'in',
  'contains',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'before',
  'after',
  'withinLastDays',
];

export type ValueType = 'text' | 'number' | 'boolean';

/** One value test as typed: the text stays as the user wrote it until the rule is built. */
export interface Test {
  operator: Operator;
  value: string;
  valueType: ValueType;
}

interface Base {
  id: string;
  negated: boolean;
}
export interface Group extends Base {
  kind: 'group';
  combinator: 'and' | 'or';
  children: RuleNode[];
}
export interface TraitNode extends Base {
  kind: 'trait';
  key: string;
  test: Test;
}
export interface StatNode extends Base {
  kind: 'stat';
  stat: StatName;
  test: Test;
}
export interface PropertyFilter {
  id: string;
  property: string;
  test: Test;
}
export interface EventNode extends Base {
  kind: 'event';
  /** `performed`: at least / at most N times; `notPerformed`: not at all within the days. */
  mode: 'performed' | 'notPerformed';
  event: string;
  atLeast: string;
  atMost: string;
  withinDays: string;
  where: PropertyFilter[];
}
export type Condition = TraitNode | StatNode | EventNode;
export type RuleNode = Group | Condition;

let sequence = 0;
export const newId = (): string => `n${++sequence}`;

export const newGroup = (combinator: 'and' | 'or' = 'and', children: RuleNode[] = []): Group => ({
  kind: 'group',
  id: newId(),
  negated: false,
  combinator,
  children,
});
export const newTrait = (): TraitNode => ({
  kind: 'trait',
  id: newId(),
  negated: false,
  key: '',
  test: { operator: 'equals', value: '', valueType: 'text' },
});
export const newStat = (stat: StatName = 'orders'): StatNode => ({
  kind: 'stat',
  id: newId(),
  negated: false,
  stat,
  test: { operator: statOperators(stat)[0] as Operator, value: '', valueType: 'number' },
});
export const newEvent = (): EventNode => ({
  kind: 'event',
  id: newId(),
  negated: false,
  mode: 'performed',
  event: 'Order Completed',
  atLeast: '1',
  atMost: '',
  withinDays: '30',
  where: [],
});
export const newFilter = (): PropertyFilter => ({
  id: newId(),
  property: '',
  test: { operator: 'equals', value: '', valueType: 'text' },
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A number when the text is one; otherwise the text itself, so the API names the problem at its path. */
function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  const number = Number(trimmed);
  return trimmed !== '' && Number.isFinite(number) ? number : text;
}

function scalarOf(text: string, valueType: ValueType): string | number | boolean {
  if (valueType === 'number') return numberOrText(text);
  if (valueType === 'boolean') return text === 'true';
  return text;
}

/** The JSON value of a test's operator. */
export function testValue(test: Test): unknown {
  switch (test.operator) {
    case 'exists':
      return test.value !== 'false';
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'withinLastDays':
      return numberOrText(test.value);
    case 'in':
      return test.value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '')
        .map((part) => scalarOf(part, test.valueType));
    case 'equals':
      return scalarOf(test.value, test.valueType);
    default:
      return test.value;
  }
}

function testOf(node: Record<string, unknown>): Test {
  const operator = operators.find((name) => name in node) ?? 'equals';
  const value = node[operator];
  const first = Array.isArray(value) ? value[0] : value;
  const valueType: ValueType = typeof first === 'number' ? 'number' : typeof first === 'boolean' ? 'boolean' : 'text';
  const text = Array.isArray(value)
    ? value.map(String).join(', ')
    : value === undefined || value === null
      ? ''
      : String(value);
  return { operator, value: text, valueType };
}

const countText = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

function filtersOf(where: unknown): PropertyFilter[] {
  return Array.isArray(where)
    ? where
        .filter(isObject)
        .map((filter) => ({ id: newId(), property: String(filter.property ?? ''), test: testOf(filter) }))
    : [];
}

/** The editor's tree of a rule from the API; a rule that is not a group becomes the one child of an AND group. */
export function fromRule(rule: unknown): Group {
  const node = nodeOf(rule);
  return node.kind === 'group' && !node.negated ? node : newGroup('and', [node]);
}

function nodeOf(rule: unknown): RuleNode {
  if (!isObject(rule)) throw new Error('a rule node must be an object');
  if ('not' in rule) {
    const inner = nodeOf(rule.not);
    // not(not x): the outer negation goes on a group holding the negated x.
    return inner.negated ? { ...newGroup('and', [inner]), negated: true } : { ...inner, negated: true };
  }
  if ('and' in rule || 'or' in rule) {
    const combinator = 'and' in rule ? 'and' : 'or';
    const children = rule[combinator];
    if (!Array.isArray(children)) throw new Error(`${combinator} must be an array`);
    return newGroup(combinator, children.map(nodeOf));
  }
  if ('trait' in rule)
    return { kind: 'trait', id: newId(), negated: false, key: String(rule.trait), test: testOf(rule) };
  if ('stat' in rule) {
    const stat = String(rule.stat) as StatName;
    if (!(statNames as readonly string[]).includes(stat)) throw new Error(`unknown stat ${stat}`);
    return { kind: 'stat', id: newId(), negated: false, stat, test: testOf(rule) };
  }
  if ('event' in rule || 'notPerformed' in rule) {
    const performed = 'event' in rule;
    return {
      kind: 'event',
      id: newId(),
      negated: false,
      mode: performed ? 'performed' : 'notPerformed',
      event: String(performed ? rule.event : rule.notPerformed),
      atLeast: countText(rule.atLeast),
      atMost: countText(rule.atMost),
      withinDays: countText(rule.withinDays),
      where: filtersOf(rule.where),
    };
  }
  throw new Error('a rule node holds one of and, or, not, trait, stat, event, notPerformed');
}

function conditionJson(node: Condition): Record<string, unknown> {
  if (node.kind === 'trait') return { trait: node.key, [node.test.operator]: testValue(node.test) };
  if (node.kind === 'stat')
    return { stat: node.stat, [node.test.operator]: node.stat === 'channels' ? node.test.value : testValue(node.test) };
  const where = node.where.map((filter) => ({
    property: filter.property,
    [filter.test.operator]: testValue(filter.test),
  }));
  const json: Record<string, unknown> =
    node.mode === 'performed' ? { event: node.event } : { notPerformed: node.event };
  if (where.length > 0) json.where = where;
  if (node.mode === 'performed') {
    if (node.atLeast.trim() !== '') json.atLeast = numberOrText(node.atLeast);
    if (node.atMost.trim() !== '') json.atMost = numberOrText(node.atMost);
  }
  if (node.withinDays.trim() !== '' || node.mode === 'notPerformed') json.withinDays = numberOrText(node.withinDays);
  return json;
}

/** The API's rule JSON of the tree, and the JSON path (`rule.and.1`, `rule.and.1.not`) of every node, path → node id. */
export function toRule(root: Group, prefix = 'rule'): { rule: unknown; paths: Map<string, string> } {
  const paths = new Map<string, string>();
  const build = (node: RuleNode, path: string): unknown => {
    paths.set(path, node.id);
    const inner = node.negated ? `${path}.not` : path;
    if (node.negated) paths.set(inner, node.id);
    let json: unknown;
    if (node.kind === 'group')
      json = {
        [node.combinator]: node.children.map((child, index) => build(child, `${inner}.${node.combinator}.${index}`)),
      };
    else json = conditionJson(node);
    return node.negated ? { not: json } : json;
  };
  // A plain root group of one child is that child: the JSON reads as the user thinks of it.
  const only = root.children[0];
  const rule =
    !root.negated && root.children.length === 1 && only
      ? (paths.set(prefix, root.id), build(only, prefix))
      : build(root, prefix);
  return { rule, paths };
}

/** An API problem placed on the editor: the node it names and the rest of its path inside that node (`gte`, `where.0.equals`). */
export interface PlacedProblem {
  nodeId: string | null;
  field: string;
  message: string;
}

/** Places each problem on the deepest node whose path starts its own; problems outside the rule get no node. */
export function placeProblems(
  problems: Array<{ path?: string; message: string }>,
  paths: Map<string, string>,
): PlacedProblem[] {
  return problems.map((problem) => {
    const path = problem.path ?? '';
    const parts = path.split('.');
    for (let length = parts.length; length > 0; length -= 1) {
      const id = paths.get(parts.slice(0, length).join('.'));
      if (id !== undefined) return { nodeId: id, field: parts.slice(length).join('.'), message: problem.message };
    }
    return { nodeId: null, field: path, message: problem.message };
  });
}

/** The tree with one node replaced (by id); `replace` returning null removes it. */
export function updateNode(root: Group, id: string, replace: (node: RuleNode) => RuleNode | null): Group {
  const visit = (node: RuleNode): RuleNode | null => {
    if (node.id === id) return replace(node);
    if (node.kind !== 'group') return node;
    const children = node.children.map(visit).filter((child): child is RuleNode => child !== null);
    return { ...node, children };
  };
  return (visit(root) as Group | null) ?? root;
}

/** How many conditions the tree holds (groups not counted). */
export function conditionCount(node: RuleNode): number {
  return node.kind === 'group' ? node.children.reduce((sum, child) => sum + conditionCount(child), 0) : 1;
}
