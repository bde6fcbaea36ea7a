// Hostile input (issue #7): random and mutated hook bodies, absurd clinical values and malformed FHIR resources in
// prefetch, through the real service (real JWT auth, SQLite). Every response must be a 4xx JSON {"error"} or a
// conformant 200 whose proposed warfarin doses are within 0.5–15 mg/day; never a 5xx, never slower than the request
// deadline + margin, and the service must keep answering a valid request afterwards. Paging links to another host
// must never be followed (a local server on another port stands in for that host and must receive nothing).
//
// Reproduce a failure: FC_SEED=<seed printed in the failure> FC_RUNS=<n> (FC_SHRINK=1 to shrink the counterexample).
import fc from 'fast-check';
import type { FhirResource, Observation, Patient } from 'fhir/r4';
import { loadWarfarinModel } from '../../src/model/warfarinModel.js';
import { draftWarfarin, patient, pharmvarGenotype, vital } from '../fixtures/synthetic-patients.js';
import {
  deepArray,
  deepObject,
  fullPrefetch,
  invariantViolations,
  JsonPairs,
  orderSelectBody,
  proposedDoses,
  RawJson,
  startRecordingServer,
  startStubFhirServer,
  writeJson,
  type HookResponse,
  type RecordingServer,
  type StubFhirServer,
} from '../support/robustness.js';
import { startTestService, type TestService } from '../support/service.js';

const SEED = Number(process.env['FC_SEED'] ?? 20261125);
const RUNS = Number(process.env['FC_RUNS'] ?? 0) || undefined; // default: per-property counts below
const SHRINK = process.env['FC_SHRINK'] === '1';
const FHIR_DEADLINE_MS = 800;
const REQUEST_DEADLINE_MS = 1500;
/** slack for a loaded 2-core CI box: JWT signing, request upload and parsing of ~1 MB bodies */
const MARGIN_MS = 1500;
const MAX_MS = REQUEST_DEADLINE_MS + MARGIN_MS;
const ENDPOINT = '/cds-services/dosing-order-select';

let stub: StubFhirServer; // the EHR's FHIR server (fast in-process stub over the synthetic cohort)
let otherHost: RecordingServer; // a host the service must never contact
let svc: TestService; // default body limit (1 MB)
let bigSvc: TestService; // 32 MB body limit, for the 10,000-item cases
let modelSvc: TestService | undefined; // with the trained warfarin dose model (ONNX) loaded, when it loads

beforeAll(async () => {
  [stub, otherHost] = await Promise.all([
    startStubFhirServer(),
    startRecordingServer((_req, res) => {
      // if ever followed, this page would add amiodarone: a visible change, not only a log line
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
    }),
  ]);
  const overrides = { 'fhir.deadlineMs': FHIR_DEADLINE_MS, requestDeadlineMs: REQUEST_DEADLINE_MS };
  [svc, bigSvc] = await Promise.all([startTestService(overrides), startTestService({ ...overrides, bodyLimit: '32mb' })]);
  svc.allowFhirServer(stub.url); // the EHR's own server, named for it; otherHost never is
  bigSvc.allowFhirServer(stub.url);
  try {
    modelSvc = await startTestService(overrides, [], { warfarinModel: await loadWarfarinModel() });
    modelSvc.allowFhirServer(stub.url);
  } catch (e) {
    console.warn(`hostile-input: warfarin model not loaded (${(e as Error).message}); model path not exercised`);
  }
}, 30000);
afterAll(async () => {
  await Promise.all([svc?.close(), bigSvc?.close(), modelSvc?.close(), stub?.close(), otherHost?.close()]);
});
afterEach(async () => {
  // never a crash: the service still answers a valid request with the normal dose card
  const r = await callHook(svc, writeJson(orderSelectBody(stub.url)));
  expect(r.status).toBe(200);
  expect(proposedDoses(r.json)).toHaveLength(1);
  expect(otherHost.requests).toEqual([]);
});

async function callHook(s: TestService, body: string, path = ENDPOINT): Promise<HookResponse> {
  const t0 = performance.now();
  const r = await s.post(path, body);
  return { ...r, ms: performance.now() - t0 };
}

function fcParams<T>(numRuns: number): fc.Parameters<T> {
  return { seed: SEED, numRuns: RUNS ?? numRuns, endOnFailure: !SHRINK };
}

/**
 * KNOWN BUG (reported, not fixed here: src/cards/render.ts is being reworked concurrently): the update action echoes
 * the draft order as sent, so null / "" / [] / {} values inside the draft reach the response, which the CDS Hooks JSON
 * rule forbids. The dedicated `test.failing` below documents it; the properties tolerate exactly that (and only inside
 * `actions[].resource`) so that they keep hunting for other failures. Set to false once render.ts prunes empty values.
 */
const TOLERATE_ECHOED_EMPTY_VALUES = false;

