// Destination definitions in ClickHouse (`destinations`, 0026): list, read, save, delete; secrets sealed at rest.
import { randomBytes } from 'node:crypto';
import { fromClickHouseTime, named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import type { DestinationBody, Trigger } from '@cdp/schemas';
import type { SecretBox } from './secrets';

/** A destination as the API shows it: everything but the secret. */
export interface Destination {
  id: string;
  name: string;
  kind: 'webhook';
  url: string;
  headers: Record<string, string>;
  template: string | null;
  traits: string[] | null;
  batch: number;
  ratePerSecond: number;
  status: 'active' | 'paused';
  triggers: Trigger[];
  createdAt: string;
  updatedAt: string;
}

/** A destination with its secret opened: for signing only, never answered or logged. */
export interface SigningDestination extends Destination {
  secret: string;
}

export interface DestinationStore {
  list(): Promise<SigningDestination[]>;
  get(id: string): Promise<SigningDestination | null>;
  /** Creates (no id) or replaces a definition; returns it as stored. */
  save(body: DestinationBody, id?: string): Promise<SigningDestination>;
  remove(id: string): Promise<boolean>;
  /** Called after every save or removal in this process (caches drop what they hold). */
  onChange(listener: () => void): void;
}

interface Row {
  id: string;
  name: string;
  kind: string;
  url: string;
  headers: string;
  secret_encrypted: string;
  template: string;
  traits: string;
  batch: number;
  rate_per_second: number;
  status: string;
  triggers: string;
  created_at: string;
  updated_at: string;
}

export const newDestinationId = () => `dst_${randomBytes(8).toString('hex')}`;

/** What an answer shows for a header's value: values often carry a receiver's credentials, written but never read back. */
export const hiddenHeaderValue = '********';

/** Only the fields named here reach an answer, header values hidden: a new column cannot leak by accident. */
export function publicView(destination: Destination): Destination {
  const {
    id,
    name,
    kind,
    url,
    headers,
    template,
    traits,
    batch,
    ratePerSecond,
    status,
    triggers,
    createdAt,
    updatedAt,
  } = destination;
  return {
    id,
    name,
    kind,
    url,
    headers: Object.fromEntries(Object.keys(headers).map((header) => [header, hiddenHeaderValue])),
    template,
    traits,
    batch,
    ratePerSecond,
    status,
    triggers,
    createdAt,
    updatedAt,
  };
}

const selectLive = `SELECT id, name, kind, url, headers, secret_encrypted, template, traits, batch, rate_per_second, status, triggers,
  toString(created_at) AS created_at, toString(updated_at) AS updated_at FROM destinations FINAL WHERE deleted = 0`;

export function createDestinationStore(client: ClickHouseClient, box: SecretBox): DestinationStore {
  let lastVersion = 0;
  const nextVersion = () => (lastVersion = Math.max(Date.now(), lastVersion + 1));
  const listeners: Array<() => void> = [];
  const changed = () => listeners.forEach((listener) => listener());

  const toDestination = (row: Row): SigningDestination => ({
    id: row.id,
    name: row.name,
    kind: 'webhook',
    url: row.url,
    // Sealed like the secret; a row written before header values were sealed holds them as plain JSON.
    headers: JSON.parse(row.headers.startsWith('{') ? row.headers : box.open(row.headers)) as Record<string, string>,
    template: row.template === '' ? null : row.template,
    traits: row.traits === '' ? null : (JSON.parse(row.traits) as string[]),
    batch: Number(row.batch),
    ratePerSecond: Number(row.rate_per_second),
    status: row.status === 'paused' ? 'paused' : 'active',
    triggers: JSON.parse(row.triggers) as Trigger[],
    createdAt: new Date(fromClickHouseTime(row.created_at)).toISOString(),
    updatedAt: new Date(fromClickHouseTime(row.updated_at)).toISOString(),
    secret: box.open(row.secret_encrypted),
  });

  async function rows(where: string, params: Record<string, unknown>): Promise<Row[]> {
    const result = await client.query(
      named('destinations.readDefinitions', {
        query: `${selectLive}${where} ORDER BY name, id`,
        query_params: params,
        format: 'JSONEachRow',
      }),
    );
    return result.json<Row>();
  }

  async function write(row: Omit<Row, 'updated_at'>, deleted: number): Promise<number> {
    const version = nextVersion();
    await client.insert(
      named('destinations.writeDefinition', {
        table: 'destinations',
        values: [{ ...row, deleted, updated_at: toClickHouseTime(version), version }],
        format: 'JSONEachRow',
      }),
    );
    changed();
    return version;
  }

  return {
    async list() {
      return (await rows('', {})).map(toDestination);
    },
    async get(id) {
      const [row] = await rows(' AND id = {id:String}', { id });
      return row ? toDestination(row) : null;
    },
    async save(body, givenId) {
      const id = givenId ?? newDestinationId();
      const [existing] = givenId ? await rows(' AND id = {id:String}', { id }) : [];
      const row: Omit<Row, 'updated_at'> = {
        id,
        name: body.name,
        kind: body.kind,
        url: body.url,
        headers: box.seal(JSON.stringify(body.headers)),
        secret_encrypted: box.seal(body.secret),
        template: body.template ?? '',
        traits: body.traits ? JSON.stringify(body.traits) : '',
        batch: body.batch,
        rate_per_second: body.ratePerSecond,
        status: body.status,
        triggers: JSON.stringify(body.triggers),
        created_at: existing?.created_at ?? toClickHouseTime(Date.now()),
      };
      const version = await write(row, 0);
      return toDestination({ ...row, updated_at: toClickHouseTime(version) });
    },
    async remove(id) {
      const [existing] = await rows(' AND id = {id:String}', { id });
      if (!existing) return false;
      await write(existing, 1);
      return true;
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
