// The Grafana dashboards against the real platform: every panel's data source is provisioned, every metric a PromQL
// query names is exported, and every SQL query runs on the platform's ClickHouse and agrees with the analytics API.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { named, waitFor } from '@cdp/runtime';
import { startTestPlatform, type TestPlatform } from '../harness/platform';
import { read } from '../harness/http';
import { loadDemo } from '../clients/store';

const root = new URL('../../', import.meta.url);
const readText = (file: string) => readFileSync(new URL(file, root), 'utf8');
// Merge keys on: the compose file shares one definition among the cdp services with `<<: *service`.
const readYaml = (file: string) => parse(readText(file), { merge: true }) as Record<string, unknown>;

interface DataSourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId: string;
  datasource?: DataSourceRef;
  expr?: string;
  rawSql?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRef;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const dashboardFiles = ['dashboards/grafana/operations.json', 'dashboards/grafana/business.json'];
const dashboards = Object.fromEntries(dashboardFiles.map((file) => [file, JSON.parse(readText(file)) as Dashboard]));
const operations = dashboards['dashboards/grafana/operations.json'] as Dashboard;
const business = dashboards['dashboards/grafana/business.json'] as Dashboard;

/** Every panel that queries, rows' nested panels included. */
const queryPanelsOf = (dashboard: Dashboard): Panel[] =>
  dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== 'row');

const targetsOf = (dashboard: Dashboard) =>
  queryPanelsOf(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));

// PromQL words that are not metric names: aggregation operators (which may be followed by `by (…)` before their
// parenthesis), binary operators and modifiers.
const promqlKeywords = new Set([
  ...[
    'sum',
    'min',
    'max',
    'avg',
    'count',
    'stddev',
    'stdvar',
    'topk',
    'bottomk',
    'quantile',
    'count_values',
    'group',
    'limitk',
    'limit_ratio',
  ],
  ...[
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'bool',
    'and',
    'or',
    'unless',
    'offset',
    'atan2',
    'le',
    'inf',
    'nan',
  ],
]);
const labelListModifiers = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const isQuote = (char: string) => char === '"' || char === "'" || char === '`';

/** Index of the quote closing the one at `start` (escaped quotes are not needed by the dashboards). */
function closingQuote(expr: string, start: number): number {
  const end = expr.indexOf(expr[start] as string, start + 1);
  if (end < 0) throw new Error(`unterminated string in ${expr}`);
  return end;
}

/** Index just past the bracket closing the one at `start`, skipping quoted strings. */
function skipBracketed(expr: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let index = start; index < expr.length; index += 1) {
    const char = expr[index] as string;
    if (isQuote(char)) index = closingQuote(expr, index);
    else if (char === open) depth += 1;
    else if (char === close && --depth === 0) return index + 1;
  }
  throw new Error(`unbalanced ${open} in ${expr}`);
}

/** The metric names a PromQL expression selects: identifiers not called as functions, outside label matchers and ranges. */
function metricNamesOf(expr: string): string[] {
  const names = new Set<string>();
  let index = 0;
  while (index < expr.length) {
    const char = expr[index] as string;
    if (char === '{') index = skipBracketed(expr, index, '{', '}');
    else if (char === '[') index = skipBracketed(expr, index, '[', ']');
    else if (isQuote(char)) index = closingQuote(expr, index) + 1;
    // A number, or a duration (`offset 1h30m`), whose unit letters are no name.
    else if (/[0-9.]/.test(char))
      index += /^(0x[0-9a-f]+|[0-9.]+(e[+-]?[0-9]+)?(ms|[smhdwy])*)/i.exec(expr.slice(index))?.[0].length ?? 1;
    else if (/[a-zA-Z_:]/.test(char)) {
      const word = (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(index)) as RegExpExecArray)[0];
      index += word.length;
      const next = /^\s*(.)/.exec(expr.slice(index))?.[1];
      // PromQL keywords are case-insensitive (`SUM BY (le)`), metric names are not.
      const keyword = word.toLowerCase();
      if (labelListModifiers.has(keyword) && next === '(')
        index = skipBracketed(expr, expr.indexOf('(', index), '(', ')');
      else if (!promqlKeywords.has(keyword) && next !== '(') names.add(word);
    } else index += 1;
  }
  return [...names];
}

/** The names of the series in a Prometheus text exposition (sample lines only: a name with no series is absent). */
const seriesNamesOf = (exposition: string) =>
  new Set(
    exposition
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line) as RegExpExecArray)[0]),
  );

const clickhouseTime = (ms: number) =>
  `toDateTime64('${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}', 3, 'UTC')`;