/** Throw with the body (truncated) when the response breaks the invariant, so fast-check reports the input. */
function assertInvariant(r: HookResponse, body: string): void {
  const v = invariantViolations(r, MAX_MS, { tolerateEmptyValuesEchoedFromDraft: TOLERATE_ECHOED_EMPTY_VALUES });
  if (v.length > 0) throw new Error(`${v.join('\n')}\n(seed ${SEED}) body: ${body.length > 2000 ? `${body.slice(0, 2000)}… (${body.length} chars)` : body}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Mutations of a valid request

type Path = (string | number)[];

/** Every path in a JSON tree (objects and arrays), root excluded. */
function pathsOf(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([...prefix, i]), pathsOf(x, [...prefix, i], out)));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k]), pathsOf(x, [...prefix, k], out);
  return out;
}

/** The same call for the other two hooks (order-sign: every draft; medication-prescribe: context.medications). */
function asHook(b: Record<string, unknown>, hook: keyof typeof HOOKS): Record<string, unknown> {
  if (hook === 'order-select') return b;
  const ctx = { ...(b['context'] as Record<string, unknown>) };
  delete ctx['selections'];
  if (hook === 'patient-view') {
    // the draft becomes one of the patient's active orders, which the monitoring service re-checks
    const drafts = (ctx['draftOrders'] as { entry: { resource: Record<string, unknown> }[] }).entry.map((e) => ({ resource: { ...e.resource, status: 'active' } }));
    delete ctx['draftOrders'];
    const prefetch = b['prefetch'] as Record<string, unknown> | undefined;
    return { ...b, hook, context: ctx, ...(prefetch ? { prefetch: { ...prefetch, medicationRequests: { resourceType: 'Bundle', type: 'searchset', entry: drafts } } } : {}) };
  }
  if (hook === 'medication-prescribe') {
    ctx['medications'] = ctx['draftOrders'];
    delete ctx['draftOrders'];
  }
  return { ...b, hook, context: ctx };
}
const HOOKS = {
  'order-select': '/cds-services/dosing-order-select',
  'order-sign': '/cds-services/dosing-order-sign',
  'medication-prescribe': '/cds-services/dosing-medication-prescribe',
  'patient-view': '/cds-services/dosing-monitor',
} as const;

/** Paths into a template call, and the paths to its objects (where keys can be duplicated or added). */
function pathSets(template: Record<string, unknown>): { all: Path[]; objects: Path[] } {
  const all = pathsOf(template);
  const objects: Path[] = [[], ...all.filter((p) => {
    const v = p.reduce<any>((n, k) => n?.[k], template);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  })];
  return { all, objects };
}

const HUGE = new RawJson(JSON.stringify('x'.repeat(300_000)));
const HUGE_UNICODE = new RawJson(JSON.stringify('💊\u202e\u0000é'.repeat(30_000)));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, '', 0, -0, -1, 1e308, -1e308, 5e-324, true, false, [], {}, 'NaN', 'Infinity', '-1e999', '80', '5 mg', 'null', '{}', '\u0000', '\u202e', '💊', 'Patient/pgx-1', 'MedicationRequest/mr-1', 'http://127.0.0.1:1/'),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom<unknown>(HUGE, HUGE_UNICODE),
  fc.constantFrom<unknown>(deepArray(10_000), deepObject(10_000), deepArray(100_000)),
  fc.constantFrom<unknown>(
    new JsonPairs([['__proto__', { polluted: true, resourceType: 'Patient', selections: ['MedicationRequest/mr-1'] }]]),
    new JsonPairs([['constructor', { prototype: { polluted: true } }]]),
    { resourceType: 'Bundle', entry: 'x' },
    { resourceType: 'Bundle', entry: [null, 1, 'x', { resource: null }] },
    { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception' }] },
    { resourceType: 'Observation' },
    { resourceType: 'MedicationRequest', id: 'mr-1', medicationCodeableConcept: { text: 'warfarin' } },
  ),
  fc.anything({ maxDepth: 3, maxKeys: 5, withNullPrototype: true, withBigInt: false }),
);

type Mutation =
  | { kind: 'delete'; path: Path }
  | { kind: 'replace'; path: Path; value: unknown }
  | { kind: 'duplicateKey'; path: Path; key: string; value: unknown; first: boolean }
  | { kind: 'protoKey'; path: Path; key: '__proto__' | 'constructor' | 'prototype'; value: unknown };

function mutationOf(template: Record<string, unknown>): fc.Arbitrary<Mutation> {
  const { all, objects } = pathSets(template);
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...all) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom(...all), value: hostileValue }) },
    {
      weight: 1,
      arbitrary: fc
        .record({ path: fc.constantFrom(...objects), value: hostileValue, first: fc.boolean(), pick: fc.nat() })
        .map(({ path, value, first, pick }) => {
          const keys = Object.keys(path.reduce<any>((n, k) => n?.[k], template) ?? {});
          return { kind: 'duplicateKey' as const, path, key: keys[pick % Math.max(1, keys.length)] ?? 'x', value, first };
        }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('protoKey' as const),
        path: fc.constantFrom(...objects),
        key: fc.constantFrom('__proto__' as const, 'constructor' as const, 'prototype' as const),
        value: hostileValue,
      }),
    },
  );
}
const mutation = mutationOf(orderSelectBody('http://127.0.0.1:1'));

function applyMutations(body: Record<string, unknown>, ms: Mutation[]): unknown {
  let root: unknown = body;
  for (const m of ms) {
    const parentPath = m.kind === 'delete' || m.kind === 'replace' ? m.path.slice(0, -1) : m.path;
    const parent = parentPath.reduce<any>((n, k) => (n !== null && typeof n === 'object' && !(n instanceof RawJson) && !(n instanceof JsonPairs) ? n[k] : undefined), root);
    if (parent === null || typeof parent !== 'object' || parent instanceof RawJson || parent instanceof JsonPairs) continue; // an earlier mutation removed it
    const last = m.path[m.path.length - 1]!;
    switch (m.kind) {
      case 'delete':
        if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
        else delete parent[last];
        break;
      case 'replace':
        parent[last] = m.value;
        break;
      case 'duplicateKey':
      case 'protoKey': {
        const pairs: [string, unknown][] = Array.isArray(parent) ? parent.map((x, i) => [String(i), x]) : Object.entries(parent);
        const extra: [string, unknown] = [m.key, m.value];
        const replaced = new JsonPairs(m.kind === 'duplicateKey' && m.first ? [extra, ...pairs] : [...pairs, extra]);
        if (m.path.length === 0) root = replaced;
        else {
          const gp = m.path.slice(0, -1).reduce<any>((n, k) => n[k], root);
          gp[last] = replaced;
        }
        break;
      }
    }
  }
  return root;
}

const describeMutation = (m: Mutation): string => {
  const v = 'value' in m ? m.value : undefined;
  const shown = v instanceof RawJson ? `<raw ${v.text.length} chars>` : typeof v === 'string' && v.length > 80 ? `<string ${v.length}>` : v instanceof JsonPairs ? `<pairs ${v.pairs.map((p) => p[0]).join(',')}>` : writeJson(v).slice(0, 80);
  return `${m.kind} ${m.path.join('.')}${'key' in m ? ` key=${m.key}` : ''}${'value' in m ? ` = ${shown}` : ''}`;
};

describe(`mutated hook bodies (fast-check seed ${SEED})`, () => {
  test('one mutation anywhere in a valid order-select call', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const body = writeJson(applyMutations(orderSelectBody(stub.url), [m]));
        const r = await callHook(svc, body);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${describeMutation(m)}\n${(e as Error).message}`);
        }
      }),
      fcParams(150),
    );
  }, 120000);

  test('two to five mutations at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 2, maxLength: 5 }), async (ms) => {
        const body = writeJson(applyMutations(orderSelectBody(stub.url), ms));
        const r = await callHook(svc, body);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${ms.map(describeMutation).join(' | ')}\n${(e as Error).message}`);
        }
      }),
      fcParams(60),
    );
  }, 120000);

  test.each(['order-sign', 'medication-prescribe', 'patient-view'] as const)('one to three mutations of a valid %s call', async (hook) => {
    const m = mutationOf(asHook(orderSelectBody('http://127.0.0.1:1'), hook));
    await fc.assert(
      fc.asyncProperty(fc.array(m, { minLength: 1, maxLength: 3 }), async (ms) => {
        const body = writeJson(applyMutations(asHook(orderSelectBody(stub.url), hook), ms));
        const r = await callHook(svc, body, HOOKS[hook]);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${ms.map(describeMutation).join(' | ')}\n${(e as Error).message}`);
        }
      }),
      fcParams(40),
    );
  }, 120000);

  test('one to three mutations of an order-sign call with warfarin, clopidogrel and codeine drafts (CPIC guidance path)', async () => {
    const make = (fhirServer: string) => {
      const b = asHook(orderSelectBody(fhirServer), 'order-sign');
      const pre = b['prefetch'] as Record<string, any>;
      pre['genomics'].entry.push({ resource: pharmvarGenotype('pgx-1-2c19', 'pgx-1', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01') });
      pre['genomics'].entry.push({ resource: pharmvarGenotype('pgx-1-2d6', 'pgx-1', 'HGNC:2625', 'CYP2D6', '*1/*2x2', '2024-02-01') });
      const other = (id: string, code: string, display: string, doseMg: number) => ({
        ...draftWarfarin(id, 'pgx-1', doseMg),
        medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }], text: display },
      });
      (b['context'] as any).draftOrders.entry.push({ resource: other('mr-2', '32968', 'clopidogrel', 75) }, { resource: other('mr-3', '2670', 'codeine', 30) });
      return b;
    };
    const base = await callHook(svc, writeJson(make(stub.url)), HOOKS['order-sign']);
    assertInvariant(base, 'unmutated order-sign with three drafts');
    expect(base.json.cards.length).toBeGreaterThanOrEqual(2); // warfarin dose + at least one CPIC card
    const m = mutationOf(make('http://127.0.0.1:1'));
    await fc.assert(
      fc.asyncProperty(fc.array(m, { minLength: 1, maxLength: 3 }), async (ms) => {
        const body = writeJson(applyMutations(make(stub.url), ms));
        const r = await callHook(svc, body, HOOKS['order-sign']);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${ms.map(describeMutation).join(' | ')}\n${(e as Error).message}`);
        }
      }),
      fcParams(60),
    );
  }, 120000);

  test('random JSON documents as the whole body and on every service endpoint', async () => {
    const paths = [ENDPOINT, '/cds-services/dosing-order-sign', '/cds-services/dosing-medication-prescribe', '/cds-services/dosing-order-select/feedback'];
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 4 }), hostileValue), fc.constantFrom(...paths), async (v, path) => {
        const body = writeJson(v);
        const r = await callHook(svc, body, path);
        const isFeedback = path.endsWith('/feedback');
        const v2 = isFeedback ? (r.status >= 400 && r.status < 500 && typeof r.json?.error === 'string' ? [] : [`feedback answered ${r.status}: ${r.text.slice(0, 200)}`]) : invariantViolations(r, MAX_MS);
        if (v2.length > 0) throw new Error(`${path}: ${v2.join('; ')} — body ${body.slice(0, 500)}`);
      }),
      fcParams(60),
    );
  }, 120000);
});

describe('deep nesting, huge values, prototype keys (examples)', () => {
  const base = () => orderSelectBody(stub.url);
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
    const r = await callHook(svc, body);
    assertInvariant(r, body);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });

  test.each(['💊', 'mr 1', 'a/b', 'x'.repeat(65), '../Patient/pgx-1'])('a draft id that is not a FHIR id (%s): a card, no update/delete pointing at it', async (id) => {
    const draft = { ...draftWarfarin(id, 'pgx-1', 5) };
    const body = writeJson(asHook(orderSelectBody(stub.url, { draft }), 'order-sign'));
    const r = await callHook(svc, body, HOOKS['order-sign']);
    assertInvariant(r, body);
    expect(r.json.cards).toHaveLength(1);
    expect(r.json.cards[0].suggestions).toBeUndefined();
  });

  test('the same hookInstance twice (an EHR retry), and 20 concurrent copies of one call', async () => {
    const body = writeJson(base());
    for (const r of [await callHook(svc, body), await callHook(svc, body), ...(await Promise.all(Array.from({ length: 20 }, () => callHook(svc, body))))]) {
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
    const r = await callHook(svc, writeJson({ feedback: Array.from({ length: 100 }, (_, i) => item(i)) }), '/cds-services/dosing-order-select/feedback');
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
    const r = await callHook(svc, body);
    expect(invariantViolations(r, MAX_MS)).toEqual([]);
  });

  // KNOWN BUG (render.ts withProposedDose: `doseAndRate: [dr, ...rate.slice(1)]`, `dosageInstruction: [first,
  // ...dis.slice(1)]`): doses the service never proposed (a second doseAndRate of 40 mg, a sequence-2 instruction of
  // 50 mg daily) ride along in the update action; accepting the suggestion signs them with one click.
  test('a second dosage instruction in the draft is not carried into the update at a dose nobody proposed', async () => {
    const draft = draftWarfarin('mr-1', 'pgx-1', 5);
    draft.dosageInstruction!.push({ sequence: 2, text: '50 mg daily', timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 50, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] });
    draft.dosageInstruction![0]!.doseAndRate!.push({ doseQuantity: { value: 40, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } });
    const body = writeJson(orderSelectBody(stub.url, { draft }));
    const r = await callHook(svc, body);
    assertInvariant(r, body);
    expect(proposedDoses(r.json)).toHaveLength(1);
  });
});

describe('absurd clinical values', () => {
  const P = 'abs-1';
  const UCUM = 'http://unitsofmeasure.org';
  const LOINC = 'http://loinc.org';
  const obs = (id: string, loinc: string, value: unknown, code: unknown, date: unknown, status: unknown = 'final'): Observation =>
    ({
      resourceType: 'Observation',
      id,
      status,
      code: { coding: [{ system: LOINC, code: loinc }] },
      subject: { reference: `Patient/${P}` },
      ...(date !== undefined ? { effectiveDateTime: date } : {}),
      valueQuantity: { value, ...(code !== undefined ? { code, system: UCUM, unit: String(code) } : {}) },
    }) as Observation;
  const bundle = (rs: FhirResource[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: rs.map((resource) => ({ resource })) });
  const bodyFor = (pt: Patient, weights: Observation[], heights: Observation[], renal: Observation[] = [], inr: Observation[] = []) => {
    const pre = fullPrefetch('pgx-1');
    return orderSelectBody(stub.url, {
      patientId: P,
      draft: draftWarfarin('mr-abs', P, 5),
      prefetch: { ...pre, patient: pt, weight: bundle(weights), height: bundle(heights), renal: bundle(renal), inr: bundle(inr), genomics: bundle([]), medicationRequests: bundle([]) },
    });
  };

  const num = fc.oneof(fc.constantFrom<unknown>(0, -0, -1, 0.3, 5000, 1e308, -1e308, 5e-324, 400.0001, 25, 260, '80', 'NaN', null, true, [80], { value: 80 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
  const massUnit = fc.constantFrom<unknown>('kg', 'g', '[lb_av]', '[stone_av]', 'mg', '', 'KG', 'kilograms', '%', 5, undefined);
  const lengthUnit = fc.constantFrom<unknown>('cm', 'm', 'mm', '[in_i]', '[ft_i]', 'km', '', 'CM', undefined);
  const date = fc.constantFrom<unknown>('2026-10-01', '2999-01-01', '1800-01-01', 'yesterday', '', '2026-13-45T99:99:99Z', '0000-00-00', 20261001, undefined);
  const birthDate = fc.constantFrom<unknown>('1960-05-01', '2999-01-01', '1800-01-01', '2010-06-01', '1960-02-30', 'garbage', '', '0000', '-0001-01-01', '19600501', 1960, null);
  const status = fc.constantFrom<unknown>('final', 'amended', 'preliminary', 'entered-in-error', 'FINAL', '', null);

  test(`random weights, heights, creatinine, INR, dates and birth dates (seed ${SEED})`, async () => {
    type Raw = { loinc: string; v: unknown; u: unknown; d: unknown; s: unknown };
    const o = (loinc: string, unit: fc.Arbitrary<unknown>): fc.Arbitrary<Raw> => fc.tuple(num, unit, date, status).map(([v, u, d, s]) => ({ loinc, v, u, d, s }));
    await fc.assert(
      fc.asyncProperty(
        birthDate,
        fc.array(o('29463-7', massUnit), { maxLength: 4 }),
        fc.array(o('8302-2', lengthUnit), { maxLength: 4 }),
        fc.array(o('2160-0', fc.constantFrom<unknown>('mg/dL', 'umol/L', 'mmol/L', 'g/L', '')), { maxLength: 2 }),
        fc.array(o('6301-6', fc.constantFrom<unknown>('{INR}', '1', 's', undefined)), { maxLength: 2 }),
        fc.boolean(),
        async (bd, ws, hs, crs, inrs, withModel) => {
          const mk = (xs: Raw[], prefix: string) => xs.map((x, i) => obs(`${prefix}-${i}`, x.loinc, x.v, x.u, x.d, x.s));
          const pt = { ...patient(P, '1960-05-01', 'male'), birthDate: bd } as Patient;
          const body = writeJson(bodyFor(pt, mk(ws, 'w'), mk(hs, 'h'), mk(crs, 'cr'), mk(inrs, 'inr')));
          const r = await callHook(withModel && modelSvc ? modelSvc : svc, body);
          assertInvariant(r, body);
          expect(r.status).toBe(200);
        },
      ),
      fcParams(80),
    );
  }, 120000);

  const good = { w: obs('w', '29463-7', 80, 'kg', '2026-10-01'), h: obs('h', '8302-2', 175, 'cm', '2026-10-01') };
  const pt = (birthDate: string) => patient(P, birthDate, 'male');
  test.each<[string, () => Record<string, unknown>, RegExp]>([
    ['weight 0 kg', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 0, 'kg', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight 5000 kg', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 5000, 'kg', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight in an unknown unit', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 80, '[stone_av]', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight as a string', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', '80', 'kg', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight dated in the future', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 80, 'kg', '2999-01-01')], [good.h]), /missing body weight/],
    ['height 0', () => bodyFor(pt('1960-05-01'), [good.w], [obs('h0', '8302-2', 0, 'cm', '2026-10-01')]), /missing body height/],
    ['birthDate in the future', () => bodyFor(pt('2999-01-01'), [good.w], [good.h]), /missing age/],
    ['birthDate in 1800', () => bodyFor(pt('1800-01-01'), [good.w], [good.h]), /missing age/],
  ])('%s → no dose, the card says what is missing', async (_n, make, missing) => {
    const body = writeJson(make());
    const r = await callHook(svc, body);
    assertInvariant(r, body);
    expect(r.json.cards).toHaveLength(1);
    expect(r.json.cards[0].summary).toMatch(missing);
    expect(proposedDoses(r.json)).toEqual([]);
  });

  test('negative creatinine and an INR of 1e308 are set aside; the dose is still within bounds', async () => {
    const body = writeJson(bodyFor(pt('1960-05-01'), [good.w], [good.h], [obs('cr', '2160-0', -1, 'mg/dL', '2026-10-01')], [obs('inr', '6301-6', 1e308, '{INR}', '2026-10-01')]));
    const r = await callHook(svc, body);
    assertInvariant(r, body);
    expect(proposedDoses(r.json)).toHaveLength(1);
  });

  test('extreme but plausible patients are clamped to 0.5–15 mg/day', async () => {
    // 18-year-old 260 cm, 400 kg on an inducer vs a 129-year-old 25 cm 0.3 kg patient on amiodarone
    const inducer = { resourceType: 'MedicationRequest', id: 'carb', status: 'active', intent: 'order', subject: { reference: `Patient/${P}` }, medicationCodeableConcept: { text: 'carbamazepine 200 MG Oral Tablet' } };
    const amio = { ...inducer, id: 'amio', medicationCodeableConcept: { text: 'amiodarone hydrochloride 200 MG Oral Tablet' } };
    const year = new Date().getUTCFullYear();
    for (const s of [svc, modelSvc ?? svc]) {
      for (const [bd, w, h, med] of [[`${year - 19}-01-01`, 400, 260, inducer], [`${year - 129}-01-01`, 0.3, 25, amio]] as const) {
        const b = bodyFor(pt(bd), [obs('w', '29463-7', w, 'kg', '2026-10-01')], [obs('h', '8302-2', h, 'cm', '2026-10-01')]);
        (b['prefetch'] as Record<string, unknown>)['medicationRequests'] = bundle([med as FhirResource]);
        const body = writeJson(b);
        const r = await callHook(s, body);
        assertInvariant(r, body);
        expect(proposedDoses(r.json)).toHaveLength(1);
      }
    }
  });
});

describe('malformed FHIR resources in prefetch', () => {
  const KEYS = ['patient', 'weight', 'height', 'renal', 'inr', 'genomics', 'medicationRequests', 'medicationStatements', 'conditions'];
  const obsBase = { resourceType: 'Observation', id: 'm-1', status: 'final', subject: { reference: 'Patient/pgx-1' }, effectiveDateTime: '2026-10-01' };
  const nextTo = (url: unknown) => ({ resourceType: 'Bundle', type: 'searchset', entry: [], link: [{ relation: 'next', url }] });
  const malformed = (): fc.Arbitrary<unknown> =>
    fc.oneof(
      fc.constantFrom<unknown>(
        { resourceType: 'Patient', id: 'pgx-1' },
        { resourceType: 'Observation', id: 'pgx-1' },
        { resourceType: 'Bundle' },
        { resourceType: 'Bundle', entry: 'not an array' },
        { resourceType: 'Bundle', entry: { resource: { resourceType: 'Patient', id: 'pgx-1' } } },
        { resourceType: 'Bundle', entry: [null, 0, 'x', [], {}, { resource: null }, { resource: 'x' }, { resource: { resourceType: 5 } }, { resource: [] }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase } }] }, // no code
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: 'weight' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: 'x' } } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [null, { system: 'http://loinc.org', code: '29463-7' }] }, valueQuantity: '80 kg' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, valueQuantity: { value: '80', code: 'kg' } } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] }, valueQuantity: null, subject: 'Patient/pgx-1' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '84413-4' }] }, valueCodeableConcept: 'CYP2C9 *1/*3', component: 'x' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '84413-4' }] }, component: [null, { code: null }, { valueCodeableConcept: { coding: [{ code: null }] } }] } }] },
        { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationRequest', id: 'm', status: 'active', subject: { reference: 'Patient/pgx-1' }, medicationReference: { reference: '#x' }, contained: 'x' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationStatement', status: 'active', subject: { reference: 'Patient/pgx-1' }, medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: 833528 }] } } }] },
        { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Condition', subject: { reference: 'Patient/pgx-1' }, code: { coding: 5, text: 7 } } }] },
        { resourceType: 'Patient', id: 'pgx-1', birthDate: 19600501, gender: 5, extension: 'x' },
        { resourceType: 'Patient', id: 'pgx-1', birthDate: '1960-05-01', extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: [null, { url: 'ombCategory' }, { url: 'ombCategory', valueCoding: 'x' }] }] },
        { resourceType: 'Bundle', link: 'garbage' },
        { resourceType: 'Bundle', link: [null, 5, 'x', { relation: 'next' }] },
        nextTo(5),
        nextTo(''),
        nextTo('javascript:alert(1)'),
        nextTo('data:application/json,{"resourceType":"Bundle"}'),
        nextTo('file:///etc/passwd'),
        nextTo('::::'),
        { resourceType: 'OperationOutcome' },
        { resourceType: 'OperationOutcome', issue: 'x' },
        { resourceType: 'OperationOutcome', issue: [null, { severity: 'fatal' }] },
      ),
      // next links to the other host, in every spelling we could think of
      fc.constantFrom(
        () => nextTo(`${otherHost.url}/Observation?page=2`),
        () => nextTo(`//${otherHost.url.slice('http://'.length)}/Observation`),
        () => nextTo(`${stub.url}@${otherHost.url.slice('http://'.length)}/x`),
        () => nextTo(`${otherHost.url.replace('127.0.0.1', 'localhost')}/x`),
        () => nextTo(`${otherHost.url}/${stub.url}/Observation`),
        () => nextTo(`http:${otherHost.url.slice('http://'.length)}/x`),
        () => nextTo(` ${otherHost.url}/x`),
        () => ({ ...nextTo(`${stub.url}/Observation?patient=pgx-1`), link: [{ relation: 'self', url: `${stub.url}/x` }, { relation: 'next', url: `${otherHost.url}/a` }, { relation: 'next', url: `${stub.url}/Observation?patient=pgx-1` }] }),
      ).map((f) => f()),
    );

  test(`random malformed values for random prefetch keys (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...KEYS), malformed(), { minKeys: 1, maxKeys: 4 }), async (bad) => {
        const b = orderSelectBody(stub.url);
        Object.assign(b['prefetch'] as Record<string, unknown>, bad);
        const body = writeJson(b);
        const r = await callHook(svc, body);
        assertInvariant(r, body);
        expect([200, 412]).toContain(r.status);
        expect(otherHost.requests).toEqual([]);
      }),
      fcParams(80),
    );
    expect(otherHost.requests).toEqual([]);
  }, 120000);

  test(`malformed answers to the service's own queries, no prefetch (seed ${SEED})`, async () => {
    const kinds = ['/Patient/', '29463-7', '8302-2', '2160-0', '6301-6', '84413-4', '/MedicationRequest', '/MedicationStatement', '/Condition'];
    const answer = fc.oneof(
      malformed().map((v) => ({ status: 200, body: writeJson(v) })),
      fc.constantFrom(
        { status: 200, body: '' },
        { status: 200, body: 'null' },
        { status: 200, body: '[]' },
        { status: 200, body: '{"resourceType":"Bundle","entry":[' },
        { status: 200, body: '\u0000\u0001' },
        { status: 200, body: '{"resourceType":"Patient","id":"pgx-1","birthDate":"1960-05-01","__proto__":{"id":"x"}}' },
        { status: 404, body: '{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}' },
        { status: 410, body: '' },
        { status: 301, body: '' },
        { status: 500, body: '<html>' },
        { status: 200, body: writeJson({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'pgx-1', birthDate: '1960-05-01' } }] }) },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...kinds), answer, { minKeys: 1, maxKeys: 4 }), async (bad) => {
        stub.override = (u) => Object.entries(bad).find(([k]) => `${u.pathname}${u.search}`.includes(k))?.[1];
        try {
          const body = writeJson(orderSelectBody(stub.url, { prefetch: null }));
          const r = await callHook(svc, body);
          assertInvariant(r, JSON.stringify(bad).slice(0, 1500));
          expect([200, 412]).toContain(r.status);
          expect(otherHost.requests).toEqual([]);
        } finally {
          stub.override = undefined;
        }
      }),
      fcParams(60),
    );
  }, 120000);

  test('a next link to another host is never requested (the EHR token would leak)', async () => {
    const b = orderSelectBody(stub.url);
    const pre = b['prefetch'] as Record<string, unknown>;
    for (const k of ['weight', 'height', 'renal', 'inr', 'genomics', 'medicationRequests', 'conditions']) pre[k] = nextTo(`${otherHost.url}/${k}?_page=2`);
    const r = await callHook(svc, writeJson(b));
    expect(r.status).toBe(200);
    expect(otherHost.requests).toEqual([]);
    // the same with no fhirServer at all (nothing to compare the origin with)
    delete b['fhirServer'];
    delete b['fhirAuthorization'];
    const r2 = await callHook(svc, writeJson(b));
    expect(r2.status).toBe(200);
    expect(otherHost.requests).toEqual([]);
  });
});

