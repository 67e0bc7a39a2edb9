// The column mapping of `cdp import`: a JSON file and/or --column flags, validated with zod into one plan for every row.
import { z } from 'zod';
import { isPhoneCountry, type PhoneCountry } from '@cdp/schemas';
import { valueTypes, type ValueType } from './values';

export const importKinds = ['identify', 'track'] as const;
export type ImportKind = (typeof importKinds)[number];

/** Destinations with a meaning of their own; any other destination is a trait (identify) or a property (track). */
export const identityTargets = ['userId', 'anonymousId', 'email', 'phone'] as const;
export const specialTargets = [...identityTargets, 'timestamp', 'event'] as const;
export type SpecialTarget = (typeof specialTargets)[number];

/** Where one column goes: a destination (null: left out) and the type its cells are read as. */
export interface ColumnRule {
  to: string | null;
  type: ValueType | null;
}

export interface Mapping {
  kind: ImportKind;
  /** The event name of every row of a track import, unless a column maps to `event` (then the fallback for an empty cell). */
  event: string | null;
  /** The country of phone numbers written without their country code. */
  country: PhoneCountry | null;
  columns: Map<string, ColumnRule>;
  /** What becomes of a column with no rule (and no special name): a trait or property under its own name, or nothing. */
  unmapped: 'keep' | 'drop';
}

/** Keys ingest refuses anywhere in an event (prototype pollution), so no destination may be one. */
const forbiddenNames = new Set(['__proto__', 'constructor', 'prototype']);

const destination = z
  .string()
  .trim()
  .max(256, 'a destination is at most 256 characters')
  .refine((name) => !forbiddenNames.has(name), 'a destination may not be __proto__, constructor or prototype');

const columnObject = z.strictObject({ to: destination.nullable().optional(), type: z.enum(valueTypes).optional() });

/** A destination (empty: left out), null (left out), or `{ to, type }`: picked by shape, so a problem names the field. */
const columnRule = z
  .union([z.string(), z.null(), z.record(z.string(), z.unknown())], {
    error: 'must be a destination name, null, or {"to": DEST, "type": TYPE}',
  })
  .pipe(
    z.custom<string | null | z.infer<typeof columnObject>>().superRefine((value, context) => {
      const parsed =
        value === null
          ? null
          : typeof value === 'string'
            ? destination.safeParse(value)
            : columnObject.safeParse(value);
      for (const issue of parsed?.success === false ? parsed.error.issues : [])
        context.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }),
  );

/** The mapping file: `{ "kind": "identify", "country": "VN", "columns": { "Số điện thoại": "phone", "Điểm": { "to": "points", "type": "number" } } }`. */
export const mappingFile = z.strictObject({
  kind: z.enum(importKinds).optional(),
  event: z.string().trim().min(1).max(512).optional(),
  country: z
    .string()
    .trim()
    .toUpperCase()
    .refine(isPhoneCountry, 'must be a two-letter country code such as VN')
    .optional(),
  columns: z.record(z.string(), columnRule).optional(),
  unmapped: z.enum(['keep', 'drop']).optional(),
});
export type MappingFile = z.infer<typeof mappingFile>;

export interface MappingFlags {
  kind?: string | undefined;
  event?: string | undefined;
  country?: string | undefined;
  /** `SOURCE=DESTINATION[:TYPE]`, in the order given; an empty destination leaves the column out. */
  columns?: string[] | undefined;
}

const specialNames = new Map<string, SpecialTarget>(
  [...specialTargets, 'user_id', 'anonymous_id', 'event_name', 'phone_number'].map((name) => [
    name.toLowerCase().replace(/[_\s-]/g, ''),
    (name === 'user_id'
      ? 'userId'
      : name === 'anonymous_id'
        ? 'anonymousId'
        : name === 'event_name'
          ? 'event'
          : name === 'phone_number'
            ? 'phone'
            : name) as SpecialTarget,
  ]),
);

/** The special destination a column's own name stands for (`user_id`, `Email`, `Phone Number`), if any. */
export function specialNameOf(column: string): SpecialTarget | undefined {
  return specialNames.get(column.toLowerCase().replace(/[_\s-]/g, ''));
}

const isSpecial = (to: string): to is SpecialTarget => (specialTargets as readonly string[]).includes(to);

function ruleOf(value: z.infer<typeof columnRule>): ColumnRule {
  if (value === null) return { to: null, type: null };
  if (typeof value === 'string') return { to: value === '' ? null : value, type: null };
  return { to: value.to === '' || value.to === null ? null : (value.to ?? ''), type: value.type ?? null };
}

