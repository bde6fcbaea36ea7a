// Control characters in every client string that reaches the store (issue 21, scope 3), through the real service on
// SQLite and on PostgreSQL: structural strings are refused with 400 (never a 503, never a degraded store, nothing in
// the rejected spool); text a person typed (userComment) is stored without them. And the store's own last resort:
// a record the database refuses for its values (U+0000 from FHIR data, on PostgreSQL) is stored cleaned, not spooled.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PgStore } from '../../src/store/postgres.js';
import { AuditedStore, StoreInputError } from '../../src/store/resilient.js';
import { createPgSchema, hookRecord, orderSelectBody, recommendation, tempDir } from '../store/helpers.js';
import { describeEachStore } from '../support/two-tenants.js';

/** NUL, other C0 controls, ESC, vertical tab, unit separator */
const CONTROLS = ['\u0000', '\u0001', '\u001b', '\u000b', '\u001f'];

function withValue(body: unknown, at: (string | number)[], f: (old: unknown) => unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let o = copy as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  o[last] = f(o[last]);
  return copy;
}
const poison = (ch: string) => (old: unknown) => `${typeof old === 'string' ? old : 'x'}${ch}ZZMARK`;

const HOOK_FIELDS: (string | number)[][] = [
  ['hookInstance'],
  ['fhirServer'],
  ['context', 'patientId'],
  ['context', 'userId'],
  ['context', 'selections', 0],
  ['context', 'draftOrders', 'entry', 0, 'resource', 'id'],
  ['context', 'draftOrders', 'entry', 0, 'resource', 'medicationCodeableConcept', 'text'],
  ['prefetch', 'patient', 'name', 0, 'family'],
  ['prefetch', 'patient', 'id'],
];
const FEEDBACK_FIELDS: (string | number)[][] = [
  ['feedback', 0, 'card'],
  ['feedback', 0, 'outcome'],
  ['feedback', 0, 'outcomeTimestamp'],
  ['feedback', 0, 'overrideReason', 'reason', 'code'],
  ['feedback', 0, 'overrideReason', 'reason', 'system'],
  ['feedback', 0, 'overrideReason', 'reason', 'display'],
  ['feedback', 0, 'extension'],
];

describeEachStore({ token: 'unused', seed: [] }, (env) => {
  const expectHealthy = async () => {
    await env.svc.store.settle();
    const r = await env.svc.readyz();
    expect(r.json).toMatchObject({ store: 'ok', auditBacklog: 0 });
    expect(existsSync(path.join(env.svc.config.dataDir, 'audit-spool.rejected.jsonl'))).toBe(false);
    expect(existsSync(path.join(env.svc.config.dataDir, 'audit-spool.jsonl'))).toBe(false);
  };

  test('a control character in any hook string → 400 naming the field, and the store stays healthy', async () => {
    const base = { ...orderSelectBody('pgx-1'), fhirServer: env.svc.a.fhirServer };
    const ok = await env.svc.post(env.svc.a, '/cds-services/dosing-order-select', { ...base, hookInstance: randomUUID() });
    expect(ok.status).toBe(200);
    for (const field of HOOK_FIELDS) {
      for (const ch of CONTROLS) {
        const body = withValue({ ...base, hookInstance: randomUUID() }, field, poison(ch));
        const r = await env.svc.post(env.svc.a, '/cds-services/dosing-order-select', body);
        expect({ field, ch: ch.charCodeAt(0), status: r.status }).toEqual({ field, ch: ch.charCodeAt(0), status: 400 });
        expect(r.json.details[0]).toContain('control characters are not allowed');
        expect(JSON.stringify(r.json)).not.toContain('ZZMARK');
      }
    }
    // a control character in an object key, too
    const key = await env.svc.post(env.svc.a, '/cds-services/dosing-order-select', { ...base, hookInstance: randomUUID(), prefetch: { ...base.prefetch, ['k\u0000']: {} } });
    expect(key.status).toBe(400);
    await expectHealthy();
  }, 60000);

  test('feedback: control characters in structural fields → 400; typed text is stored without them (tab, LF, CR kept)', async () => {
    const hook = await env.svc.post(env.svc.a, '/cds-services/dosing-order-select', { ...orderSelectBody('pgx-1'), fhirServer: env.svc.a.fhirServer });
    const card = hook.json.cards[0].uuid as string;
    const item = { card, outcome: 'overridden', outcomeTimestamp: new Date().toISOString(), overrideReason: { reason: { system: 'http://example.org/o', code: 'c', display: 'd' }, userComment: 'ok' }, extension: 'x' };
    for (const field of FEEDBACK_FIELDS) {
      for (const ch of CONTROLS) {
        const r = await env.svc.post(env.svc.a, '/cds-services/dosing-order-select/feedback', withValue({ feedback: [item] }, field, poison(ch)));
        expect({ field, ch: ch.charCodeAt(0), status: r.status }).toEqual({ field, ch: ch.charCodeAt(0), status: 400 });
        expect(r.headers.get('retry-after')).toBeNull();
      }
    }
    const typed = await env.svc.post(env.svc.a, '/cds-services/dosing-order-select/feedback', {
      feedback: [{ ...item, overrideReason: { ...item.overrideReason, userComment: 'dose\u0000 too\u001b high\tfor\nher\r' } }],
    });
    expect(typed.status).toBe(200);
    expect(typed.json).toEqual({ stored: 1, duplicates: 0, unknownCards: 0 });
    const audit = (await env.svc.store.cardAudit(card))!;
    expect(audit.feedback.map((f) => f.userComment)).toEqual(['dose too high\tfor\nher\r']);
    await expectHealthy();
  }, 60000);
});

test('postgres: a record the database refuses for its values is stored cleaned, the store stays ok; feedback it refuses is an input error', async () => {
  const schema = await createPgSchema();
  const t = tempDir();
  const store = new AuditedStore({ backend: new PgStore({ connectionString: schema.url }), spoolDir: t.dir });
  try {
    await store.init();
    // U+0000 from FHIR data the service read (not from the request): PostgreSQL JSONB cannot hold it
    const rec = { ...recommendation({ drug: 'warfarin' }), headline: 'from the chart\u0000' };
    const r = hookRecord([rec]);
    await store.recordHook(r);
    await store.settle();
    expect(await store.health()).toMatchObject({ ok: true, state: 'ok', backlog: 0 });
    expect((await store.getRecommendation(rec.id))!.recommendation.headline).toBe('from the chart');
    expect(existsSync(path.join(t.dir, 'audit-spool.rejected.jsonl'))).toBe(false);
    // straight to the store (the route strips typed text first): an input error, not "unavailable"
    await expect(store.recordFeedback('dosing-order-select', 'https://ehr.test.local', [{ card: r.cardUuids[0]!, outcome: 'overridden', outcomeTimestamp: '2026-05-01T08:00:00Z', overrideReason: { userComment: 'a\u0000b' } }])).rejects.toBeInstanceOf(StoreInputError);
    expect(await store.health()).toMatchObject({ ok: true, state: 'ok' });
  } finally {
    await store.close();
    await schema.drop();
    t.remove();
  }
});