/** The plugin's macros written out as plain ClickHouse for one range (half-open) and daily intervals. */
function expandMacros(sql: string, range: { fromMs: number; toMs: number }): string {
  const from = clickhouseTime(range.fromMs);
  const to = clickhouseTime(range.toMs);
  const expanded = sql
    .replace(/\$__timeFilter\(([^()]+)\)/g, (_match, column: string) => `(${column} >= ${from} AND ${column} < ${to})`)
    .replace(
      /\$__timeInterval\(([^()]+)\)/g,
      (_match, column: string) => `toStartOfInterval(${column}, INTERVAL 1 day)`,
    )
    .replaceAll('$__fromTime', from)
    .replaceAll('$__toTime', to);
  if (expanded.includes('$')) throw new Error(`a macro or variable is left in ${expanded}`);
  return expanded;
}

describe('the Grafana provisioning', () => {
  const datasources = (readYaml('infra/grafana/provisioning/datasources/datasources.yml').datasources ?? []) as Array<
    Record<string, unknown>
  >;
  const provisioned = new Map(datasources.map((source) => [source.uid as string, source]));
  interface ComposeService {
    build?: { dockerfile?: string };
    environment?: Record<string, unknown>;
    volumes?: string[];
    ports?: string[];
  }
  const compose = readYaml('infra/docker-compose.yml') as { services: Record<string, ComposeService> };

  it('provisions the Prometheus and ClickHouse data sources the dashboards name, the ClickHouse one as compose runs it', () => {
    expect(provisioned.get('prometheus')).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const clickhouse = compose.services.clickhouse;
    expect(provisioned.get('clickhouse')).toMatchObject({
      type: 'grafana-clickhouse-datasource',
      jsonData: {
        host: 'clickhouse',
        port: 8123,
        protocol: 'http',
        username: clickhouse?.environment?.CLICKHOUSE_USER,
        defaultDatabase: 'cdp',
      },
      secureJsonData: { password: clickhouse?.environment?.CLICKHOUSE_PASSWORD },
    });
    expect(compose.services.grafana?.environment?.GF_INSTALL_PLUGINS).toContain('grafana-clickhouse-datasource');
  });

  it('parses every dashboard, and gives every panel and target a provisioned data source of its type', () => {
    for (const [file, dashboard] of Object.entries(dashboards)) {
      const panels = queryPanelsOf(dashboard);
      expect(panels.length, file).toBeGreaterThan(5);
      for (const panel of panels) {
        expect(panel.targets?.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
        for (const ref of [panel.datasource, ...(panel.targets ?? []).map((target) => target.datasource)]) {
          const source = provisioned.get(ref?.uid ?? '');
          expect(source, `${file}: ${panel.title} names data source ${JSON.stringify(ref)}`).toBeDefined();
          expect(ref?.type, `${file}: ${panel.title}`).toBe(source?.type);
        }
      }
    }
    expect(new Set(targetsOf(operations).map(({ target }) => target.datasource?.uid))).toEqual(new Set(['prometheus']));
    expect(new Set(targetsOf(business).map(({ target }) => target.datasource?.uid))).toEqual(new Set(['clickhouse']));
  });

  it('loads the dashboards from where compose mounts dashboards/grafana, and scrapes the services compose runs', () => {
    const providers = (readYaml('infra/grafana/provisioning/dashboards/dashboards.yml').providers ?? []) as Array<{
      type: string;
      options: { path: string };
    }>;
    const mounts = (compose.services.grafana?.volumes ?? []).map((volume) => volume.split(':'));
    const dashboardsMount = mounts.find(([source]) => source === '../dashboards/grafana');
    expect(providers).toEqual([
      expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: dashboardsMount?.[1] }) }),
    ]);
    expect(mounts.find(([source]) => source === './grafana/provisioning')?.[1]).toBe('/etc/grafana/provisioning');
    expect(compose.services.grafana?.ports).toContain('3000:3000');

    const prometheus = readYaml('infra/prometheus/prometheus.yml') as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const scraped = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((config) => config.targets));
    // Every container running the platform's image, on the port it serves HTTP on (PORT, 8080 by default).
    const cdpServices = Object.entries(compose.services).filter(
      ([, service]) => service.build?.dockerfile === 'infra/Dockerfile',
    );
    expect(cdpServices.map(([name]) => name).sort()).toEqual(['ingest', 'query-api', 'resolver', 'segments']);
    expect(scraped.sort()).toEqual(
      cdpServices.map(([name, service]) => `${name}:${String(service.environment?.PORT ?? 8080)}`).sort(),
    );
    const prometheusMount = (compose.services.prometheus?.volumes ?? []).find((volume) =>
      volume.startsWith('./prometheus/prometheus.yml:'),
    );
    expect(prometheusMount).toBe('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('runs every service with keys the caller must set, and publishes the stores on this host only', () => {
    const cdpServices = Object.entries(compose.services).filter(
      ([, service]) => service.build?.dockerfile === 'infra/Dockerfile',
    );
    for (const [name, service] of cdpServices) {
      for (const key of ['CDP_WRITE_KEY', 'CDP_READ_KEY', 'CDP_ADMIN_KEY'])
        expect(String(service.environment?.[key]), `${name} ${key}`).toMatch(new RegExp(`^\\$\\{${key}:\\?`));
    }
    for (const store of ['kafka', 'clickhouse', 'prometheus']) {
      for (const port of compose.services[store]?.ports ?? []) expect(port, store).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('reads metric names out of PromQL, not functions, keywords, labels or ranges', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route!~"/metrics|x"}[$__rate_interval])))',
      ),
    ).toEqual(['a_bucket']);
    expect(metricNamesOf('sum(min by (partition) (lag)) / on (job) group_left (x) b or vector(0)')).toEqual([
      'lag',
      'b',
    ]);
    expect(metricNamesOf('c offset 1h30m > 1e3 and d @ start() unless e > Inf')).toEqual(['c', 'd', 'e']);
  });
});