describe('where the service sends the EHR token', () => {
  let allow: TestService; // FHIR_ALLOWED_SERVERS = the stub only
  beforeAll(async () => {
    allow = await startTestService({ 'fhir.deadlineMs': FHIR_DEADLINE_MS, requestDeadlineMs: REQUEST_DEADLINE_MS, 'fhir.allowedServers': [stub.url] });
  });
  afterAll(async () => {
    await allow?.close();
  });

  test('fhirServer spellings that lead elsewhere are refused (412), and the other host hears nothing', async () => {
    const o = new URL(otherHost.url);
    const st = new URL(stub.url);
    const variants = [
      otherHost.url,
      `${otherHost.url}/`,
      `HTTP://${o.host}`,
      `http://${st.host}@${o.host}`,
      `http://user:pass@${st.host}`,
      `http://${o.host}/?${stub.url}`,
      `http://${o.host}#${stub.url}`,
      `http://${o.host}/${stub.url}`,
      `http://0x7f.0.0.1:${o.port}`,
      `http://2130706433:${o.port}`,
      `http://[::ffff:127.0.0.1]:${o.port}`,
      `http://localhost:${o.port}`,
      `${stub.url}.${o.host}`,
      `${stub.url}/..${o.port}`,
    ];
    for (const fhirServer of variants) {
      const r = await callHook(allow, writeJson(orderSelectBody(fhirServer, { prefetch: null })));
      expect(invariantViolations(r, MAX_MS)).toEqual([]);
      expect([400, 412]).toContain(r.status);
    }
    expect(otherHost.requests).toEqual([]);
    // the allowed server itself works
    const ok = await callHook(allow, writeJson(orderSelectBody(stub.url, { prefetch: null })));
    expect(proposedDoses(ok.json)).toHaveLength(1);
  });

  test('a hostile patientId cannot change which FHIR paths are queried', async () => {
    const before = stub.requests.length;
    const b = orderSelectBody(stub.url, { prefetch: null, patientId: '../../admin?_format=xml&x=#/Patient/pgx-1' });
    const r = await callHook(svc, writeJson(b));
    expect(invariantViolations(r, MAX_MS)).toEqual([]);
    // the patient id must be a FHIR id (issue 21): refused before any query is made
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/context\.patientId: must be a FHIR id/);
    expect(stub.requests.slice(before)).toEqual([]);
  });
});

