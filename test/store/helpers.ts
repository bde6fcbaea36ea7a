// Store test helpers: a fresh PostgreSQL schema per run, a TCP proxy we can cut, seeded records, a hook harness.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MedicationRequest } from 'fhir/r4';
import pg from 'pg';
import type { AppConfig } from '../../src/config.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import type { HookRecord, Store } from '../../src/store/store.js';
import { draftWarfarin, fullPrefetch } from '../fixtures/synthetic-patients.js';
export { fullPrefetch };
import type { TestClient } from '../support/jwt.js';
import { startApp, testEhr } from '../support/start-app.js';

export const PG_BASE = process.env['TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PgSchema {
  schema: string;
  /** connection URL whose search_path is the schema */
  url: string;
  /** same, through another host:port (a proxy) */
  urlVia(port: number): string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export async function createPgSchema(): Promise<PgSchema> {
  const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: PG_BASE, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`the store tests need PostgreSQL at ${PG_BASE} (start it, e.g. .ci/run does, or set TEST_PG_URL): ${(e as Error).message}`);
  }
  await admin.query(`CREATE SCHEMA ${schema}`);
  const withSchema = (base: string) => `${base}?options=${encodeURIComponent(`-csearch_path=${schema}`)}`;
  return {
    schema,
    url: withSchema(PG_BASE),
    urlVia: (port) => withSchema(PG_BASE.replace(/@[^/]+\//, `@127.0.0.1:${port}/`)),
    async query(sql, params = []) {
      return (await admin.query(sql.replaceAll('$schema', schema), params)).rows;
    },
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

/** Forwards TCP to PostgreSQL; `cut()` drops every connection and refuses new ones until `restore()`. */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private open = true;
  port = 0;
  constructor(private readonly target: { host: string; port: number } = { host: '127.0.0.1', port: 5432 }) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      if (!this.open) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.open = true;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

export function tempDir(prefix = 'pgx-store-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor(fn: () => Promise<boolean> | boolean, ms: number, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await Promise.resolve(fn()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ---- seeded records ----

export function recommendation(o: { id?: string; drug: string; kind?: Recommendation['kind']; severity?: Recommendation['severity']; genes?: string[]; method?: [string, string] }): Recommendation {
  return {
    id: o.id ?? randomUUID(),
    drug: { name: o.drug },
    kind: o.kind ?? 'dose',
    severity: o.severity ?? 'info',
    headline: `${o.drug} headline`,
    genes: (o.genes ?? []).map((gene) => ({ gene, result: '*1/*2', source: { reference: `Observation/${gene}-1` } })),
    inputs: [{ key: 'weight', label: 'Body weight', value: 72.5, unit: 'kg', source: { reference: 'Observation/wt-1', date: '2026-10-01' } }],
    missing: [],
    method: { id: o.method?.[0] ?? `${o.drug}-method`, name: 'Test method', version: o.method?.[1] ?? '1.0.0' },
    evidence: [{ citation: 'CPIC guideline (test)' }],
    notes: [],
  } as Recommendation;
}

/** A hook call that returned one card per recommendation. */
export function hookRecord(recs: Recommendation[], o: { at?: string; patientId?: string; serviceId?: string; id?: string } = {}): HookRecord & { cardUuids: string[] } {
  const cardUuids = recs.map(() => randomUUID());
  return {
    ...(o.id ? { id: o.id } : {}),
    hookInstance: randomUUID(),
    serviceId: o.serviceId ?? 'dosing-order-select',
    hook: 'order-select',
    clientIss: 'https://ehr.test.local',
    patientId: o.patientId ?? 'pat-1',
    orderedDrugs: [...new Set(recs.map((r) => r.drug.name))],
    outcome: recs.length ? 'cards' : 'no-card',
    recommendations: recs,
    cards: recs.map((r, i) => ({ uuid: cardUuids[i]!, recommendationId: r.id, suggestionUuids: [randomUUID()], kind: r.kind, indicator: r.severity, genes: (r.genes ?? []).map((g) => g.gene) })),
    timings: { fhirMs: 12.5, evaluateMs: 3.25, totalMs: 20 },
    ...(o.at ? { at: o.at } : {}),
    cardUuids,
  };
}

export const accepted = (card: string, ts: string) => ({ card, outcome: 'accepted' as const, acceptedSuggestions: [{ id: 's' }], outcomeTimestamp: ts });
export const overridden = (card: string, ts: string, code?: string, display?: string) => ({
  card,
  outcome: 'overridden' as const,
  outcomeTimestamp: ts,
  ...(code ? { overrideReason: { reason: { system: 'http://example.org/override', code, ...(display ? { display } : {}) }, userComment: 'test comment' } } : {}),
});

/**
 * The reference data set for the report: 6 cards since 2026-01-01 plus 1 older card, and one feedback item for a card
 * the audit trail does not know. Expected figures are spelled out in the report tests.
 */
export async function seedReportData(store: Store): Promise<Record<'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G', string>> {
  const at = '2026-03-01T10:00:00.000Z';
  const A = recommendation({ drug: 'warfarin', kind: 'dose', severity: 'info', genes: ['CYP2C9', 'VKORC1'] });
  const B = recommendation({ drug: 'warfarin', kind: 'dose', severity: 'warning', genes: ['CYP2C9'] });
  const C = recommendation({ drug: 'warfarin', kind: 'missing-data', severity: 'info' });
  const G = recommendation({ drug: 'warfarin', kind: 'dose', severity: 'info', genes: ['CYP2C9'] });
  const D = recommendation({ drug: 'clopidogrel', kind: 'alternative', severity: 'critical', genes: ['CYP2C19'] });
  const E = recommendation({ drug: 'clopidogrel', kind: 'alternative', severity: 'critical', genes: ['CYP2C19'] });
  const F = recommendation({ drug: 'warfarin', kind: 'dose', severity: 'info', genes: ['CYP2C9'] });
  const w = hookRecord([A, B, C, G], { at });
  const c = hookRecord([D, E], { at: '2026-04-01T10:00:00.000Z', patientId: 'pat-2', serviceId: 'dosing-order-sign' });
  const old = hookRecord([F], { at: '2025-06-01T10:00:00.000Z', patientId: 'pat-3' });
  for (const r of [w, c, old]) await store.recordHook(r);
  const [a, b, cc, g] = w.cardUuids as [string, string, string, string];
  const [d, e] = c.cardUuids as [string, string];
  const [f] = old.cardUuids as [string];
  await store.recordFeedback('dosing-order-select', 'https://ehr.test.local', [
    accepted(a, '2026-03-01T10:05:00Z'),
    overridden(b, '2026-03-01T10:06:00Z', 'patient-preference', 'Patient preference'),
    overridden(g, '2026-03-01T10:07:00Z', 'clinical', 'Clinical judgement'),
    overridden(randomUUID(), '2026-03-01T10:08:00Z', 'other'),
  ]);
  await store.recordFeedback('dosing-order-sign', 'https://ehr.test.local', [
    overridden(d, '2026-04-01T10:05:00Z', 'other', 'Other'),
    accepted(d, '2026-04-01T10:09:00Z'), // the latest outcome for D counts
    overridden(e, '2026-04-01T10:06:00Z', 'patient-preference', 'Patient preference'),
  ]);
  await store.recordFeedback('dosing-order-select', 'https://ehr.test.local', [accepted(f, '2025-06-01T10:05:00Z')]);
  return { A: a, B: b, C: cc, D: d, E: e, F: f, G: g };
}

// ---- hook harness (in-process service with a chosen store) ----

export function orderSelectBody(patientId = 'pgx-1', draft: MedicationRequest = draftWarfarin(`mr-${randomUUID().slice(0, 8)}`, patientId, 5)) {
  return {
    hook: 'order-select',
    hookInstance: randomUUID(),
    context: {
      userId: 'Practitioner/example',
      patientId,
      selections: [`MedicationRequest/${draft.id}`],
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] },
    },
    prefetch: fullPrefetch(patientId),
  };
}

export interface Harness {
  url: string;
  config: AppConfig;
  ehr: TestClient;
  hook(body?: unknown, serviceId?: string): Promise<{ status: number; json: any; ms: number }>;
  post(pathname: string, body: unknown): Promise<{ status: number; json: any }>;
  get(pathname: string, token?: string): Promise<{ status: number; json: any; text: string }>;
  close(): Promise<void>;
}

export async function startHarness(store: Store, overrides: Record<string, unknown> = {}, ehr?: TestClient): Promise<Harness> {
  const client = ehr ?? (await testEhr());
  // the caller's store, left open on close; no data directory (the store is given)
  const s = await startApp({ config: overrides, store, clients: [client] });
  const post = async (pathname: string, body: unknown) => {
    const as = s.config.auth.mode === 'disabled' ? undefined : client;
    const { status, text } = await s.request(pathname, { body: JSON.stringify(body), ...(as ? { as } : {}) });
    return { status, json: text ? JSON.parse(text) : undefined };
  };
  return {
    url: s.url,
    config: s.config,
    ehr: client,
    async hook(body = orderSelectBody(), serviceId = 'dosing-order-select') {
      const t0 = performance.now();
      const r = await post(`/cds-services/${serviceId}`, body);
      return { ...r, ms: performance.now() - t0 };
    },
    post,
    async get(pathname, token) {
      const { status, json, text } = await s.request(pathname, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      return { status, json, text };
    },
    close: () => s.close(),
  };
}
