// Feedback analytics against a seeded set of records: exact counts and rates, the CLI (table and CSV) and the admin endpoint.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PgStore } from '../../src/store/postgres.js';
import { buildReport, formatReportCsv, reportFromStore } from '../../src/store/report.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { seedAppliedCases } from './applied-cases.js';
import { createPgSchema, seedReportData, startHarness, tempDir } from './helpers.js';

const EXPECTED_CSV = `dimension,value,label,cards,with_feedback,accepted,overridden,acceptance_rate,override_rate,accepted_applied,accepted_not_applied,accepted_not_seen_again,applied_rate
total,all,,6,5,2,3,0.4,0.6,0,0,0,
drug,warfarin,,4,3,1,2,0.3333,0.6667,0,0,0,
drug,clopidogrel,,2,2,1,1,0.5,0.5,0,0,0,
gene,CYP2C9,,3,3,1,2,0.3333,0.6667,0,0,0,
gene,CYP2C19,,2,2,1,1,0.5,0.5,0,0,0,
gene,(none),,1,0,0,0,,,0,0,0,
gene,VKORC1,,1,1,1,0,1,0,0,0,0,
kind,dose,,3,3,1,2,0.3333,0.6667,0,0,0,
kind,alternative,,2,2,1,1,0.5,0.5,0,0,0,
kind,missing-data,,1,0,0,0,,,0,0,0,
indicator,info,,3,2,1,1,0.5,0.5,0,0,0,
indicator,critical,,2,2,1,1,0.5,0.5,0,0,0,
indicator,warning,,1,1,0,1,0,1,0,0,0,
service,dosing-order-select,,4,3,1,2,0.3333,0.6667,0,0,0,
service,dosing-order-sign,,2,2,1,1,0.5,0.5,0,0,0,
override_reason,patient-preference,Patient preference,,,,2,,0.6667,,,,
override_reason,clinical,Clinical judgement,,,,1,,0.3333,,,,
unknown_card_feedback,,,,1,,,,,,,,
`;

const SINCE = new Date('2026-01-01');

