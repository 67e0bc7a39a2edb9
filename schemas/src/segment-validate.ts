// Validates a segment rule node by node, so every problem is reported at its exact path (rule.and.1.gte).
import { z } from 'zod';
import {
  dateStats,
  eventConditionSchema,
  notPerformedConditionSchema,
  numericStats,
  ruleLimits,
  segmentRuleShape,
  statConditionSchema,
  statOperators,
  traitConditionSchema,
  valueOperatorNames,
  type SegmentRule,
  type StatName,
  type ValueOperator,
} from './segments';

export interface RuleProblem {
  path: string;
  message: string;
}

type Path = Array<string | number>;

const kinds = ['and', 'or', 'not', 'trait', 'stat', 'event', 'notPerformed'] as const;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function statKind(stat: StatName): keyof typeof statOperators {
  if ((numericStats as readonly string[]).includes(stat)) return 'numeric';
  if ((dateStats as readonly string[]).includes(stat)) return 'date';
  return 'channels';
}

/** Walks a rule; problems carry paths relative to the rule itself. */
function walk(
  node: unknown,
  path: Path,
  depth: number,
  problems: Array<{ path: Path; message: string }>,
  leaves: { count: number },
): void {
  const problem = (where: Path, message: string): void => {
    problems.push({ path: where, message });
  };
  if (depth > ruleLimits.depth) return problem(path, `rules nest at most ${ruleLimits.depth} levels deep`);
  if (!isObject(node)) return problem(path, `must be an object with one of ${kinds.join(', ')}`);
  const present = kinds.filter((kind) => kind in node);
  if (present.length === 0) return problem(path, `must hold one of ${kinds.join(', ')}`);
  if (present.length > 1)
    return problem(
      [...path, present[1] as string],
      `a node is one of ${kinds.join(', ')}; this one also holds ${present[0]}`,
    );
  const kind = present[0] as (typeof kinds)[number];

  if (kind === 'and' || kind === 'or' || kind === 'not') {
    for (const key of Object.keys(node)) if (key !== kind) problem([...path, key], `unknown key beside ${kind}`);
    if (kind === 'not') return walk(node.not, [...path, 'not'], depth + 1, problems, leaves);
    const children = node[kind];
    if (!Array.isArray(children) || children.length === 0)
      return problem([...path, kind], 'must be a non-empty array of rules');
    children.forEach((child, index) => walk(child, [...path, kind, index], depth + 1, problems, leaves));
    return;
  }

  leaves.count += 1;
  const schema = {
    trait: traitConditionSchema,
    stat: statConditionSchema,
    event: eventConditionSchema,
    notPerformed: notPerformedConditionSchema,
  }[kind];
  const parsed = schema.safeParse(node);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Unknown keys are reported once per key, at the key itself.
      if (issue.code === 'unrecognized_keys')
        for (const key of issue.keys) problem([...path, ...(issue.path as Path), key], 'unknown key');
      else problem([...path, ...(issue.path as Path)], issue.message);
    }
    return;
  }
  if (kind === 'trait') return oneOperator(node, path, valueOperatorNames, problem);
  if (kind === 'stat') {
    const allowed = statOperators[statKind(node.stat as StatName)];
    const wrong = valueOperatorNames.filter((operator) => operator in node && !allowed.includes(operator));
    for (const operator of wrong) problem([...path, operator], `stat ${String(node.stat)} takes ${allowed.join(', ')}`);
    return wrong.length > 0 ? undefined : oneOperator(node, path, allowed, problem);
  }
  const event = parsed.data as { atLeast?: number; atMost?: number; where?: unknown[] };
  if (event.atLeast !== undefined && event.atMost !== undefined && event.atLeast > event.atMost) {
    problem([...path, 'atMost'], 'must be at least atLeast');
  }
  (node.where as unknown[] | undefined)?.forEach((filter, index) =>
    oneOperator(filter as Record<string, unknown>, [...path, 'where', index], valueOperatorNames, problem),
  );
}

function oneOperator(
  node: Record<string, unknown>,
  path: Path,
  allowed: readonly ValueOperator[],
  problem: (where: Path, message: string) => void,
): void {
  const used = allowed.filter((operator) => operator in node && node[operator] !== undefined);
  if (used.length === 0) problem(path, `needs one operator: ${allowed.join(', ')}`);
  else if (used.length > 1)
    problem([...path, used[1] as string], `one operator per condition; this one already has ${used[0]}`);
}

export type RuleValidation = { success: true; rule: SegmentRule } | { success: false; problems: RuleProblem[] };

function problemsOf(input: unknown): Array<{ path: Path; message: string }> {
  const problems: Array<{ path: Path; message: string }> = [];
  const leaves = { count: 0 };
  walk(input, [], 1, problems, leaves);
  if (problems.length === 0 && leaves.count > ruleLimits.conditions)
    problems.push({ path: [], message: `a rule holds at most ${ruleLimits.conditions} conditions` });
  return problems;
}

/** Validates a rule; `prefix` is prepended to every problem's path (e.g. `rule` for a request body's field). */
export function validateRule(input: unknown, prefix: Path = []): RuleValidation {
  const problems = problemsOf(input);
  if (problems.length > 0)
    return {
      success: false,
      problems: problems.map((entry) => ({ path: [...prefix, ...entry.path].join('.'), message: entry.message })),
    };
  return { success: true, rule: input as SegmentRule };
}

/** A rule as a field of a request body: the walker's problems become zod issues at their exact paths. */
export const segmentRuleSchema = z
  .unknown()
  .superRefine((value, context) => {
    for (const problem of problemsOf(value))
      context.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  })
  .transform((value) => value as SegmentRule);

/** The request body of POST / PUT /v1/segments; its JSON Schema for OpenAPI comes from `segmentBodyShape`. */
export const segmentBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(ruleLimits.stringLength),
  rule: segmentRuleSchema,
});
export const segmentBodyShape = z.strictObject({
  name: z.string().min(1).max(ruleLimits.stringLength),
  rule: segmentRuleShape,
});
export const previewBodySchema = z.strictObject({ rule: segmentRuleSchema });
export const previewBodyShape = z.strictObject({ rule: segmentRuleShape });
