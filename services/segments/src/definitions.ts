// Segment definitions in ClickHouse (`segments`, 0013): list, read, save and delete, and their current sizes.
import { randomBytes } from 'node:crypto';
import { segmentSizes, segmentsWithMembers } from '@cdp/profiles';
import { fromClickHouseTime, named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';

export type SegmentKind = 'builtin' | 'custom';

export interface SegmentDefinition {
  id: string;
  name: string;
  kind: SegmentKind;
  rule: SegmentRule;
  /** ISO instant of the last change. */
  updatedAt: string;
}

export interface SegmentStore {
  list(): Promise<SegmentDefinition[]>;
  get(id: string): Promise<SegmentDefinition | null>;
  /** Creates (no id) or replaces a definition; returns it as stored. */
  save(definition: { id?: string; name: string; kind: SegmentKind; rule: SegmentRule }): Promise<SegmentDefinition>;
  remove(id: string): Promise<void>;
  /** Current member count per segment id, as the last evaluation left it. */
  sizes(): Promise<Map<string, number>>;
  /** Deleted segments that still have members (their exits are not evaluated yet). */
  deletedWithMembers(): Promise<string[]>;
  /** Changes whenever any definition is saved or deleted: the evaluator polls it to re-evaluate at once. */
  changeMark(): Promise<string>;
}

interface Row {
  id: string;
  name: string;
  kind: SegmentKind;
  rule: string;
  created_at: string;
  updated_at: string;
}

export const newSegmentId = () => `seg_${randomBytes(8).toString('hex')}`;

const toDefinition = (row: Row): SegmentDefinition => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  rule: JSON.parse(row.rule) as SegmentRule,
  updatedAt: new Date(fromClickHouseTime(row.updated_at)).toISOString(),
});

const selectLive = `SELECT id, name, kind, rule, toString(created_at) AS created_at, toString(updated_at) AS updated_at FROM segments FINAL WHERE deleted = 0`;

export function createSegmentStore(client: ClickHouseClient): SegmentStore {
  // Versions only grow, also for two writes in one millisecond; across processes the clock orders them.
  let lastVersion = 0;
  const nextVersion = () => (lastVersion = Math.max(Date.now(), lastVersion + 1));

  async function rows(where: string, params: Record<string, unknown>): Promise<Row[]> {
    const result = await client.query(
      named('segments.readDefinitions', {
        query: `${selectLive}${where} ORDER BY kind, name, id`,
        query_params: params,
        format: 'JSONEachRow',
      }),
    );
    return result.json<Row>();
  }

  async function write(row: Omit<Row, 'updated_at'> & { deleted: number }): Promise<number> {
    const version = nextVersion();
    await client.insert(
      named('segments.writeDefinition', {
        table: 'segments',
        values: [{ ...row, updated_at: toClickHouseTime(version), version }],
        format: 'JSONEachRow',
      }),
    );
    return version;
  }

  return {
    async list() {
      return (await rows('', {})).map(toDefinition);
    },
    async get(id) {
      const [row] = await rows(' AND id = {id:String}', { id });
      return row ? toDefinition(row) : null;
    },
    async save(definition) {
      const id = definition.id ?? newSegmentId();
      const [existing] = definition.id ? await rows(' AND id = {id:String}', { id }) : [];
      const createdAt = existing?.created_at ?? toClickHouseTime(Date.now());
      const rule = JSON.stringify(definition.rule);
      const version = await write({
        id,
        name: definition.name,
        kind: definition.kind,
        rule,
        created_at: createdAt,
        deleted: 0,
      });
      return {
        id,
        name: definition.name,
        kind: definition.kind,
        rule: definition.rule,
        updatedAt: new Date(version).toISOString(),
      };
    },
    async remove(id) {
      const [existing] = await rows(' AND id = {id:String}', { id });
      if (existing) await write({ ...existing, deleted: 1 });
    },
    sizes: () => segmentSizes(client),
    async deletedWithMembers() {
      const result = await client.query(
        named('segments.readDeletedWithMembers', {
          query: `SELECT id FROM segments FINAL WHERE deleted = 1 AND id IN ${segmentsWithMembers}`,
          format: 'JSONEachRow',
        }),
      );
      return (await result.json<{ id: string }>()).map((row) => row.id);
    },
    async changeMark() {
      const result = await client.query(
        named('segments.readChangeMark', {
          query: 'SELECT toString(max(version)) AS mark, toString(count()) AS rows FROM segments',
          format: 'JSONEachRow',
        }),
      );
      const [row] = await result.json<{ mark: string; rows: string }>();
      return `${row?.mark ?? '0'}:${row?.rows ?? '0'}`;
    },
  };
}
