// Resolves a batch of events against the identity graph, asking the link log for what the graph does not know yet.
import type { Identifier } from '@cdp/schemas';
import type { DecodedEvent } from './decode';
import { identifierKey } from './identifiers';
import type { LinkLog } from './links';
import type { ResolvedBatch } from './write';

export async function resolveBatch(links: LinkLog, withIds: DecodedEvent[]): Promise<ResolvedBatch> {
  // One link record per distinct identifier set the graph cannot answer yet.
  const requests = new Map<string, { messageId: string; identifiers: Identifier[] }>();
  for (const { event, identifiers } of withIds) {
    if (links.graph.settled(identifiers)) continue;
    // JSON, not a joined string: an identifier's value may contain any separator.
    const key = JSON.stringify(identifiers.map(identifierKey));
    if (!requests.has(key)) requests.set(key, { messageId: event.messageId, identifiers });
  }
  const outcomes = await links.link([...requests.values()]);
  // Why the graph refused a link, by identifier set: the userId rule or an identity limit.
  const refusedBecause = new Map([...requests.keys()].map((key, index) => [key, outcomes[index]?.refusals[0]?.reason]));

  const { graph } = links;
  const batch: ResolvedBatch = { events: [], identities: [], merges: [], refusals: [], version: graph.version };
  const seen = new Set<string>();
  // Profiles whose unwritten merges are collected already: one pass over a profile's members per batch.
  const collected = new Set<string>();
  for (const { event, identifiers } of withIds) {
    const profileId = graph.profileForEvent(identifiers);
    if (profileId === null)
      throw new Error(`event ${event.messageId} has identifiers the graph does not know after linking`);
    batch.events.push({ event, profileId });
    const profiles = new Set<string>();
    for (const identifier of identifiers) {
      const current = graph.profileOf(identifier) as string;
      profiles.add(current);
      const key = identifierKey(identifier);
      if (seen.has(key)) continue;
      seen.add(key);
      // Rows this process already wrote with the same answer need no rewrite; after a crash nothing is marked.
      if (graph.writtenProfileOf(identifier) === current) continue;
      batch.identities.push({ identifier, profileId: current });
      // The merges of the identifier's profile that this process has not written with their current survivor: a new
      // identifier adds its own, not the whole profile's again. After a restart nothing is marked, so a redelivered
      // batch rewrites what a crash lost.
      if (!collected.has(current)) {
        collected.add(current);
        batch.merges.push(...graph.unwrittenMergesOf(identifier));
      }
    }
    if (profiles.size > 1) {
      batch.refusals.push({
        messageId: event.messageId,
        identifiers,
        reason:
          refusedBecause.get(JSON.stringify(identifiers.map(identifierKey))) ??
          'identifiers belong to profiles that may not be joined (different userIds, or an identity limit); the link was refused',
      });
    }
  }
  return batch;
}
