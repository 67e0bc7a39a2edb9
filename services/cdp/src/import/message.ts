// One imported row as a Segment message under a mapping: identifiers, time and event name pulled out, the rest traits or properties.
import { createHash } from 'node:crypto';
import { normaliseEmail, normalisePhone } from '@cdp/schemas';
import { ruleFor, specialTargets, type ColumnRule, type Mapping, type SpecialTarget } from './mapping';
import { convert, isoDateOf, quoted } from './values';

export type RowResult = { message: Record<string, unknown> } | { reason: string };

/**
 * The anonymousId of a row that names its customer by email or phone only, which Segment's API requires: derived
 * from that identifier, so every row of one customer (in this file or the next) carries the same one, and a
 * customer never gathers one anonymous id per row.
 */
export function anonymousIdOf(type: 'email' | 'phone', value: string): string {
  return `import-${createHash('sha256').update(`${type}:${value}`).digest('hex').slice(0, 24)}`;
}

const isSpecial = (to: string): to is SpecialTarget => (specialTargets as readonly string[]).includes(to);

/** Where each column goes, decided once per column name. A column whose own name is special yields to an explicit rule. */
function columnPlanner(mapping: Mapping): (column: string) => ColumnRule {
  const explicit = new Set(
    [...mapping.columns.values()].map((rule) => rule.to).filter((to): to is string => to !== null && isSpecial(to)),
  );
  const plans = new Map<string, ColumnRule>();
  return (column) => {
    let plan = plans.get(column);
    if (!plan) {
      plan = ruleFor(mapping, column);
      if (!mapping.columns.has(column) && plan.to !== null && isSpecial(plan.to) && explicit.has(plan.to))
        plan = { to: column, type: null };
      plans.set(column, plan);
    }
    return plan;
  };
}

interface ColumnPlan extends ColumnRule {
  special: boolean;
}

/** The plans of a row's columns, made again only when the columns change: a CSV file's rows all share its header's. */
function rowPlanner(mapping: Mapping): (columns: readonly string[]) => readonly ColumnPlan[] {
  const planOf = columnPlanner(mapping);
  let planned: readonly string[] | null = null;
  let plans: ColumnPlan[] = [];
  return (columns) => {
    if (columns !== planned) {
      plans = columns.map((column) => {
        const { to, type } = planOf(column);
        return { to, type, special: to !== null && isSpecial(to) };
      });
      planned = columns;
    }
    return plans;
  };
}

/**
 * A mapper from rows (column names and their cells, in step) to messages of the mapping's kind. `messageId` is the caller's (stable per
 * record). A row is refused, with the column and the reason, when a cell does not match its declared type or its
 * identifier, or when it names no customer at all.
 */
export function rowMapper(
  mapping: Mapping,
): (columns: readonly string[], cells: readonly unknown[], messageId: string) => RowResult {
  const plansOf = rowPlanner(mapping);
  return (columns, cells, messageId) => {
    const fields: Record<string, unknown> = {};
    const special: Partial<Record<SpecialTarget, string>> = {};
    const plans = plansOf(columns);
    for (let index = 0; index < columns.length; index += 1) {
      const cell = cells[index];
      if (cell === null || cell === undefined) continue;
      const text = typeof cell === 'string' ? cell.trim() : cell;
      // A blank cell is left out.
      if (text === '') continue;
      const { to, type, special: isSpecialTarget } = plans[index] as ColumnPlan;
      if (to === null) continue;
      if (isSpecialTarget) {
        const value = typeof text === 'string' ? text : typeof text === 'number' ? String(text) : null;
        if (value === null)
          return {
            reason: `column ${JSON.stringify(columns[index])}: ${to} must be text, got ${quoted(cell)}`,
          };
        special[to as SpecialTarget] = value;
        continue;
      }
      const converted = type === null ? { value: text } : convert(text, type);
      if ('problem' in converted) return { reason: `column ${JSON.stringify(columns[index])}: ${converted.problem}` };
      fields[to] = converted.value;
    }

    const identity: Record<string, string> = {};
    if (special.email !== undefined) {
      const email = normaliseEmail(special.email);
      if (!email) return { reason: `email ${quoted(special.email)} is not an email address` };
      identity.email = email;
    }
    if (special.phone !== undefined) {
      const phone = normalisePhone(special.phone, mapping.country ?? undefined);
      if (!phone) {
        const hint = mapping.country
          ? `a phone number of ${mapping.country} or one with its country code`
          : 'a phone number with its country code (or pass --country)';
        return { reason: `phone ${quoted(special.phone)} is not ${hint}` };
      }
      identity.phone = phone;
    }
    const userId = special.userId;
    const anonymousId =
      special.anonymousId ??
      (userId
        ? undefined
        : identity.email
          ? anonymousIdOf('email', identity.email)
          : identity.phone
            ? anonymousIdOf('phone', identity.phone)
            : undefined);
    if (!userId && !anonymousId) return { reason: 'no customer: the row has no userId, anonymousId, email or phone' };

    const message: Record<string, unknown> = { type: mapping.kind, messageId };
    if (userId) message.userId = userId;
    if (anonymousId) message.anonymousId = anonymousId;
    if (special.timestamp !== undefined) {
      const timestamp = isoDateOf(special.timestamp);
      if (!timestamp) return { reason: `timestamp ${quoted(special.timestamp)} is not a date or date-time` };
      message.timestamp = timestamp;
    }
    if (mapping.kind === 'identify') {
      // Identify carries email and phone as traits, where the resolver reads identifiers from.
      message.traits = { ...fields, ...identity };
    } else {
      const event = special.event ?? mapping.event;
      if (!event) return { reason: 'no event name: the event column is empty and no --event was given' };
      message.event = event;
      message.properties = fields;
      // A track names its customer's email and phone in context.traits, as Segment's store and server sources do.
      if (identity.email || identity.phone) message.context = { traits: identity };
    }
    return { message };
  };
}
