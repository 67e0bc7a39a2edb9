// A segment's audience as CSV: ClickHouse writes each line; Node finishes only traits whose JSON needs JavaScript's reading.
import { named, pagesInKeyOrder, tabSeparatedLines, type ClickHouseClient } from '@cdp/runtime';
import { audienceParams, audienceQuery, streamPageSize, type AudienceOptions } from './audience';
import { parseTraitValue } from './stats';

/**
 * A cell a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading
 * single quote, as OWASP advises, unless it is plain numbers: a phone (+84912345678) or several joined by `;`.
 */
const formulaStart = /^[=+@\t\r-]/;
const plainNumbers = /^[+-]?[0-9]+([.,][0-9]+)?(;[+-]?[0-9]+([.,][0-9]+)?)*$/;
const neutralised = (value: string) => (formulaStart.test(value) && !plainNumbers.test(value) ? `'${value}` : value);

/** A CSV field: neutralised, then quoted when it holds a separator, a quote or a line break (RFC 4180). */
const csvField = (value: string) => {
  const text = neutralised(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** A trait's CSV text: a string as it is, any other JSON value as JSON; empty when missing or null. */
const traitText = (value: unknown) =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);

/** The header line: the identifier columns, then `trait:<key>` for each trait asked for. */
const audienceCsvHeader = (traitKeys: string[]) =>
  `${['profileId', 'userId', 'emails', 'phones', 'anonymousIds', ...traitKeys.map((key) => `trait:${key}`)].map(csvField).join(',')}\r\n`;

/** neutralised in SQL: the same two patterns (ClickHouse turns `\\t` and `\\r` into the characters re2 matches). */
const sqlNeutralised = (field: string) =>
  String.raw`if(match(${field}, '^[=+@\\t\\r-]') AND NOT match(${field}, '^[+-]?[0-9]+([.,][0-9]+)?(;[+-]?[0-9]+([.,][0-9]+)?)*$'), concat('''', ${field}), ${field})`;

/** csvField in SQL (the pattern reaches re2 as `[",\r\n]`). */
const sqlCsvField = (field: string) => {
  const text = sqlNeutralised(field);
  return String.raw`if(match(${text}, '[",\\r\\n]'), concat('"', replaceAll(${text}, '"', '""'), '"'), ${text})`;
};

/** The page's raw JSON value of each trait asked for, in that order; '' when the member has none. */
const rawTraits = 'arrayMap((key) -> trait.values[indexOf(trait.keys, key)], {traitKeys:Array(String)})';

// traitText of a raw JSON value where it is plain text: '' for a missing trait or null; a string without escapes or
// control characters without its quotes; true, false and integers of up to 15 digits as they are (JSON.parse then
// JSON.stringify gives them back unchanged; -0 would not). NULL for every other value: Node reads those.
const sqlTraitTexts = String.raw`arrayMap((raw) -> multiIf(
    raw IN ('', 'null'), '',
    match(raw, '^"[^"\\\\\\x00-\\x1f]*"$'), substring(raw, 2, length(raw) - 2),
    raw IN ('true', 'false') OR match(raw, '^(0|-?[1-9][0-9]{0,14})$'), raw,
    NULL), ${rawTraits})`;
const readInNode = `arrayExists((text) -> isNull(text), ${sqlTraitTexts})`;

/**
 * Per member (TabSeparated): its profile id; its CSV line without the line break, or only its identifier fields when
 * a trait is read in Node; and then the raw trait values as a JSON array, else ''.
 */
const csvQuery = audienceQuery(`member.profile_id,
  arrayStringConcat(arrayMap((field) -> ${sqlCsvField('field')}, arrayConcat(
    [member.profile_id, identity.user_ids[1], arrayStringConcat(identity.emails, ';'), arrayStringConcat(identity.phones, ';'),
      arrayStringConcat(identity.anonymous_ids, ';')],
    if(${readInNode}, [], arrayMap((text) -> assumeNotNull(text), ${sqlTraitTexts})))), ','),
  if(${readInNode}, toJSONString(${rawTraits}), '')`);

interface CsvRow {
  profileId: string;
  line: string;
}

/** A member's line from its TabSeparated row, with the traits ClickHouse left to JavaScript appended. */
function csvRow([profileId = '', line = '', rawTraitsJson = '']: string[]): CsvRow {
  if (rawTraitsJson === '') return { profileId, line: `${line}\r\n` };
  const fields = (JSON.parse(rawTraitsJson) as string[]).map((raw) => csvField(traitText(parseTraitValue(raw))));
  return { profileId, line: `${[line, ...fields].join(',')}\r\n` };
}

async function readCsvPage(
  client: ClickHouseClient,
  options: AudienceOptions & { after: string; limit: number },
): Promise<CsvRow[]> {
  const result = await client.query(
    named('profiles.readAudienceCsvPage', {
      query: csvQuery,
      query_params: { ...audienceParams(options), after: options.after, limit: options.limit },
      format: 'TabSeparated',
    }),
  );
  return tabSeparatedLines(await result.text()).map(csvRow);
}

/** The header, then every member's line, a page of lines at a time in profile id order (as pages of streamAudience). */
export async function* streamAudienceCsv(client: ClickHouseClient, options: AudienceOptions): AsyncGenerator<string> {
  yield audienceCsvHeader(options.traitKeys);
  const read = (after: string, limit: number) => readCsvPage(client, { ...options, after, limit });
  for await (const rows of pagesInKeyOrder(read, (row) => row.profileId, streamPageSize))
    yield rows.map((row) => row.line).join('');
}
