// Payload templates (LiquidJS): parsed when a destination is saved, so a bad one is refused with its line.
import { Liquid, type Template } from 'liquidjs';

/** Templates reach no file: `include`, `render` and `layout` find nothing, on disk or anywhere else. */
const noFiles = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file: string): Promise<string> => {
    throw new Error(`templates cannot read files (${file})`);
  },
  readFileSync: (file: string): string => {
    throw new Error(`templates cannot read files (${file})`);
  },
  resolve: (_dir: string, file: string) => file,
};

// A template is written by an admin but runs for every delivery: bounded in parse size, render time and memory.
const liquid = new Liquid({
  strictFilters: true,
  ownPropertyOnly: true,
  cache: 100,
  fs: noFiles,
  relativeReference: false,
  root: [],
  partials: [],
  layouts: [],
  parseLimit: 100_000,
  renderLimit: 1_000,
  memoryLimit: 10_000_000,
});

export class TemplateProblem extends Error {
  readonly code = 'INVALID_TEMPLATE';
  constructor(
    message: string,
    readonly line: number | null,
  ) {
    super(message);
  }
}

interface LiquidErrorLike {
  message: string;
  token?: { getPosition?: () => [number, number] };
}

/** Parses a template; a problem becomes a TemplateProblem whose message names the line (and column). */
export function parseTemplate(source: string): Template[] {
  try {
    return liquid.parse(source);
  } catch (error) {
    const problem = error as LiquidErrorLike;
    const position = problem.token?.getPosition?.();
    const line = position?.[0] ?? null;
    const reason = problem.message.replace(/, line:\d+, col:\d+$/, '');
    throw new TemplateProblem(line === null ? reason : `line ${line}, column ${position?.[1]}: ${reason}`, line);
  }
}

/** The request body a delivery sends: the template rendered over the payload, or the payload itself as JSON. */
export async function renderBody(template: string, payload: Record<string, unknown>): Promise<string> {
  if (!template) return JSON.stringify(payload);
  return liquid.render(parseTemplate(template), payload) as Promise<string>;
}

/** JSON bodies go as application/json, anything else a template made as text/plain. */
export function contentTypeOf(body: string): string {
  try {
    JSON.parse(body);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}
