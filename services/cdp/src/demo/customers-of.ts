// The demo's customers read back from its messages alone, as the identity graph should see them: for tests and tools.
import type { DemoMessage } from './messages';

type JsonObject = Record<string, unknown>;

/** The identifiers a message names, written as the profile API lists them (phones without spaces, emails lower-case). */
export function identifiersOf(message: DemoMessage): string[] {
  const traits = {
    ...((message.context.traits as JsonObject | undefined) ?? {}),
    ...(message.type === 'identify' ? (message.traits ?? {}) : {}),
  };
  const ids: string[] = [];
  if (message.userId) ids.push(`user_id:${message.userId}`);
  if (message.anonymousId) ids.push(`anonymous_id:${message.anonymousId}`);
  if (message.previousId) ids.push(`anonymous_id:${message.previousId}`);
  if (typeof traits.email === 'string') ids.push(`email:${traits.email.trim().toLowerCase()}`);
  if (typeof traits.phone === 'string') ids.push(`phone:${traits.phone.replace(/\s/g, '')}`);
  return ids;
}

/** Customers as sets of identifiers (sorted): any message naming several joins them. */
export function customersOf(messages: DemoMessage[]): string[][] {
  const parent = new Map<string, string>();
  const root = (id: string): string => {
    let at = id;
    while (parent.get(at) !== at) at = parent.get(at) as string;
    parent.set(id, at);
    return at;
  };
  for (const message of messages) {
    const ids = identifiersOf(message);
    for (const id of ids) if (!parent.has(id)) parent.set(id, id);
    for (const id of ids.slice(1)) parent.set(root(id), root(ids[0] as string));
  }
  const groups = new Map<string, string[]>();
  for (const id of parent.keys()) groups.set(root(id), [...(groups.get(root(id)) ?? []), id]);
  return [...groups.values()].map((ids) => ids.sort());
}
