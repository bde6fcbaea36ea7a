// Hostile input (issue #7), hand-made hostile bodies: deep nesting, huge values, prototype keys, ids that are not FHIR
// ids, retries and concurrent copies, maximal feedback, empty and extra values in the draft, and bodies that arrive
// broken (truncated, wrong encoding or charset, not an object), through the real service (test/support/hostile-input.ts).
import { draftWarfarin } from '../fixtures/synthetic-patients.js';
import { assertInvariant, callHook, ENDPOINT, MAX_MS, useHostileInputServices } from '../support/hostile-input.js';
import { applyMutations, asHook, HOOKS, HUGE } from '../support/hostile-mutations.js';
import { deepArray, deepObject, invariantViolations, orderSelectBody, proposedDoses, writeJson } from '../support/robustness.js';

const env = useHostileInputServices();

describe('deep nesting, huge values, prototype keys (examples)', () => {
  const base = () => orderSelectBody(env.stub.url);
  const cases: [string, () => unknown][] = [
    ['10,000-level nested array in the draft order', () => applyMutations(base(), [{ kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'note'], value: deepArray(10_000) }])],
    ['10,000-level nested object in the draft order', () => applyMutations(base(), [{ kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'extension'], value: deepObject(10_000) }])],
    ['100,000-level nested array in the draft dosage', () => applyMutations(base(), [{ kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'dosageInstruction', 0, 'timing'], value: deepArray(100_000) }])],
    ['10,000-level nesting in context', () => applyMutations(base(), [{ kind: 'replace', path: ['context', 'extra'], value: deepArray(10_000) }])],
    ['10,000-level nesting in the prefetch patient', () => applyMutations(base(), [{ kind: 'replace', path: ['prefetch', 'patient', 'extension'], value: deepObject(10_000) }])],
    ['10,000-level nesting as a prefetch key', () => applyMutations(base(), [{ kind: 'replace', path: ['prefetch', 'weight'], value: deepArray(10_000) }])],
    ['300 KB hookInstance', () => applyMutations(base(), [{ kind: 'replace', path: ['hookInstance'], value: HUGE }])],
    ['4,000-character unicode patientId (RTL override, NUL, emoji)', () => applyMutations(base(), [{ kind: 'replace', path: ['context', 'patientId'], value: '💊\u202e\u0000é'.repeat(800) }])],
    ['__proto__ in context carrying selections and encounterId', () => applyMutations(base(), [{ kind: 'protoKey', path: ['context'], key: '__proto__', value: { encounterId: { $gt: '' }, userId: 5, patientId: 'other' } }])],
    ['__proto__ in prefetch carrying a patient', () => applyMutations(base(), [{ kind: 'protoKey', path: ['prefetch'], key: '__proto__', value: { patient: { resourceType: 'Patient', id: 'pgx-1', birthDate: '1800-01-01' } } }])],
    ['constructor.prototype at the top level', () => applyMutations(base(), [{ kind: 'protoKey', path: [], key: 'constructor', value: { prototype: { isAdmin: true } } }])],
    ['duplicate patientId (last wins) pointing at another patient', () => applyMutations(base(), [{ kind: 'duplicateKey', path: ['context'], key: 'patientId', value: 'clin-1', first: false }])],
  ];
  test.each(cases)('%s', async (_name, make) => {
    const body = writeJson(make());
    const r = await callHook(env.svc, body);
    assertInvariant(r, body);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });

  test.each(['💊', 'mr 1', 'a/b', 'x'.repeat(65), '../Patient/pgx-1'])('a draft id that is not a FHIR id (%s): a card, no update/delete pointing at it', async (id) => {
    const draft = { ...draftWarfarin(id, 'pgx-1', 5) };
    const body = writeJson(asHook(orderSelectBody(env.stub.url, { draft }), 'order-sign'));
    const r = await callHook(env.svc, body, HOOKS['order-sign']);
    assertInvariant(r, body);
    expect(r.json.cards).toHaveLength(1);
    expect(r.json.cards[0].suggestions).toBeUndefined();
  });

  test('the same hookInstance twice (an EHR retry), and 20 concurrent copies of one call', async () => {
    const body = writeJson(base());
    for (const r of [await callHook(env.svc, body), await callHook(env.svc, body), ...(await Promise.all(Array.from({ length: 20 }, () => callHook(env.svc, body))))]) {
      assertInvariant(r, body);
      expect(proposedDoses(r.json)).toHaveLength(1);
    }
  });

  test('feedback: 100 items with maximal strings, unknown cards, hostile codings → 200 or 4xx, never 5xx', async () => {
    const item = (i: number) => ({
      card: `${'c'.repeat(4000)}${i}`,
      outcome: i % 2 ? 'accepted' : 'overridden',
      acceptedSuggestions: [{ id: 's'.repeat(4096) }],
      overrideReason: { reason: { system: 'x'.repeat(1024), code: '\u0000'.repeat(256), display: '💊'.repeat(500) }, userComment: '\u202e'.repeat(4096) },
      outcomeTimestamp: i % 3 ? '2026-11-25T10:00:00Z' : '9999-12-31T23:59:59Z',
    });
    const r = await callHook(env.svc, writeJson({ feedback: Array.from({ length: 100 }, (_, i) => item(i)) }), '/cds-services/dosing-order-select/feedback');
    expect(r.status === 200 || (r.status >= 400 && r.status < 500)).toBe(true);
    expect(typeof r.json).toBe('object');
  });

  // KNOWN BUG (render.ts withProposedDose keeps the draft as sent): empty values in the draft reach the response.
  test('empty values inside the draft (null, "", [], {}) are not echoed in the update action', async () => {
    const body = writeJson(applyMutations(base(), [
      { kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'note'], value: [] },
      { kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'priority'], value: '' },
      { kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'extension'], value: [{}] },
      { kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'dispenseRequest'], value: null },
      { kind: 'replace', path: ['context', 'draftOrders', 'entry', 0, 'resource', 'dosageInstruction', 0, 'route'], value: { coding: [null, {}] } },
    ]));
    const r = await callHook(env.svc, body);
    expect(invariantViolations(r, MAX_MS)).toEqual([]);
  });

  // KNOWN BUG (render.ts withProposedDose: `doseAndRate: [dr, ...rate.slice(1)]`, `dosageInstruction: [first,
  // ...dis.slice(1)]`): doses the service never proposed (a second doseAndRate of 40 mg, a sequence-2 instruction of
  // 50 mg daily) ride along in the update action; accepting the suggestion signs them with one click.
  test('a second dosage instruction in the draft is not carried into the update at a dose nobody proposed', async () => {
    const draft = draftWarfarin('mr-1', 'pgx-1', 5);
    draft.dosageInstruction!.push({ sequence: 2, text: '50 mg daily', timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 50, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] });
    draft.dosageInstruction![0]!.doseAndRate!.push({ doseQuantity: { value: 40, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } });
    const body = writeJson(orderSelectBody(env.stub.url, { draft }));
    const r = await callHook(env.svc, body);
    assertInvariant(r, body);
    expect(proposedDoses(r.json)).toHaveLength(1);
  });
});

describe('the body arrives broken', () => {
  test.each<[string, string, Record<string, string>]>([
    ['truncated JSON', '{"hook":"order-select","context":{"patientId":"p', {}],
    ['a lone surrogate and NUL bytes', '{"hook":"order-select\ud800\u0000"}', {}],
    ['JSON with a BOM', '\ufeff{"hook":"order-select"}', {}],
    ['NaN literal', '{"hook":"order-select","x":NaN}', {}],
    ['a gzip header on a plain body', '{"hook":"order-select"}', { 'content-encoding': 'gzip' }],
    ['an unknown content encoding', '{}', { 'content-encoding': 'br, zstd, x-evil' }],
    ['charset latin1', '{}', { 'content-type': 'application/json; charset=latin1' }],
    ['charset utf-7', '{}', { 'content-type': 'application/json; charset=utf-7' }],
    ['fhir+json content type', '[]', { 'content-type': 'application/fhir+json' }],
    ['a number', '12345678901234567890123456789', {}],
    ['a string', '"order-select"', {}],
    ['null', 'null', {}],
  ])('%s → 4xx JSON', async (_n, body, headers) => {
    const r = await env.svc.post(ENDPOINT, body, headers);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(typeof r.json?.error).toBe('string');
  });
});