/** `SOURCE=DESTINATION[:TYPE]`: split at the last `=`, so a column name may hold one; `:TYPE` only when it names a type. */
function parseColumnFlag(flag: string): { source: string; rule: ColumnRule } | { problem: string } {
  const at = flag.lastIndexOf('=');
  if (at <= 0)
    return {
      problem: `--column ${flag}: write it SOURCE=DESTINATION[:TYPE], e.g. "Số điện thoại=phone" or "Điểm=points:number"`,
    };
  const source = flag.slice(0, at);
  let to = flag.slice(at + 1).trim();
  let type: ValueType | null = null;
  const colon = to.lastIndexOf(':');
  if (colon >= 0 && (valueTypes as readonly string[]).includes(to.slice(colon + 1).trim())) {
    type = to.slice(colon + 1).trim() as ValueType;
    to = to.slice(0, colon).trim();
  }
  const checked = destination.safeParse(to);
  if (!checked.success)
    return { problem: `--column ${flag}: ${checked.error.issues.map((issue) => issue.message).join('; ')}` };
  return { source, rule: { to: to === '' ? null : to, type } };
}

const describePath = (path: PropertyKey[]) => (path.length === 0 ? 'the mapping' : path.map(String).join('.'));

/**
 * The mapping of a run: the file's (already parsed JSON, or nothing), then the flags over it. Every problem is
 * named, so a user fixes them in one go before a single row is sent.
 */
export function resolveMapping(file: unknown, flags: MappingFlags): { mapping: Mapping } | { problems: string[] } {
  const problems: string[] = [];
  const parsed = mappingFile.safeParse(file ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${describePath(issue.path)}: ${issue.message}`);
    return { problems };
  }
  const columns = new Map<string, ColumnRule>();
  for (const [source, value] of Object.entries(parsed.data.columns ?? {})) columns.set(source, ruleOf(value));
  for (const flag of flags.columns ?? []) {
    const column = parseColumnFlag(flag);
    if ('problem' in column) problems.push(column.problem);
    else columns.set(column.source, column.rule);
  }
  // An object rule with a type but no destination keeps the column's own name.
  for (const [source, rule] of columns) if (rule.to === '') columns.set(source, { ...rule, to: source });

  const kind = flags.kind ?? parsed.data.kind ?? 'identify';
  if (!(importKinds as readonly string[]).includes(kind)) problems.push(`kind ${kind}: must be identify or track`);
  const event = flags.event?.trim() || parsed.data.event || null;
  let country: PhoneCountry | null = parsed.data.country ?? null;
  if (flags.country !== undefined) {
    const code = flags.country.trim().toUpperCase();
    if (isPhoneCountry(code)) country = code;
    else problems.push(`--country ${flags.country}: must be a two-letter country code such as VN`);
  }

  const bySpecial = new Map<SpecialTarget, string[]>();
  for (const [source, rule] of columns) {
    if (rule.to === null || !isSpecial(rule.to)) continue;
    bySpecial.set(rule.to, [...(bySpecial.get(rule.to) ?? []), source]);
    if (rule.type !== null && rule.type !== (rule.to === 'timestamp' ? 'date' : 'string')) {
      problems.push(
        `column ${JSON.stringify(source)}: ${rule.to} is ${rule.to === 'timestamp' ? 'a date' : 'text'}, it cannot be read as ${rule.type}`,
      );
    }
  }
  for (const [target, sources] of bySpecial) {
    if (sources.length > 1)
      problems.push(
        `columns ${sources.map((source) => JSON.stringify(source)).join(' and ')} all map to ${target}: pick one`,
      );
  }
  if (kind === 'track' && !event && !bySpecial.has('event')) {
    problems.push(
      'a track import needs an event name: --event NAME, or a column mapped to event (--column "Loại=event")',
    );
  }
  if (kind === 'identify' && (event || bySpecial.has('event')))
    problems.push('an event name applies to --kind track only');
  if (problems.length > 0) return { problems };
  return { mapping: { kind: kind as ImportKind, event, country, columns, unmapped: parsed.data.unmapped ?? 'keep' } };
}

/** Where a column goes under a mapping: its rule, else its special name's meaning, else a trait or property of its name. */
export function ruleFor(mapping: Mapping, column: string): ColumnRule {
  const rule = mapping.columns.get(column);
  if (rule) return rule;
  const special = specialNameOf(column);
  // A column named `event` is an event name only in a track import; in an identify it is just a trait.
  if (special && (special !== 'event' || mapping.kind === 'track')) return { to: special, type: null };
  return { to: mapping.unmapped === 'keep' && column.trim() !== '' ? column : null, type: null };
}

/** The mapped columns a file's header lacks: a typo in a mapping must stop the import before it starts. */
export function missingColumns(mapping: Mapping, header: readonly string[]): string[] {
  const present = new Set(header);
  return [...mapping.columns.keys()].filter((column) => !present.has(column));
}