describe('the Grafana dashboards on the embedded runtime with demo data', () => {
  let cdp: TestPlatform;
  let exposition = '';
  const dayMs = 86_400_000;
  const today = Math.floor(Date.now() / dayMs) * dayMs;
  // Whole UTC days covering the demo's history and today.
  const range = { fromMs: today - 400 * dayMs, toMs: today + 2 * dayMs };
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

  beforeAll(async () => {
    // A small snapshot interval so the identity-graph snapshot counter has series too.
    cdp = await startTestPlatform('embedded', { CDP_SEGMENTS_INTERVAL_MS: '500', CDP_RESOLVER_SNAPSHOT_EVERY: '100' });
    await loadDemo(cdp, { customers: 150, months: 3, seed: 7 });
    const bad = await fetch(`${cdp.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    // A pass that started after every message was stored has rolled them up.
    const passesBefore = (await scrape()).match(/^cdp_segments_evaluation_seconds_count (\d+)/m)?.[1] ?? '0';
    exposition = await waitFor(
      async () => {
        const text = await scrape();
        const passes = Number(/^cdp_segments_evaluation_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
        return passes >= Number(passesBefore) + 2 && /^cdp_segments_evaluations_total\{outcome="ok"\} [1-9]/m.test(text)
          ? text
          : undefined;
      },
      { timeoutMs: 60_000, what: 'two segment evaluations after the demo was stored' },
    );
  });
  afterAll(async () => {
    await cdp?.close();
  });

  async function scrape(): Promise<string> {
    return (await fetch(`${cdp.url}/metrics`)).text();
  }

  async function rowsOf(sql: string): Promise<Array<Record<string, unknown>>> {
    const result = await cdp.platform.clickhouse.client.query(
      named('test.runPanelQuery', { query: expandMacros(sql, range), format: 'JSONEachRow' }),
    );
    return result.json<Record<string, unknown>>();
  }

  /** The one SQL query of the business panel with this title. */
  function sqlOf(title: string): string {
    const panel = queryPanelsOf(business).find((candidate) => candidate.title === title);
    const [target, ...others] = panel?.targets ?? [];
    if (!target?.rawSql || others.length > 0) throw new Error(`no single SQL query in the panel ${title}`);
    return target.rawSql;
  }

  const number = (value: unknown) => (value === null ? null : Number(value));

  it('names only metrics the platform exports, histogram series included', () => {
    const exported = seriesNamesOf(exposition);
    const targets = targetsOf(operations);
    expect(targets.length).toBeGreaterThan(20);
    const named = new Set(targets.flatMap(({ target }) => metricNamesOf(target.expr ?? '')));
    for (const name of [
      'cdp_resolver_lag_records',
      'cdp_resolver_freshness_seconds_bucket',
      'cdp_segments_evaluation_seconds_bucket',
      'cdp_http_request_duration_seconds_bucket',
      'cdp_clickhouse_query_seconds_bucket',
    ]) {
      expect(named).toContain(name);
    }
    const missing = [...named].filter((name) => !exported.has(name));
    expect(missing, 'metrics named by the operations dashboard but absent from /metrics').toEqual([]);
    // The resolver has written every partition it was given and read the log's end offsets for the lag.
    expect(exposition).toMatch(/^cdp_resolver_lag_records\{partition="\d+"\} 0$/m);
  });

  it('runs every SQL query of the business dashboard on ClickHouse, each returning rows', async () => {
    const targets = targetsOf(business);
    expect(targets.length).toBeGreaterThan(8);
    for (const { panel, target } of targets) {
      const rows = await rowsOf(target.rawSql ?? '').catch((error: unknown) => {
        throw new Error(`${panel.title}: ${String(error)}`);
      });
      expect(rows.length, panel.title).toBeGreaterThan(0);
      expect(
        Object.values(rows[0] ?? {}).some((value) => value !== null && Number(value) !== 0),
        `${panel.title} has some non-zero value`,
      ).toBe(true);
    }
  });

  it('answers the KPIs the analytics API answers for the same range', async () => {
    const answer = await read(
      cdp.url,
      `/v1/analytics/kpis?from=${day(range.fromMs)}&to=${day(range.toMs)}&tz=UTC`,
      cdp.readKey,
    );
    expect(answer.status).toBe(200);
    const totals = answer.body.totals as Record<string, number | null>;
    expect(totals.orders).toBeGreaterThan(50);
    expect(totals.tickets).toBeGreaterThan(5);

    const [active] = await rowsOf(sqlOf('Active customers'));
    expect(number(active?.active_customers)).toBe(totals.activeCustomers);
    const [orders] = await rowsOf(sqlOf('Orders'));
    expect(number(orders?.orders)).toBe(totals.orders);
    expect(number(orders?.revenue)).toBe(totals.revenue);
    expect(number(orders?.aov)).toBeCloseTo(totals.aov as number, 3);
    expect(sqlOf('Revenue')).toBe(sqlOf('Orders'));
    expect(sqlOf('Average order value')).toBe(sqlOf('Orders'));

    const series = await rowsOf(sqlOf('Orders and revenue'));
    expect(series.length).toBeGreaterThan(30);
    expect(series.reduce((sum, row) => sum + Number(row.orders), 0)).toBe(totals.orders);
    expect(series.reduce((sum, row) => sum + Number(row.revenue), 0)).toBeCloseTo(totals.revenue as number, 0);

    const [tickets] = await rowsOf(sqlOf('Tickets opened'));
    expect({ tickets: number(tickets?.tickets), complaints: number(tickets?.complaints) }).toEqual({
      tickets: totals.tickets,
      complaints: totals.complaints,
    });
    const ticketSeries = await rowsOf(sqlOf('Tickets and complaints'));
    expect(ticketSeries.reduce((sum, row) => sum + Number(row.tickets), 0)).toBe(totals.tickets);
    expect(ticketSeries.reduce((sum, row) => sum + Number(row.complaints), 0)).toBe(totals.complaints);

    const [response] = await rowsOf(sqlOf('Median first response'));
    expect(number(response?.median_first_response_minutes)).toBeCloseTo(totals.medianFirstResponseMinutes as number, 6);
    const [nps] = await rowsOf(sqlOf('NPS'));
    expect(number(nps?.nps)).toBeCloseTo(totals.nps as number, 6);
    expect(number(nps?.responses)).toBe(totals.npsResponses);
    const [csat] = await rowsOf(sqlOf('CSAT'));
    expect(number(csat?.csat)).toBeCloseTo(totals.csat as number, 6);
    expect(number(csat?.responses)).toBe(totals.csatResponses);
  });

  it('shows the weekly first-purchase retention the analytics API answers', async () => {
    const weeks = 8;
    const answer = await read(
      cdp.url,
      `/v1/analytics/retention?cohort=first_purchase&period=week&periods=${weeks + 1}&from=${day(range.fromMs)}&to=${day(range.toMs)}&tz=UTC`,
      cdp.readKey,
    );
    expect(answer.status).toBe(200);
    const expected = (answer.body.cohorts as Array<{ cohort: string; size: number; retained: number[] }>)
      .filter((cohort) => cohort.size > 0)
      .map((cohort) => [
        cohort.cohort,
        cohort.size,
        ...cohort.retained.slice(1).map((retained) => (100 * retained) / cohort.size),
      ]);
    expect(expected.length).toBeGreaterThan(8);
    const table = await rowsOf(sqlOf('Weekly first-purchase cohort retention'));
    expect(table.map((row) => [row.cohort_week, Number(row.customers)])).toEqual(
      expected.map(([cohort, size]) => [cohort, size]),
    );
    // The panel rounds to a tenth of a percent, so it is at most half a tenth from the exact share (18.8 for 18.75).
    table.forEach((row, cohort) => {
      for (let week = 1; week <= weeks; week += 1) {
        const shown = Number(row[`week ${week} %`]);
        expect(Math.abs(shown - (expected[cohort]?.[week + 1] as number))).toBeLessThanOrEqual(0.05 + 1e-9);
        expect(Math.round(shown * 10)).toBeCloseTo(shown * 10, 6);
      }
    });
  });
});