function runCli(script: 'report' | 'purge', args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: '', ...env }, encoding: 'utf8', timeout: 20000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('report on the seeded records', () => {
  const t = tempDir();
  let sqlite: SqliteStore;
  beforeAll(async () => {
    sqlite = new SqliteStore(path.join(t.dir, 'pgx-dosing.sqlite'));
    await seedReportData(sqlite);
  });
  afterAll(async () => {
    await sqlite.close();
    t.remove();
  });

  test('exact counts and rates by drug, gene, kind, indicator, service and override reason', async () => {
    const r = await reportFromStore(sqlite, SINCE);
    expect(r.since).toBe('2026-01-01T00:00:00.000Z');
    // the seeded accepted suggestions intended no order: none is applied, not applied or not seen again
    const none = { applied: 0, notApplied: 0, notSeenAgain: 0, appliedRate: null };
    expect(r.total).toEqual({ dimension: 'total', value: 'all', cards: 6, withFeedback: 5, accepted: 2, overridden: 3, acceptanceRate: 0.4, overrideRate: 0.6, ...none });
    expect(r.byDrug).toEqual([
      { dimension: 'drug', value: 'warfarin', cards: 4, withFeedback: 3, accepted: 1, overridden: 2, acceptanceRate: 0.3333, overrideRate: 0.6667, ...none },
      { dimension: 'drug', value: 'clopidogrel', cards: 2, withFeedback: 2, accepted: 1, overridden: 1, acceptanceRate: 0.5, overrideRate: 0.5, ...none },
    ]);
    expect(r.byGene.find((g) => g.value === 'VKORC1')).toMatchObject({ cards: 1, accepted: 1, acceptanceRate: 1, overrideRate: 0 });
    expect(r.byGene.find((g) => g.value === '(none)')).toMatchObject({ cards: 1, withFeedback: 0, acceptanceRate: null, overrideRate: null });
    expect(r.byIndicator.find((g) => g.value === 'warning')).toMatchObject({ cards: 1, overridden: 1, overrideRate: 1 });
    expect(r.overrideReasons).toEqual([
      { code: 'patient-preference', display: 'Patient preference', count: 2, share: 0.6667 },
      { code: 'clinical', display: 'Clinical judgement', count: 1, share: 0.3333 },
    ]);
    expect(r.unknownCardFeedback).toBe(1);
    expect(formatReportCsv(r)).toBe(EXPECTED_CSV);
    // without --since the 2025 card (accepted) counts too
    expect((await reportFromStore(sqlite)).total).toMatchObject({ cards: 7, withFeedback: 6, accepted: 3, overridden: 3 });
  });

  test('PostgreSQL gives the same report', async () => {
    const schema = await createPgSchema();
    const pg = new PgStore({ connectionString: schema.url });
    try {
      await seedReportData(pg);
      const [a, b] = await Promise.all([reportFromStore(pg, SINCE), reportFromStore(sqlite, SINCE)]);
      expect({ ...a, generatedAt: '' }).toEqual({ ...b, generatedAt: '' });
      // and the command reads it through DATABASE_URL
      const cli = runCli('report', ['--since', '2026-01-01', '--csv'], { DATABASE_URL: schema.url });
      expect(cli.err).toBe('');
      expect(cli.out).toBe(EXPECTED_CSV);
    } finally {
      await pg.close();
      await schema.drop();
    }
  });

  test('npm run report prints the table (and CSV with --csv) from the SQLite file in DATA_DIR', () => {
    const table = runCli('report', ['--since', '2026-01-01'], { DATA_DIR: t.dir });
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^Feedback report since 2026-01-01T00:00:00.000Z/);
    expect(table.out).toMatch(/^total\s+all\s+6\s+5\s+2\s+3\s+40\.0%\s+60\.0%\s+0\s+0\s+0\s+—$/m);
    expect(table.out).toMatch(/^drug\s+warfarin\s+4\s+3\s+1\s+2\s+33\.3%\s+66\.7%\s+0\s+0\s+0\s+—$/m);
    expect(table.out).toMatch(/^gene\s+\(none\)\s+1\s+0\s+0\s+0\s+—\s+—\s+0\s+0\s+0\s+—$/m);
    expect(table.out).toMatch(/^Patient preference\s+patient-preference\s+2\s+66\.7%$/m);
    expect(table.out).toMatch(/not in the audit trail: 1$/m);
    const csv = runCli('report', ['--since=2026-01-01', '--csv'], { DATA_DIR: t.dir });
    expect(csv.out).toBe(EXPECTED_CSV);
    const bad = runCli('report', ['--since', 'someday'], { DATA_DIR: t.dir });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--since needs a date/);
  });

  test('GET /admin/report: 404 without ADMIN_TOKEN configured, 401 with a wrong token, JSON with the right one', async () => {
    const token = 'admin-token-0123456789abcdef';
    const off = await startHarness(sqlite);
    const on = await startHarness(sqlite, { 'admin.token': token });
    try {
      expect((await off.get('/admin/report', token)).status).toBe(404);
      expect((await on.get('/admin/report')).status).toBe(401);
      expect((await on.get('/admin/report', 'admin-token-0123456789abcdeX')).status).toBe(401);
      expect((await on.get('/admin/report?since=tomorrowish', token)).status).toBe(400);
      const ok = await on.get('/admin/report?since=2026-01-01', token);
      expect(ok.status).toBe(200);
      const expected = buildReport(await sqlite.reportRows(SINCE), { since: SINCE, unknownCardFeedback: 1 });
      expect({ ...ok.json, generatedAt: '' }).toEqual({ ...expected, generatedAt: '' });
      // /metrics stays open by default (no PHI); it can be put behind the admin token
      expect((await on.get('/metrics')).status).toBe(200);
      const locked = await startHarness(sqlite, { 'admin.token': token, 'metrics.requireAdminToken': true });
      try {
        expect((await locked.get('/metrics')).status).toBe(401);
        expect((await locked.get('/metrics', token)).text).toMatch(/# TYPE cds_hook_duration_seconds histogram/);
      } finally {
        await locked.close();
      }
    } finally {
      await Promise.all([off.close(), on.close()]);
    }
  });

  test('npm run purge deletes what is older than RETENTION_DAYS', async () => {
    const copy = tempDir();
    try {
      const s = new SqliteStore(path.join(copy.dir, 'pgx-dosing.sqlite'));
      await seedReportData(s);
      await s.close();
      // the seeded records are from 2025-06 (1) and 2026-03/04 (6): 150 days before "now" (2026-11) keeps none, 3650 keeps all
      const keepAll = runCli('purge', [], { DATA_DIR: copy.dir, RETENTION_DAYS: '3650' });
      expect(keepAll.out).toMatch(/0 hook calls, 0 recommendations, 0 cards, 0 feedback items/);
      const days = Math.floor((Date.now() - Date.parse('2026-01-01')) / 86_400_000);
      const r = runCli('purge', ['--days', String(days)], { DATA_DIR: copy.dir });
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/from sqlite: 1 hook calls, 1 recommendations, 1 cards, 1 feedback items/);
    } finally {
      copy.remove();
    }
  });
});

