// The identity graph's rules: the older profile survives, chains collapse, two userIds never share a profile.
import { describe, expect, it } from 'vitest';
import type { Identifier } from '@cdp/schemas';
import { createIdentityGraph } from './graph';
import { profileIdOf } from './identifiers';

const user = (value: string): Identifier => ({ type: 'user_id', value });
const anon = (value: string): Identifier => ({ type: 'anonymous_id', value });
const email = (value: string): Identifier => ({ type: 'email', value });

describe('identity graph', () => {
  it('gives a new identifier a profile of its own, derived from it', () => {
    const graph = createIdentityGraph();
    graph.apply([anon('a')]);
    expect(graph.profileOf(anon('a'))).toBe(profileIdOf(anon('a')));
    expect(graph.profileOf(anon('b'))).toBeNull();
  });

  it('keeps the profile that appeared first on the log when two merge, whichever side the link names first', () => {
    const graph = createIdentityGraph();
    graph.apply([anon('old')]);
    graph.apply([anon('new')]);
    const outcome = graph.apply([user('u'), anon('new'), anon('old')]);
    expect(graph.profileOf(user('u'))).toBe(profileIdOf(anon('old')));
    expect(outcome.merges.map((merge) => merge.survivorId)).toEqual([
      profileIdOf(anon('new')),
      profileIdOf(anon('old')),
    ]);
  });

  it('points every absorbed profile of a chain at the final survivor', () => {
    const graph = createIdentityGraph();
    graph.apply([anon('a')]);
    graph.apply([anon('b')]);
    graph.apply([anon('c')]);
    graph.apply([email('e'), anon('c'), anon('b')]);
    graph.apply([anon('a'), email('e')]);
    const survivor = profileIdOf(anon('a'));
    expect(
      graph
        .mergesOf(anon('c'))
        .map((merge) => [merge.loserId, merge.survivorId])
        .sort(),
    ).toEqual(
      [profileIdOf(anon('b')), profileIdOf(anon('c')), profileIdOf(email('e'))]
        .map((loser) => [loser, survivor])
        .sort(),
    );
  });

  it('refuses a link that would put two userIds in one profile, and says so', () => {
    const graph = createIdentityGraph();
    graph.apply([user('u1'), anon('device')]);
    const outcome = graph.apply([user('u2'), anon('device')]);
    expect(outcome.merges).toEqual([]);
    expect(outcome.refusals).toHaveLength(1);
    expect(outcome.refusals[0]?.reason).toMatch(/u2.*u1|u1.*u2/);
    expect(graph.profileOf(anon('device'))).toBe(profileIdOf(user('u1')));
    expect(graph.profileForEvent([user('u2'), anon('device')])).toBe(profileIdOf(user('u2')));
    // A refusal stays settled: the same link would be refused again, so it need not travel the log again.
    expect(graph.settled([user('u2'), anon('device')])).toBe(true);
  });

  it('lets the other identifiers of a refused event join the userId they came with', () => {
    const graph = createIdentityGraph();
    graph.apply([user('u1'), anon('device')]);
    graph.apply([user('u2'), email('two@example.com'), anon('device')]);
    expect(graph.profileOf(email('two@example.com'))).toBe(graph.profileOf(user('u2')));
  });

  it('places an event with weaker identifiers on the profile linked first', () => {
    const graph = createIdentityGraph();
    graph.apply([user('u1'), email('shared@example.com')]);
    graph.apply([user('u2'), anon('phone-app')]);
    graph.apply([anon('phone-app'), email('shared@example.com')]);
    expect(graph.profileForEvent([email('shared@example.com'), anon('phone-app')])).toBe(profileIdOf(user('u1')));
  });

  it('counts applied records as its version', () => {
    const graph = createIdentityGraph();
    graph.apply([anon('a')]);
    graph.apply([anon('a')]);
    expect(graph.version).toBe(2);
    expect(graph.size).toBe(1);
  });

  it('remembers the profile written for an identifier until a merge moves it', () => {
    const graph = createIdentityGraph();
    graph.apply([anon('old')]);
    graph.apply([anon('new')]);
    expect(graph.writtenProfileOf(anon('new'))).toBeUndefined();
    graph.markWritten(anon('new'), graph.profileOf(anon('new')) as string);
    expect(graph.writtenProfileOf(anon('new'))).toBe(graph.profileOf(anon('new')));
    graph.apply([anon('new'), anon('old')]);
    expect(graph.writtenProfileOf(anon('new'))).not.toBe(graph.profileOf(anon('new')));
    expect(graph.profileOf(anon('new'))).toBe(profileIdOf(anon('old')));
  });
});

