// The identity graph every resolver instance rebuilds by applying the link log in order: a union-find with merge protection.
import { maskedType } from '@cdp/privacy';
import { identifierTypes, type Identifier, type IdentifierType } from '@cdp/schemas';
import { identifierKey, profileIdOf } from './identifiers';

interface Node {
  identifier: Identifier;
  /** Position of the node's first appearance on the link log: the older profile is the one that appeared first. */
  seq: number;
  parent: Node;
  /** The profile id this process last wrote to ClickHouse for the identifier (not part of snapshots). */
  written?: string;
  /** The survivor this process last wrote to profile_merges for the profile this node started (not part of snapshots). */
  mergeWritten?: string;
  /**
   * The id of the profile the identifier started, when it is not derived from the identifier the graph holds: a node
   * first named by a plaintext link record keeps the id its plaintext gave, while the graph holds its pseudonym.
   */
  profileId?: string;
}

interface Component {
  root: Node;
  /** Kept in seq order, so a graph rebuilt from a snapshot lists them exactly as the original does. */
  members: Node[];
  userIds: Set<string>;
  /** Members of each identifier type, for the identity limits. */
  counts: Map<string, number>;
  /** The root's profile id, hashed once on first use rather than on every lookup. */
  profileId?: string;
}

export interface Merge {
  loserId: string;
  survivorId: string;
}

/** A merge to write, and how to record that ClickHouse accepted it. */
export interface PendingMerge extends Merge {
  markWritten(): void;
}

export interface Refusal {
  identifiers: Identifier[];
  reason: string;
}

export interface ApplyOutcome {
  merges: Merge[];
  refusals: Refusal[];
}

export interface IdentityGraph {
  /**
   * Applies one link record: registers new identifiers, then joins their profiles unless that would join two userIds.
   * `profileIds`, by position, overrides the profile id a new identifier starts (see Node.profileId).
   */
  apply(identifiers: Identifier[], profileIds?: string[]): ApplyOutcome;
  /** True when applying these identifiers could change nothing (all known, already together or certainly refused). */
  settled(identifiers: Identifier[]): boolean;
  /** The profile the identifier belongs to now, or null if it was never linked. */
  profileOf(identifier: Identifier): string | null;
  /**
   * The profile of an event with these identifiers: the userId's, else the one its identifiers were linked to first.
   * Null when one of them was never linked.
   */
  profileForEvent(identifiers: Identifier[]): string | null;
  /** Every profile id the identifier's profile absorbed, each with the survivor (for the profile_merges projection). */
  mergesOf(identifier: Identifier): Merge[];
  /**
   * The merges of mergesOf that this process has not written with their current survivor: after a new identifier
   * joins a profile, only its own; after two profiles join, the absorbed one's members. Everything after a restart.
   */
  unwrittenMergesOf(identifier: Identifier): PendingMerge[];
  /** The whole state as plain rows, copied now: later records do not change the returned snapshot. */
  snapshot(): GraphSnapshot;
  /** How many records have been applied: the version of everything derived from the graph. */
  /** The profile id last written for the identifier by this process, if any. */
  writtenProfileOf(identifier: Identifier): string | undefined;
  /** Records that ClickHouse accepted the identifier's row with this profile id. */
  markWritten(identifier: Identifier, profileId: string): void;
  readonly version: number;
  readonly size: number;
}

/** One identifier of a snapshot; its component's root is the member with the smallest seq (the older profile). */
export interface SnapshotNode {
  type: IdentifierType;
  value: string;
  seq: number;
  rootSeq: number;
  /** Set only where the node's profile id is not derived from its identifier (Node.profileId). */
  profileId?: string;
}

export interface GraphSnapshot {
  version: number;
  /** The seq the next new identifier gets. */
  seq: number;
  /** In seq order. */
  nodes: SnapshotNode[];
}

const knownTypes = new Set<string>(identifierTypes);

/** Merges two seq-ordered member lists; the usual case (the loser's members are all newer) is a plain append. */
function mergeBySeq(survivor: Node[], loser: Node[]): Node[] {
  const last = survivor[survivor.length - 1];
  if (!last || (loser[0] as Node).seq > last.seq) {
    for (const node of loser) survivor.push(node);
    return survivor;
  }
  const merged: Node[] = [];
  let i = 0;
  let j = 0;
  while (i < survivor.length || j < loser.length) {
    const a = survivor[i];
    const b = loser[j];
    if (b === undefined || (a !== undefined && a.seq < b.seq)) {
      merged.push(a as Node);
      i += 1;
    } else {
      merged.push(b);
      j += 1;
    }
  }
  return merged;
}