// The table of cases in applied-cases.ts: 9 cards, 7 accepted (2 applied, 2 not applied, 2 not seen again, 1 with
// nothing to apply), 1 overridden, 1 without feedback.
const APPLIED_ROW = '9,8,7,1,0.875,0.125,2,2,2,0.5';
const EXPECTED_APPLIED_CSV = `dimension,value,label,cards,with_feedback,accepted,overridden,acceptance_rate,override_rate,accepted_applied,accepted_not_applied,accepted_not_seen_again,applied_rate
total,all,,${APPLIED_ROW}
drug,warfarin,,4,4,4,0,1,0,1,1,2,0.5
drug,gabapentin,,3,3,2,1,0.6667,0.3333,1,1,0,0.5
drug,clopidogrel,,2,1,1,0,1,0,0,0,0,
gene,(none),,${APPLIED_ROW}
kind,dose,,${APPLIED_ROW}
indicator,warning,,${APPLIED_ROW}
service,dosing-order-select,,${APPLIED_ROW}
override_reason,clinical,Clinical judgement,,,,1,,1,,,,
unknown_card_feedback,,,,0,,,,,,,,
`;

describe('accepted vs applied in the report (text, CSV, JSON; SQLite and PostgreSQL)', () => {
  const t = tempDir();
  let sqlite: SqliteStore;
  beforeAll(async () => {
    sqlite = new SqliteStore(path.join(t.dir, 'pgx-dosing.sqlite'));
    await seedAppliedCases(sqlite);
  });
  afterAll(async () => {
    await sqlite.close();
    t.remove();
  });

  test('exact figures; the CLI prints them as a table (with what the columns mean), CSV and JSON', async () => {
    const r = await reportFromStore(sqlite);
    expect(r.total).toEqual({
      dimension: 'total', value: 'all', cards: 9, withFeedback: 8, accepted: 7, overridden: 1, acceptanceRate: 0.875, overrideRate: 0.125,
      applied: 2, notApplied: 2, notSeenAgain: 2, appliedRate: 0.5,
    });
    expect(formatReportCsv(r)).toBe(EXPECTED_APPLIED_CSV);
    const table = runCli('report', [], { DATA_DIR: t.dir });
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^dimension\s+value\s+cards\s+feedback\s+accepted\s+overridden\s+acceptance\s+override\s+applied\s+not applied\s+not seen\s+applied rate$/m);
    expect(table.out).toMatch(/^total\s+all\s+9\s+8\s+7\s+1\s+87\.5%\s+12\.5%\s+2\s+2\s+2\s+50\.0%$/m);
    expect(table.out).toMatch(/^drug\s+clopidogrel\s+2\s+1\s+1\s+0\s+100\.0%\s+0\.0%\s+0\s+0\s+0\s+—$/m);
    expect(table.out).toMatch(/accepted and applied.*accepted, not applied.*\n.*next hook call for the same order/s);
    const csv = runCli('report', ['--csv'], { DATA_DIR: t.dir });
    expect(csv.out).toBe(EXPECTED_APPLIED_CSV);
    const json = runCli('report', ['--json'], { DATA_DIR: t.dir });
    expect({ ...JSON.parse(json.out), generatedAt: '' }).toEqual({ ...r, generatedAt: '' });
  });

  test('PostgreSQL gives the same figures, and GET /admin/report returns them', async () => {
    const schema = await createPgSchema();
    const pg = new PgStore({ connectionString: schema.url });
    const token = 'admin-token-0123456789abcdef';
    const admin = await startHarness(pg, { 'admin.token': token });
    try {
      await seedAppliedCases(pg);
      const [a, b] = await Promise.all([reportFromStore(pg), reportFromStore(sqlite)]);
      expect({ ...a, generatedAt: '' }).toEqual({ ...b, generatedAt: '' });
      expect(formatReportCsv(a)).toBe(EXPECTED_APPLIED_CSV);
      const res = await admin.get('/admin/report', token);
      expect(res.status).toBe(200);
      expect(res.json.total).toMatchObject({ accepted: 7, applied: 2, notApplied: 2, notSeenAgain: 2, appliedRate: 0.5 });
      expect({ ...res.json, generatedAt: '' }).toEqual({ ...a, generatedAt: '' });
    } finally {
      await admin.close();
      await pg.close();
      await schema.drop();
    }
  });
});