describe('identity limits', () => {
  it('stops one email from gathering more anonymous ids than the limit: later devices are refused, the merge work stays bounded', () => {
    const graph = createIdentityGraph(undefined, { limits: { anonymous_id: 20 } });
    const refusals = [];
    for (let device = 0; device < 1000; device += 1)
      refusals.push(...graph.apply([email('noemail@store.com'), anon(`device-${device}`)]).refusals);
    const profile = graph.profileOf(email('noemail@store.com'));
    const joined = Array.from({ length: 1000 }, (_, device) => graph.profileOf(anon(`device-${device}`))).filter(
      (id) => id === profile,
    );
    expect(joined).toHaveLength(20);
    expect(graph.mergesOf(email('noemail@store.com'))).toHaveLength(20);
    expect(refusals).toHaveLength(980);
    expect(refusals[0]?.reason).toContain('more than 20 identifiers of type anonymous_id');
    // A refused device keeps a profile of its own: strangers stay apart.
    expect(graph.profileOf(anon('device-999'))).toBe(profileIdOf(anon('device-999')));
    expect(graph.settled([email('noemail@store.com'), anon('device-999')])).toBe(true);
  });

  it('counts the identifiers of both sides of a merge, and keeps counting after a snapshot is restored', () => {
    const graph = createIdentityGraph(undefined, { limits: { email: 2 } });
    graph.apply([user('u'), email('a@x.vn')]);
    graph.apply([anon('d'), email('b@x.vn')]);
    expect(graph.apply([user('u'), anon('d')]).merges).toHaveLength(1);
    const restored = createIdentityGraph(graph.snapshot(), { limits: { email: 2 } });
    const outcome = restored.apply([user('u'), email('c@x.vn')]);
    expect(outcome.refusals).toHaveLength(1);
    expect(restored.profileOf(email('c@x.vn'))).toBe(profileIdOf(email('c@x.vn')));
  });

  it('joins everything as before without limits', () => {
    const graph = createIdentityGraph();
    for (let device = 0; device < 300; device += 1) graph.apply([email('shared@x.vn'), anon(`device-${device}`)]);
    expect(graph.mergesOf(email('shared@x.vn'))).toHaveLength(300);
  });

  it('hands out each merge once until its survivor changes: a growing profile costs one merge per new identifier', () => {
    const graph = createIdentityGraph();
    const written = new Map<string, string>();
    // What the resolver does after each record: write the unwritten merges of the profile, then mark them.
    const writeMerges = (identifier: Identifier) => {
      const pending = graph.unwrittenMergesOf(identifier);
      for (const merge of pending) {
        written.set(merge.loserId, merge.survivorId);
        merge.markWritten();
      }
      return pending.length;
    };
    graph.apply([user('u')]);
    let handedOut = 0;
    for (let device = 0; device < 50; device += 1) {
      graph.apply([user('u'), anon(`device-${device}`)]);
      handedOut += writeMerges(anon(`device-${device}`));
    }
    // mergesOf would have handed out 1 + 2 + … + 50 = 1275.
    expect(handedOut).toBe(50);
    expect(writeMerges(user('u'))).toBe(0);

    // A younger profile of 10 joins: only its members get the new survivor.
    graph.apply([anon('kiosk-0')]);
    for (let device = 1; device < 10; device += 1) graph.apply([anon('kiosk-0'), anon(`kiosk-${device}`)]);
    expect(writeMerges(anon('kiosk-0'))).toBe(9);
    graph.apply([user('u'), anon('kiosk-5')]);
    expect(writeMerges(anon('kiosk-5'))).toBe(10);
    // What was written is the whole merge map, chains collapsed.
    expect([...written].filter(([, survivor]) => survivor === graph.profileOf(user('u'))).sort()).toEqual(
      graph
        .mergesOf(user('u'))
        .map((merge) => [merge.loserId, merge.survivorId])
        .sort(),
    );

    // Merges handed out but never marked (the write failed) come again.
    graph.apply([user('u'), anon('late')]);
    expect(graph.unwrittenMergesOf(anon('late'))).toHaveLength(1);
    expect(graph.unwrittenMergesOf(anon('late'))).toHaveLength(1);
    // A graph restored from a snapshot (a restart) has marked nothing: the whole profile comes again.
    expect(createIdentityGraph(graph.snapshot()).unwrittenMergesOf(anon('late'))).toHaveLength(
      graph.mergesOf(anon('late')).length,
    );
  });
});
