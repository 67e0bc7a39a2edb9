// What every node of the rule editor shares: how to change the tree, the API's problems per node, and which control each problem names.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { valueOperators, type PlacedProblem, type RuleNode } from './rule-tree';
import type { Invalid } from './test-editor';

export interface EditorContext {
  change: (id: string, replace: (node: RuleNode) => RuleNode | null) => void;
  problemsOf: (id: string) => PlacedProblem[];
  readOnly: boolean;
  /** The node just added, to move the focus to it. */
  added: { current: string | null };
}

export const EditorContextValue = createContext<EditorContext | null>(null);
export const useEditor = () => useContext(EditorContextValue) as EditorContext;

export const errorId = (nodeId: string) => `rule-problem-${nodeId}`;
const operatorNames = new Set<string>(valueOperators);

/** The control a problem's path inside its node names. */
function controlOf(field: string): string {
  const [first = '', second, third] = field.split('.');
  if (operatorNames.has(first)) return 'value';
  if (['atLeast', 'atMost', 'withinDays'].includes(first)) return first;
  if (first === 'where' && second !== undefined)
    return third && operatorNames.has(third) ? `where.${second}.value` : `where.${second}.property`;
  return 'key';
}

export function useInvalid(node: RuleNode): { problems: PlacedProblem[]; invalid: Invalid } {
  const { problemsOf } = useEditor();
  const problems = problemsOf(node.id);
  const controls = new Set(problems.map((problem) => controlOf(problem.field)));
  return {
    problems,
    invalid: (control) => (controls.has(control) ? { 'aria-invalid': true, 'aria-describedby': errorId(node.id) } : {}),
  };
}
