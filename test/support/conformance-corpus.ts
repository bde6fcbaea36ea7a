// The corpus of real answers the CDS Hooks 2.0 conformance tests check (test/integration/conformance*.test.ts,
// docs/conformance.md): through the real service (signed ES384 JWTs, SQLite) and the real FHIR test server — warfarin
// dose (update), missing data (no suggestion), clopidogrel CYP2C19 poor metabolizer (delete + create), carbamazepine
// HLA-B*15:02 with HLA-A untested (test suggestion: create ServiceRequest), order-sign, medication-prescribe, patient-view
// monitoring, no guidance (empty cards) and a 412 — and the accessors the rules are written with.
import { randomUUID } from 'node:crypto';
import type { Condition, FhirResource, MedicationRequest } from 'fhir/r4';
import type { Action, Card, Coding, Link, Suggestion } from '../../src/cds/protocol.js';
import { orderSelectCall } from '../fixtures/orders.js';
import { activeMed, draftClopidogrel, draftWarfarin, fullPrefetch, patient, pharmvarGenotype, syntheticResources, textGenotype } from '../fixtures/synthetic-patients.js';
import { startFhirServer, type RunningFhirServer } from './fhir-server/index.js';
import { startTestService, type TestService } from './service.js';

const TOKEN = 'ehr-access-token-conformance';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const LAUNCH = 'https://cds.example.org/smart/launch.html';

