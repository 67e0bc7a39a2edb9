// CSV exports open safely in a spreadsheet: a cell that would run as a formula gets a leading quote, in the cells
// ClickHouse writes and in the traits Node finishes alike; phones and plain numbers stay as they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { send } from '../harness/http';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

describe('CSV formula injection', () => {
  let cdp: TestPlatform;
  beforeAll(async () => {
    cdp = await startTestPlatform('embedded', { CDP_SEGMENTS_INTERVAL_MS: '1000' });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('neutralises =, +, -, @, tab and carriage-return cells in both CSV paths', async () => {
    const cohort = uniqueName('cohort');
    const userId = `=HYPERLINK("http://evil.example","${uniqueName('x')}")`;
    const anonymousId = `-2+3+cmd|' /C calc'!A0${uniqueName('')}`;
    const batch = [
      // `plan` is plain text (ClickHouse writes it); `note` holds an escaped quote, so Node reads it.
      { type: 'identify', userId, anonymousId, traits: { cohort, phone: '+84 912 345 678', plan: '@SUM(A1:A9)', note: '+1+"quoted"', score: -5 } },
      // Every trait plain text: ClickHouse writes the whole line.
      { type: 'identify', userId: `plain-${cohort}`, traits: { cohort, plan: '=1+1', note: '\tindented', score: 7 } },
    ];
    expect((await send(cdp.url, '/v1/batch', { batch }, { writeKey: cdp.writeKey })).status).toBe(200);
    const created = await fetch(`${cdp.url}/v1/segments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cdp.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cohort', rule: { trait: 'cohort', equals: cohort } }),
    });
    const { id } = (await created.json()) as { id: string };
    const csv = async () => {
      const response = await fetch(`${cdp.url}/v1/segments/${id}/members?traits=plan,note,score`, { headers: { authorization: `Bearer ${cdp.readKey}`, accept: 'text/csv' } });
      return (await response.text()).split('\r\n').filter(Boolean);
    };
    const lines = await waitFor(async () => {
      const read = await csv();
      return read.length === 3 ? read : undefined;
    }, { timeoutMs: 60_000, what: 'the member in the export' });
    const cells = lines.find((line) => line.includes('HYPERLINK')) as string;
    expect(lines.find((line) => line.includes(`plain-${cohort}`))).toMatch(/,'=1\+1,'\tindented,7$/);
    expect(cells).toContain(`"'=HYPERLINK(""http://evil.example"",""`);
    expect(cells).toContain(`,+84912345678,`);
    expect(cells).toContain(`,'${anonymousId},`);
    expect(cells).toContain(`,'@SUM(A1:A9),`);
    expect(cells).toContain(`,"'+1+""quoted""",`);
    expect(cells.endsWith(',-5')).toBe(true);
    // No cell of the line starts a formula.
    for (const cell of cells.split(',')) expect(cell.replace(/^"/, ''), cell).not.toMatch(/^[=+@\t\r-](?![0-9.]+$)/);
  });
});
