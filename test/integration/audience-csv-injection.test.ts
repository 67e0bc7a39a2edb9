// CSV exports open safely in a spreadsheet: a cell that would run as a formula gets a leading quote, in the cells
// ClickHouse writes and in the traits Node finishes alike; phones and plain numbers stay as they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor } from '@cdp/runtime';
import { send } from '../harness/http';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

/** The cells of each line, read as RFC 4180 says: a quoted cell may hold commas, doubled quotes and line breaks. */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charAt(index);
    if (quoted && char === '"' && text.charAt(index + 1) === '"') {
      cell += '"';
      index += 1;
    } else if (char === '"' && (quoted || cell === '')) {
      quoted = !quoted;
    } else if (!quoted && char === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && char === '\r' && text.charAt(index + 1) === '\n') {
      rows.push([...row, cell]);
      row = [];
      cell = '';
      index += 1;
    } else {
      cell += char;
    }
  }
  return rows;
}

describe('CSV formula injection', () => {
  let cdp: TestPlatform;
  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', { CDP_SEGMENTS_INTERVAL_MS: '1000' });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('quotes identifier and trait cells that start like a formula, in lines ClickHouse writes and lines Node finishes', async () => {
    const tag = uniqueName('x');
    const cohort = uniqueName('cohort');
    // Plain text (no quote, backslash or control character): ClickHouse writes these on a line no trait sends to Node.
    const formulas = { eq: `=cmd|' /C calc'!A0`, plus: '+1+1', minus: '-2+3', at: '@SUM(1+1)*cmd|' };
    const traitKeys = ['eq', 'plus', 'minus', 'at', 'tab', 'cr', 'score'];
    // ClickHouse writes every identifier cell. `inClickHouse`: every trait plain text or a small integer, so ClickHouse
    // writes its whole line. `inNode`: its tab and carriage-return traits are JSON escapes, so Node writes all its traits.
    const inClickHouse = {
      userId: `=HYPERLINK("http://evil.example","${tag}")`,
      anonymousId: `@SUM(1+1)${tag}`,
      email: `-2+3.${tag}@evil.example`,
    };
    const inNode = {
      userId: `+1+cmd|' /C calc'!A0 ${tag}`,
      anonymousId: `-1+cmd${tag}`,
      email: `=1+2.${tag}@evil.example`,
    };
    const batch = [
      {
        type: 'identify',
        userId: inClickHouse.userId,
        anonymousId: inClickHouse.anonymousId,
        traits: { cohort, email: inClickHouse.email, phone: '+84 912 345 678', ...formulas, score: -5 },
      },
      {
        type: 'identify',
        userId: inNode.userId,
        anonymousId: inNode.anonymousId,
        traits: { cohort, email: inNode.email, ...formulas, tab: '\t=1+1', cr: '\r=1+1', score: -5 },
      },
    ];
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    const created = await fetch(`${cdp.url}/v1/segments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cohort', rule: { trait: 'cohort', equals: cohort } }),
    });
    const { id } = (await created.json()) as { id: string };
    const csv = async () => {
      const response = await fetch(`${cdp.url}/v1/segments/${id}/members?traits=${traitKeys.join(',')}`, {
        headers: { authorization: `Bearer ${cdp.readKey}`, accept: 'text/csv' },
      });
      return response.text();
    };
    const text = await waitFor(
      async () => {
        // A member's identifiers are stored after the traits that made it one: wait for both userIds too.
        const read = await csv();
        const userIds = csvRows(read).map((row) => row[1]);
        return userIds.includes(`'${inClickHouse.userId}`) && userIds.includes(`'${inNode.userId}`) ? read : undefined;
      },
      { timeoutMs: 60_000, what: 'both members in the export, with their userIds' },
    );
    const rows = csvRows(text);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual([
      'profileId',
      'userId',
      'emails',
      'phones',
      'anonymousIds',
      ...traitKeys.map((key) => `trait:${key}`),
    ]);
    const rowOf = (userId: string) => rows.find((row) => row[1] === `'${userId}`) as string[];

    // The same traits in both kinds of line: the same cells.
    const formulaCells = [`'=cmd|' /C calc'!A0`, `'+1+1`, `'-2+3`, `'@SUM(1+1)*cmd|`];
    const clickHouseRow = rowOf(inClickHouse.userId);
    expect(clickHouseRow.slice(1)).toEqual([
      `'${inClickHouse.userId}`,
      `'${inClickHouse.email}`,
      '+84912345678',
      `'${inClickHouse.anonymousId}`,
      ...formulaCells,
      '',
      '',
      '-5',
    ]);
    expect(rowOf(inNode.userId).slice(1)).toEqual([
      `'${inNode.userId}`,
      `'${inNode.email}`,
      '',
      `'${inNode.anonymousId}`,
      ...formulaCells,
      `'\t=1+1`,
      `'\r=1+1`,
      '-5',
    ]);
    // The quote goes inside the field, before RFC 4180 quoting doubles the field's own quotes.
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example"",""${tag}"")",`);
    expect(text).toContain(`,"'\r=1+1",`);

    // Ingest trims ids and an email holds no space, so no identifier starts with a tab or a carriage return; one stored
    // by another writer is neutralised in ClickHouse's cells too.
    const profileId = clickHouseRow[0] as string;
    await cdp.platform.clickhouse.client.insert(
      named('test.insertIdentifiers', {
        table: 'profile_identifiers',
        values: [
          { profile_id: profileId, type: 'user_id', value: `\t=1+1${tag}` },
          { profile_id: profileId, type: 'anonymous_id', value: `\r=1+1${tag}` },
        ],
        format: 'JSONEachRow',
      }),
    );
    const stored = csvRows(await csv()).find((row) => row[0] === profileId) as string[];
    expect(stored.slice(1, 5)).toEqual([
      `'\t=1+1${tag}`,
      `'${inClickHouse.email}`,
      '+84912345678',
      `'\r=1+1${tag};${inClickHouse.anonymousId}`,
    ]);
  });
});