const nstemi: Condition = {
  resourceType: 'Condition',
  id: 'conf-clop-acs',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I21.4', display: 'Non-ST elevation myocardial infarction' }] },
  subject: { reference: 'Patient/conf-clop' },
  recordedDate: '2026-11-20',
};
const activeClopidogrel: MedicationRequest = {
  ...activeMed('conf-mon-clop', 'conf-mon', '32968', 'clopidogrel 75 MG Oral Tablet'),
  dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 75, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }],
};
const seed = (): FhirResource[] => [
  ...syntheticResources(),
  patient('conf-clop', '1958-04-02', 'male'),
  pharmvarGenotype('conf-clop-2c19', 'conf-clop', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01'),
  nstemi,
  patient('conf-cbz', '1988-03-03', 'female'),
  textGenotype('conf-cbz-hlab', 'conf-cbz', 'HGNC:4932', 'HLA-B', 'HLA-B*15:02 positive', '2025-01-01'),
  patient('conf-mon', '1957-01-01', 'male'),
  pharmvarGenotype('conf-mon-2c19', 'conf-mon', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01'),
  activeClopidogrel,
];

function drug(id: string, patientId: string, rxcui: string, text: string): MedicationRequest {
  return { resourceType: 'MedicationRequest', id, status: 'draft', intent: 'order', subject: { reference: `Patient/${patientId}` }, medicationCodeableConcept: { coding: [{ system: RXNORM, code: rxcui, display: text }], text } };
}

export interface Answer {
  name: string;
  status: number;
  headers: Headers;
  json: any;
  /** the draft orders of the call, by reference */
  drafts: Map<string, MedicationRequest>;
}

let fhir: RunningFhirServer;
let svc: TestService;
export const answers: Answer[] = [];
export let fhirRequests: { bearer: boolean; url: string }[] = [];

async function send(name: string, path: string, body: unknown, drafts: MedicationRequest[] = []): Promise<Answer> {
  const url = `${svc.url}${path}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await svc.ehr.bearer(url), origin: 'https://sandbox.cds-hooks.org' }, body: JSON.stringify(body) });
  const a: Answer = { name, status: res.status, headers: res.headers, json: await res.json(), drafts: new Map(drafts.map((d) => [`MedicationRequest/${d.id}`, d])) };
  answers.push(a);
  return a;
}

export const hookCall = (hook: 'order-select' | 'order-sign', patientId: string, drafts: MedicationRequest[], extra: Record<string, unknown> = {}) => {
  const body = orderSelectCall(fhir.url, TOKEN, patientId, drafts[0]!, extra) as Record<string, any>;
  body['hook'] = hook;
  body['context'].draftOrders.entry = drafts.map((resource) => ({ resource }));
  if (hook === 'order-sign') delete body['context'].selections;
  return body;
};

/** Start the FHIR test server and the service, and collect the corpus (jest hooks of the calling test file). */
export function useConformanceCorpus(): { readonly svc: TestService; readonly fhir: RunningFhirServer } {
  beforeAll(async () => {
    [fhir, svc] = await Promise.all([startFhirServer({ token: TOKEN, seed: seed() }), startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000, smartLaunchUrl: LAUNCH })]);
    svc.allowFhirServer(fhir.url, 'http://127.0.0.1:9');
    const warf5 = draftWarfarin('conf-mr-1', 'pgx-1', 5);
    await send('warfarin dose, full prefetch', '/cds-services/dosing-order-select', hookCall('order-select', 'pgx-1', [warf5], { prefetch: fullPrefetch('pgx-1') }), [warf5]);
    const noHeight = draftWarfarin('conf-mr-2', 'nohgt-1', 5);
    await send('warfarin, height missing', '/cds-services/dosing-order-select', hookCall('order-select', 'nohgt-1', [noHeight]), [noHeight]);
    const clop = draftClopidogrel('conf-mr-3', 'conf-clop');
    await send('clopidogrel, CYP2C19 poor metabolizer', '/cds-services/dosing-order-select', hookCall('order-select', 'conf-clop', [clop]), [clop]);
    const cbz = drug('conf-mr-4', 'conf-cbz', '2002', 'carbamazepine');
    await send('carbamazepine, HLA-B*15:02, HLA-A untested', '/cds-services/dosing-order-sign', hookCall('order-sign', 'conf-cbz', [cbz]), [cbz]);
    const warf10 = draftWarfarin('conf-mr-5', 'pgx-1', 10);
    await send('order-sign, warfarin 10 mg', '/cds-services/dosing-order-sign', hookCall('order-sign', 'pgx-1', [warf10], { prefetch: fullPrefetch('pgx-1') }), [warf10]);
    const warfMp = draftWarfarin('conf-mr-6', 'pgx-1');
    await send('medication-prescribe', '/cds-services/dosing-medication-prescribe', {
      hook: 'medication-prescribe', hookInstance: randomUUID(), prefetch: fullPrefetch('pgx-1'),
      context: { userId: 'Practitioner/example', patientId: 'pgx-1', medications: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: warfMp }] } },
    }, [warfMp]);
    await send('patient-view, active clopidogrel', '/cds-services/dosing-monitor', {
      hook: 'patient-view', hookInstance: randomUUID(), fhirServer: fhir.url,
      fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: 'conf-mon' },
      context: { userId: 'Practitioner/example', patientId: 'conf-mon' },
    });
    const amlo = drug('conf-mr-7', 'pgx-1', '17767', 'amlodipine');
    await send('no guidance', '/cds-services/dosing-order-select', hookCall('order-select', 'pgx-1', [amlo]), [amlo]);
    fhirRequests = await fhir.admin.requests();
    const down = hookCall('order-select', 'pgx-1', [draftWarfarin('conf-mr-8', 'pgx-1')]);
    down['fhirServer'] = 'http://127.0.0.1:9'; // named for the EHR, connection refused, nothing prefetched
    await send('FHIR server down, no prefetch', '/cds-services/dosing-order-select', down);
  }, 60000);
  afterAll(async () => {
    await Promise.all([fhir?.stop(), svc?.close()]);
  });
  return {
    get svc() {
      return svc;
    },
    get fhir() {
      return fhir;
    },
  };
}

export const answer = (name: string) => answers.find((a) => a.name === name)!;
export const ok = () => answers.filter((a) => a.status === 200 && Array.isArray(a.json?.cards));
export const cards = (): { a: Answer; c: Card }[] => ok().flatMap((a) => (a.json.cards as Card[]).map((c) => ({ a, c })));
export const suggestions = (): { a: Answer; c: Card; s: Suggestion }[] => cards().flatMap(({ a, c }) => (c.suggestions ?? []).map((s) => ({ a, c, s })));
export const actions = (): { a: Answer; c: Card; s: Suggestion; x: Action }[] => suggestions().flatMap(({ a, c, s }) => (s.actions ?? []).map((x) => ({ a, c, s, x })));
export const links = (): Link[] => cards().flatMap(({ c }) => c.links ?? []);
export const overrideReasons = (): Coding[] => cards().flatMap(({ c }) => c.overrideReasons ?? []);
export const topics = (): Coding[] => cards().flatMap(({ c }) => (c.source.topic ? [c.source.topic] : []));
export const isAbsoluteUrl = (u: unknown) => typeof u === 'string' && /^https?:$/.test(new URL(u).protocol);
export const isUuid = (u: unknown) => typeof u === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(u);
/** every element satisfies `check`, and there is at least one (the corpus holds what the rule is about) */
export function everyOne<T>(items: T[], check: (t: T) => boolean): void {
  expect(items.length).toBeGreaterThan(0);
  expect(items.filter((t) => !check(t))).toEqual([]);
}

export async function discovery(headers: Record<string, string> = {}) {
  const url = `${svc.url}/cds-services`;
  const res = await fetch(url, { headers: { authorization: await svc.ehr.bearer(url), ...headers } });
  return { res, json: (await res.json()) as { services: Record<string, unknown>[] } };
}

