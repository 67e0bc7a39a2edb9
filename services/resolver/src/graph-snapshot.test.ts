// A graph rebuilt from its snapshot answers every question exactly as the graph it was taken from, now and later.
import { describe, expect, it } from 'vitest';
import type { Identifier } from '@cdp/schemas';
import { createIdentityGraph, type GraphSnapshot, type IdentityGraph } from './graph';

const user = (value: string): Identifier => ({ type: 'user_id', value });
const anon = (value: string): Identifier => ({ type: 'anonymous_id', value });
const email = (value: string): Identifier => ({ type: 'email', value });
const phone = (value: string): Identifier => ({ type: 'phone', value });

/** Every answer the graph gives about these identifiers and these records, in one comparable value. */
function answers(graph: IdentityGraph, identifiers: Identifier[], records: Identifier[][]) {
  return {
    version: graph.version,
    size: graph.size,
    profiles: identifiers.map((identifier) => graph.profileOf(identifier)),
    merges: identifiers.map((identifier) => graph.mergesOf(identifier)),
    events: records.map((record) => graph.profileForEvent(record)),
    settled: records.map((record) => graph.settled(record)),
  };
}

/** Storage keeps plain rows only: the snapshot goes through JSON, as it does through ClickHouse. */
const stored = (snapshot: GraphSnapshot): GraphSnapshot => JSON.parse(JSON.stringify(snapshot)) as GraphSnapshot;

/** A small deterministic generator, so a failing case can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const history: Identifier[][] = [
  [anon('a')],
  [anon('b')],
  [anon('c')],
  // c joins b through an email, then the user joins a and the email: a chain onto the oldest profile.
  [email('e'), anon('c'), anon('b')],
  [user('u1'), anon('a'), email('e')],
  [user('u2'), anon('kiosk')],
  // Refused: the kiosk belongs to u2, so u1 cannot join it.
  [user('u1'), anon('kiosk')],
  [phone('+1555'), anon('d')],
  [anon('d')],
  // An older component (a's) absorbed by nothing, but a newer one (d's) joining an older one whose members interleave.
  [anon('b'), phone('+1555')],
];

const later: Identifier[][] = [
  [anon('x'), anon('d')],
  [user('u2'), anon('x')],
  [user('u3'), email('e')],
  [user('u2'), email('f'), anon('kiosk')],
  [anon('y')],
  [anon('y'), anon('kiosk')],
];

describe('identity graph snapshot', () => {
  it('restores a graph that answers like the original, before and after the same further records', () => {
    const original = createIdentityGraph();
    for (const record of history) original.apply(record);
    const restored = createIdentityGraph(stored(original.snapshot()));

    const identifiers = [
      ...new Map(
        [...history, ...later].flat().map((identifier) => [`${identifier.type}:${identifier.value}`, identifier]),
      ).values(),
    ];
    const probes = [...history, ...later, [anon('a'), anon('kiosk')], [email('e'), anon('nobody')]];
    expect(answers(restored, identifiers, probes)).toEqual(answers(original, identifiers, probes));
    // The comparison means something: the history merged and refused.
    expect(original.mergesOf(anon('a')).length).toBeGreaterThanOrEqual(5);
    expect(original.profileOf(anon('kiosk'))).not.toBe(original.profileOf(user('u1')));

    for (const record of later) expect(restored.apply(record)).toEqual(original.apply(record));
    expect(answers(restored, identifiers, probes)).toEqual(answers(original, identifiers, probes));
    expect(restored.snapshot()).toEqual(original.snapshot());
  });

  it('carries the version and the seq counter, and an empty graph round-trips', () => {
    const graph = createIdentityGraph();
    expect(createIdentityGraph(stored(graph.snapshot())).snapshot()).toEqual({ version: 0, seq: 0, nodes: [] });
    graph.apply([anon('a')]);
    graph.apply([anon('a')]);
    const restored = createIdentityGraph(stored(graph.snapshot()));
    expect({ version: restored.version, size: restored.size }).toEqual({ version: 2, size: 1 });
    restored.apply([anon('b')]);
    graph.apply([anon('b')]);
    expect(restored.snapshot()).toEqual(graph.snapshot());
  });

  it('is a copy: records applied after the snapshot do not change it', () => {
    const graph = createIdentityGraph();
    graph.apply([anon('a')]);
    const snapshot = graph.snapshot();
    const before = JSON.stringify(snapshot);
    graph.apply([anon('b'), anon('a')]);
    expect(JSON.stringify(snapshot)).toBe(before);
  });

  it('agrees with the original on random histories restored at random points', () => {
    const next = random(20240611);
    const pool = Array.from({ length: 40 }, (_, index) => {
      const kinds = [user, email, phone, anon, anon];
      return (kinds[index % kinds.length] as (value: string) => Identifier)(`id${index}`);
    });
    const pick = () => pool[Math.floor(next() * pool.length)] as Identifier;
    for (let round = 0; round < 30; round += 1) {
      const records = Array.from({ length: 60 }, () => Array.from({ length: 1 + Math.floor(next() * 3) }, pick));
      const cut = Math.floor(next() * records.length);
      const original = createIdentityGraph();
      records.slice(0, cut).forEach((record) => original.apply(record));
      const restored = createIdentityGraph(stored(original.snapshot()));
      for (const record of records.slice(cut)) expect(restored.apply(record)).toEqual(original.apply(record));
      expect(answers(restored, pool, records)).toEqual(answers(original, pool, records));
    }
  });

  it('refuses rows that no graph could have produced', () => {
    const node = (value: string, seq: number, rootSeq: number) => ({
      type: 'anonymous_id' as const,
      value,
      seq,
      rootSeq,
    });
    expect(() => createIdentityGraph({ version: 2, seq: 2, nodes: [node('a', 0, 0)] })).toThrow(/1 nodes but seq 2/);
    expect(() => createIdentityGraph({ version: 2, seq: 2, nodes: [node('a', 0, 1), node('b', 1, 1)] })).toThrow(
      /not a root/,
    );
    expect(() => createIdentityGraph({ version: 2, seq: 2, nodes: [node('a', 0, 0), node('a', 1, 0)] })).toThrow(
      /twice/,
    );
    expect(() =>
      createIdentityGraph({ version: 1, seq: 1, nodes: [{ ...node('a', 0, 0), type: 'fax' as never }] }),
    ).toThrow(/not a valid node/);
  });
});