export interface GraphOptions {
  /**
   * The most identifiers of a type one profile may gather; a link past it is refused and recorded, so a placeholder
   * email from many devices cannot weld strangers together, and the work of a merge stays bounded. Every instance
   * applying the same log must use the same limits. None by default.
   */
  limits?: Partial<Record<IdentifierType, number>>;
}

/** A graph in the state of the snapshot (empty without one); throws if the rows cannot come from a graph. */
export function createIdentityGraph(from?: GraphSnapshot, options: GraphOptions = {}): IdentityGraph {
  const limits = Object.entries(options.limits ?? {}) as Array<[IdentifierType, number]>;
  const nodes = new Map<string, Node>();
  const components = new Map<Node, Component>();
  let seq = 0;
  let version = 0;

  function find(node: Node): Node {
    let root = node;
    while (root.parent !== root) root = root.parent;
    // Path halving keeps later finds short.
    let current = node;
    while (current.parent !== root) {
      const next = current.parent;
      current.parent = root;
      current = next;
    }
    return root;
  }

  const componentOf = (node: Node) => components.get(find(node)) as Component;
  const lookup = (identifier: Identifier) => nodes.get(identifierKey(identifier));

  function register(identifier: Identifier, profileId: string | undefined): Node {
    const existing = lookup(identifier);
    if (existing) return existing;
    const node = { identifier, seq: seq++ } as Node;
    if (profileId !== undefined) node.profileId = profileId;
    node.parent = node;
    nodes.set(identifierKey(identifier), node);
    const userIds = new Set<string>(identifier.type === 'user_id' ? [identifier.value] : []);
    components.set(node, { root: node, members: [node], userIds, counts: new Map([[identifier.type, 1]]) });
    return node;
  }

  const conflicts = (a: Component, b: Component) =>
    a.userIds.size > 0 && b.userIds.size > 0 && [...b.userIds].some((userId) => !a.userIds.has(userId));

  /** The identifier type whose limit joining the two would pass, if any. */
  const overLimit = (a: Component, b: Component) =>
    limits.find(([type, limit]) => (a.counts.get(type) ?? 0) + (b.counts.get(type) ?? 0) > limit);

  function union(a: Component, b: Component): Merge[] {
    const [survivor, loser] = a.root.seq < b.root.seq ? [a, b] : [b, a];
    loser.root.parent = survivor.root;
    components.delete(loser.root);
    survivor.members = mergeBySeq(survivor.members, loser.members);
    for (const userId of loser.userIds) survivor.userIds.add(userId);
    for (const [type, count] of loser.counts) survivor.counts.set(type, (survivor.counts.get(type) ?? 0) + count);
    return [{ loserId: profileIdOfComponent(loser), survivorId: profileIdOfComponent(survivor) }];
  }

  const profileIdOfNode = (node: Node) => node.profileId ?? profileIdOf(node.identifier);

  function profileIdOfComponent(component: Component): string {
    component.profileId ??= profileIdOfNode(component.root);
    return component.profileId;
  }

  function restore(snapshot: GraphSnapshot): void {
    // Seqs are handed out one per new identifier, so a whole graph's rows hold each seq below the counter once.
    if (snapshot.nodes.length !== snapshot.seq)
      throw new Error(`snapshot has ${snapshot.nodes.length} nodes but seq ${snapshot.seq}`);
    const bySeq: Node[] = new Array<Node>(snapshot.seq);
    for (const row of snapshot.nodes) {
      // An erased customer's node keeps its place under a masked identifier that no event carries.
      if (
        !(knownTypes.has(row.type) || (row.type as string) === maskedType) ||
        !Number.isInteger(row.seq) ||
        row.seq < 0 ||
        row.seq >= snapshot.seq ||
        bySeq[row.seq]
      ) {
        throw new Error(`snapshot row ${row.type}:${row.value} (seq ${row.seq}) is not a valid node`);
      }
      bySeq[row.seq] = { identifier: { type: row.type, value: row.value }, seq: row.seq } as Node;
      if (row.profileId) (bySeq[row.seq] as Node).profileId = row.profileId;
    }
    // In seq order each root comes before its members, and members arrive in the seq order components keep.
    const rootSeqs = new Array<number>(snapshot.seq);
    for (const row of snapshot.nodes) rootSeqs[row.seq] = row.rootSeq;
    for (const [nodeSeq, node] of bySeq.entries()) {
      const rootSeq = rootSeqs[nodeSeq] as number;
      const root = bySeq[rootSeq];
      if (rootSeq === nodeSeq) {
        node.parent = node;
        components.set(node, { root: node, members: [node], userIds: new Set(), counts: new Map() });
      } else if (root && rootSeq < nodeSeq && components.has(root)) {
        node.parent = root;
        (components.get(root) as Component).members.push(node);
      } else {
        throw new Error(
          `snapshot row ${node.identifier.type}:${node.identifier.value} (seq ${nodeSeq}) names root seq ${rootSeq}, which is not a root`,
        );
      }
      const component = components.get(node.parent) as Component;
      if (node.identifier.type === 'user_id') component.userIds.add(node.identifier.value);
      component.counts.set(node.identifier.type, (component.counts.get(node.identifier.type) ?? 0) + 1);
      nodes.set(identifierKey(node.identifier), node);
    }
    if (nodes.size !== snapshot.seq) throw new Error('snapshot names an identifier twice');
    seq = snapshot.seq;
    version = snapshot.version;
  }

  if (from) restore(from);

  return {
    apply(identifiers, profileIds) {
      version += 1;
      const outcome: ApplyOutcome = { merges: [], refusals: [] };
      const [first, ...rest] = identifiers.map((identifier, index) => register(identifier, profileIds?.[index]));
      if (!first) return outcome;
      for (const node of rest) {
        const anchor = componentOf(first);
        const other = componentOf(node);
        if (anchor === other) continue;
        if (conflicts(anchor, other)) {
          outcome.refusals.push({
            identifiers: [first.identifier, node.identifier],
            reason: `would join the profiles of userIds ${[...anchor.userIds].join(', ')} and ${[...other.userIds].join(', ')}`,
          });
          continue;
        }
        const passed = overLimit(anchor, other);
        if (passed) {
          outcome.refusals.push({
            identifiers: [first.identifier, node.identifier],
            reason: `would give one profile more than ${passed[1]} identifiers of type ${passed[0]} (CDP_IDENTITY_LIMITS)`,
          });
          continue;
        }
        outcome.merges.push(...union(anchor, other));
      }
      return outcome;
    },
    settled(identifiers) {
      const known = identifiers.map(lookup);
      if (known.some((node) => node === undefined)) return false;
      const [first, ...rest] = known as Node[];
      if (!first) return true;
      return rest.every((node) => {
        const anchor = componentOf(first);
        const other = componentOf(node);
        // Components only grow, so a pair that conflicts (or passes a limit) now does whenever the record is applied.
        return anchor === other || conflicts(anchor, other) || overLimit(anchor, other) !== undefined;
      });
    },
    profileOf(identifier) {
      const node = lookup(identifier);
      return node ? profileIdOfComponent(componentOf(node)) : null;
    },
    profileForEvent(identifiers) {
      const known = identifiers.map(lookup);
      if (known.length === 0 || known.some((node) => node === undefined)) return null;
      const userNode = (known as Node[]).find((node) => node.identifier.type === 'user_id');
      if (userNode) return profileIdOfComponent(componentOf(userNode));
      const oldest = (known as Node[]).reduce((a, b) => (a.seq <= b.seq ? a : b));
      return profileIdOfComponent(componentOf(oldest));
    },
    mergesOf(identifier) {
      const node = lookup(identifier);
      if (!node) return [];
      const component = componentOf(node);
      const survivorId = profileIdOfComponent(component);
      // Every member started a profile of its own when it first appeared; all of them now resolve to the survivor.
      return component.members
        .filter((member) => member !== component.root)
        .map((member) => ({ loserId: profileIdOfNode(member), survivorId }));
    },
    unwrittenMergesOf(identifier) {
      const node = lookup(identifier);
      if (!node) return [];
      const component = componentOf(node);
      const survivorId = profileIdOfComponent(component);
      const pending: PendingMerge[] = [];
      for (const member of component.members) {
        if (member === component.root || member.mergeWritten === survivorId) continue;
        pending.push({
          loserId: profileIdOfNode(member),
          survivorId,
          markWritten: () => {
            member.mergeWritten = survivorId;
          },
        });
      }
      return pending;
    },
    writtenProfileOf(identifier) {
      return lookup(identifier)?.written;
    },
    markWritten(identifier, profileId) {
      const node = lookup(identifier);
      if (node) node.written = profileId;
    },
    snapshot() {
      // Every seq below the counter is one node, so rows go straight to their place: no find(), no sort.
      const rows = new Array<SnapshotNode>(seq);
      for (const component of components.values()) {
        const rootSeq = component.root.seq;
        for (const { identifier, seq: nodeSeq, profileId } of component.members) {
          rows[nodeSeq] = { type: identifier.type, value: identifier.value, seq: nodeSeq, rootSeq };
          if (profileId !== undefined) (rows[nodeSeq] as SnapshotNode).profileId = profileId;
        }
      }
      return { version, seq, nodes: rows };
    },
    get version() {
      return version;
    },
    get size() {
      return nodes.size;
    },
  };
}