describe('10,000 of everything', () => {
  const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));

  test('10,000 draft orders and 10,000 selections → a quick 4xx, or a bounded answer', async () => {
    const drafts = many(10_000, (i) => ({ resource: draftWarfarin(`mr-${i}`, 'pgx-1', 5) }));
    const b = orderSelectBody(stub.url) as { context: Record<string, any> };
    b.context['draftOrders'] = { resourceType: 'Bundle', entry: drafts };
    b.context['selections'] = many(10_000, (i) => `MedicationRequest/mr-${i}`);
    const body = writeJson(b);
    const r = await callHook(bigSvc, body);
    assertInvariant(r, body.slice(0, 500));
  });

  test('10,000 selections of one draft', async () => {
    const b = orderSelectBody(stub.url) as { context: Record<string, any> };
    b.context['selections'] = many(10_000, () => 'MedicationRequest/mr-1');
    const r = await callHook(bigSvc, writeJson(b));
    assertInvariant(r, '10,000 selections');
  });

  test('1,000 selected warfarin drafts (the most the schema allows): bounded time, unique uuids, every dose in bounds', async () => {
    const b = orderSelectBody(stub.url) as { context: Record<string, any> };
    b.context['draftOrders'] = { resourceType: 'Bundle', entry: many(1000, (i) => ({ resource: draftWarfarin(`mr-${i}`, 'pgx-1', (i % 40) / 2) })) };
    b.context['selections'] = many(1000, (i) => `MedicationRequest/mr-${i}`);
    const r = await callHook(bigSvc, writeJson(b));
    assertInvariant(r, '1,000 drafts');
    expect(r.status).toBe(200);
  });

  test('10,000 Observations in a prefetch Bundle (weights, some absurd, some other patients)', async () => {
    const b = orderSelectBody(stub.url);
    const entries = many(10_000, (i) => ({
      resource: vital(`w-${i}`, i % 7 === 0 ? 'someone-else' : 'pgx-1', '29463-7', 'Body weight', i % 11 === 0 ? 5000 : 40 + (i % 80), i % 5 === 0 ? '[lb_av]' : 'kg', 'kg', `2026-${String(1 + (i % 12)).padStart(2, '0')}-01`),
    }));
    (b['prefetch'] as Record<string, unknown>)['weight'] = { resourceType: 'Bundle', type: 'searchset', entry: entries };
    const body = writeJson(b);
    const r = await callHook(bigSvc, body);
    assertInvariant(r, '10,000 observations');
    expect(r.status).toBe(200);
    expect(proposedDoses(r.json)).toHaveLength(1);
  });

  test('10,000 Observations of every kind in every prefetch key', async () => {
    const b = orderSelectBody(stub.url);
    const pre = b['prefetch'] as Record<string, unknown>;
    const codes = ['29463-7', '8302-2', '2160-0', '6301-6', '84413-4', '98979-8'];
    for (const k of ['weight', 'height', 'renal', 'inr', 'genomics']) {
      pre[k] = { resourceType: 'Bundle', type: 'searchset', entry: many(2000, (i) => ({ resource: vital(`${k}-${i}`, 'pgx-1', codes[i % codes.length]!, 'x', (i % 300) + 0.5, 'kg', 'kg', '2026-10-01') })) };
    }
    const r = await callHook(bigSvc, writeJson(b));
    assertInvariant(r, '5 × 2,000 observations');
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
    const r = await svc.post(ENDPOINT, body, headers);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(typeof r.json?.error).toBe('string');
  });
});
