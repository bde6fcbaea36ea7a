// Each evaluator declares the prefetch keys it reads beyond the shared ones (src/dosing/registry.ts, `needs`), and a hook
// call reads — or, without prefetch, queries — only the keys of the drugs in scope. These tests check that what is
// declared is enough and that none of it is idle: for every patient of a varied pool and every drug, in both modes,
// the recommendations made from the drug's keys alone equal those made from every key (inputs, sources, doses, notes,
// missing data, all of it), and each declared key changes some drug's recommendation when it is left out.
import type { Bundle, FhirResource, MedicationRequest, Procedure } from 'fhir/r4';
import { toOrder } from '../../src/cds/orders.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { loadConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { defaultRegistry, type EvaluatorRegistry } from '../../src/dosing/registry.js';
import { extractFacts } from '../../src/fhir/facts.js';
import { gatherData } from '../../src/fhir/gather.js';
import { loadWarfarinModel, type WarfarinModel } from '../../src/model/warfarinModel.js';
import { draftOrder, INTRAVENOUS, ORAL } from '../fixtures/orders.js';
import { activeMed, patient, pharmvarGenotype, searchset, syntheticResources, vital } from '../fixtures/synthetic-patients.js';
import { vancomycinAdmin, vancomycinLevel } from '../fixtures/vancomycin.js';
import { basalOrder, cgmTrace, device } from '../fixtures/cgm.js';
import { activeWarfarin, inrObservation, lenziniPatient, plusDays } from '../fixtures/warfarin-history.js';

const NOW = new Date();
const TODAY = NOW.toISOString().slice(0, 10);
const daysAgo = (d: number) => plusDays(TODAY, -d);
const catalog = loadServiceCatalog();
const dict = DrugDictionary.load();
const config = loadConfig({});
const ALL_KEYS = Object.keys(catalog.prefetch);

const hemodialysis = (id: string, patientId: string, date: string): Procedure => ({
  resourceType: 'Procedure',
  id,
  status: 'completed',
  subject: { reference: `Patient/${patientId}` },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '302497006', display: 'Hemodialysis' }] },
  performedDateTime: date,
});
const creatinine = (id: string, patientId: string, mgDl: number, date: string) => vital(id, patientId, '2160-0', 'Creatinine', mgDl, 'mg/dL', 'mg/dL', date);

/** Patients chosen so that every evaluator meets the data it reads: genotypes, kidney function, dialysis, levels, doses given. */
const POOL: FhirResource[] = [
  // pgx-1 (CYP2C9 *1/*3, VKORC1, amiodarone), clin-1 (no genotype), nohgt-1 (no height), cyp-1 (CYP2C19 *2/*2 + NSTEMI)
  ...syntheticResources(),
  // day 5 of warfarin with an INR (Lenzini refinement), genotyped
  ...lenziniPatient('w1', { day1: daysAgo(5), birthDate: '1961-01-01', doses: [5, 5, 5, 5], inrDay: 5, inr: 1.5 }),
  // reduced kidney function, CYP2D6 poor metabolizer, CYP2C19 normal
  patient('ren-1', '1948-03-03', 'female', { code: '2106-3', display: 'White' }),
  vital('ren-1-wt', 'ren-1', '29463-7', 'Body weight', 58, 'kg', 'kg', daysAgo(3)),
  vital('ren-1-ht', 'ren-1', '8302-2', 'Body height', 160, 'cm', 'cm', daysAgo(3)),
  creatinine('ren-1-cr', 'ren-1', 2.6, daysAgo(1)),
  pharmvarGenotype('ren-1-cyp2d6', 'ren-1', 'HGNC:2625', 'CYP2D6', '*4/*4', '2025-01-10'),
  pharmvarGenotype('ren-1-cyp2c19', 'ren-1', 'HGNC:2621', 'CYP2C19', '*1/*1', '2025-01-10'),
  // on haemodialysis, on warfarin with an INR above range
  patient('hd-1', '1955-08-08', 'male', { code: '2054-5', display: 'Black or African American' }),
  vital('hd-1-wt', 'hd-1', '29463-7', 'Body weight', 84, 'kg', 'kg', daysAgo(2)),
  vital('hd-1-ht', 'hd-1', '8302-2', 'Body height', 181, 'cm', 'cm', daysAgo(2)),
  creatinine('hd-1-cr', 'hd-1', 7.1, daysAgo(2)),
  hemodialysis('hd-1-hd', 'hd-1', `${daysAgo(2)}T09:00:00Z`),
  activeWarfarin('hd-1-warf', 'hd-1', 5),
  inrObservation('hd-1-inr', 'hd-1', 4.2, `${daysAgo(1)}T07:00:00Z`),
  // vancomycin: two infusions and two levels, kidney function, weight
  patient('van-1', '1970-01-20', 'male'),
  vital('van-1-wt', 'van-1', '29463-7', 'Body weight', 80, 'kg', 'kg', daysAgo(1)),
  vital('van-1-ht', 'van-1', '8302-2', 'Body height', 178, 'cm', 'cm', daysAgo(1)),
  creatinine('van-1-cr', 'van-1', 1.1, daysAgo(1)),
  vancomycinAdmin('van-1-d1', 'van-1', 1250, 20, 19, NOW),
  vancomycinAdmin('van-1-d2', 'van-1', 1250, 8, 7, NOW),
  vancomycinLevel('van-1-pk', 'van-1', '4089-9', 31, 6, NOW),
  vancomycinLevel('van-1-tr', 'van-1', '4090-7', 11, 0.5, NOW),
  activeMed('van-1-amio', 'van-1', '833528', 'amiodarone hydrochloride 200 MG Oral Tablet'),
  // a CYP2D6 result under the laboratory's own code, found only by the genetics category (genomicsCategory)
  patient('loc-1', '1980-05-05', 'female'),
  {
    resourceType: 'Observation',
    id: 'loc-1-cyp2d6',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'GE' }] }],
    code: { coding: [{ system: 'urn:oid:1.2.840.114350.1.13.0.1.7.2.768282', code: 'PGX2D6', display: 'CYP2D6 genotype' }] },
    subject: { reference: 'Patient/loc-1' },
    effectiveDateTime: '2025-02-02',
    valueString: 'CYP2D6 *4/*4',
  },
  // a week of CGM with fasting values above the goal (basal titration), from a CGM Device on file
  patient('cgm-1', '1966-06-06', 'female'),
  device('cgm-1-dev', 'cgm-1', 'Continuous glucose monitor', 'Dexcom G7'),
  ...cgmTrace('cgm-1-g', 'cgm-1', { fasting: [170, 170, 170, 170, 170, 170, 170], lastDate: TODAY, until: NOW, intervalMin: 60, device: 'cgm-1-dev' }),
  // the same readings, on an insulin pump (Device): the titration refuses
  patient('pump-1', '1990-09-09', 'male'),
  device('pump-1-dev', 'pump-1', 'Insulin pump', 'Omnipod 5'),
  ...cgmTrace('pump-1-g', 'pump-1', { fasting: [170, 170, 170, 170, 170, 170, 170], lastDate: TODAY, until: NOW, intervalMin: 60 }),
];
const PATIENTS = ['pgx-1', 'clin-1', 'nohgt-1', 'cyp-1', 'w1', 'ren-1', 'hd-1', 'van-1', 'loc-1', 'cgm-1', 'pump-1'];

const DAILY = { frequency: 1, period: 1, periodUnit: 'd' } as const;
const DRUGS: MedicationRequest[] = [
  draftOrder('d-warfarin', 'x', { rxcui: '11289', text: 'warfarin' }, { mg: 5, timing: DAILY, route: ORAL }),
  draftOrder('d-clopidogrel', 'x', { rxcui: '32968', text: 'clopidogrel' }, { mg: 75, timing: DAILY, route: ORAL }),
  draftOrder('d-codeine', 'x', { rxcui: '2670', text: 'codeine' }, { mg: 30, timing: { frequency: 4, period: 1, periodUnit: 'd' }, route: ORAL }),
  draftOrder('d-gabapentin', 'x', { rxcui: '25480', text: 'gabapentin' }, { mg: 600, timing: { frequency: 3, period: 1, periodUnit: 'd' }, route: ORAL }),
  draftOrder('d-enoxaparin', 'x', { rxcui: '67108', text: 'enoxaparin' }, { mg: 80, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: { code: '34206005', display: 'Subcutaneous route' } }),
  draftOrder('d-levetiracetam', 'x', { rxcui: '114477', text: 'levetiracetam' }, { mg: 1000, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL }),
  draftOrder('d-metformin', 'x', { rxcui: '6809', text: 'metformin' }, { mg: 1000, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL }),
  draftOrder('d-apixaban', 'x', { rxcui: '1364430', text: 'apixaban' }, { mg: 5, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL }),
  draftOrder('d-nitrofurantoin', 'x', { rxcui: '7454', text: 'nitrofurantoin' }, { mg: 100, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL }),
  draftOrder('d-vancomycin', 'x', { rxcui: '11124', text: 'vancomycin' }, { mg: 1250, timing: { frequency: 12, period: 1, periodUnit: 'h' }, route: INTRAVENOUS }),
  basalOrder('d-glargine', 'x', 20, { status: 'draft' }),
];

/** What the EHR's search for `key` returns for this patient (the template's resource type and codes). */
function answer(key: string, patientId: string): FhirResource | Bundle | undefined {
  const template = catalog.prefetch[key]!;
  const [type, query = ''] = template.split('?');
  if (type!.startsWith('Patient/')) return POOL.find((r) => r.resourceType === 'Patient' && r.id === patientId);
  const params = new URLSearchParams(query);
  const codes = params.get('code')?.split(',');
  const categories = params.get('category')?.split(',');
  type Coded = { code?: { coding?: { system?: string; code?: string }[] }; category?: { coding?: { system?: string; code?: string }[] }[] };
  return searchset(
    POOL.filter((r) => {
      const subject = r.resourceType === 'Device' ? r.patient : (r as { subject?: { reference?: string } }).subject;
      if (r.resourceType !== type || subject?.reference !== `Patient/${patientId}`) return false;
      const coding = (r as Coded).code?.coding ?? [];
      const category = ((r as Coded).category ?? []).flatMap((c) => c.coding ?? []);
      if (categories) return category.some((c) => categories.includes(`${c.system}|${c.code}`));
      return !codes || coding.some((c) => codes.includes(`${c.system}|${c.code}`));
    }),
  );
}

/** The recommendations for one drug from the prefetch of `keys` only (ids numbered per run, so runs compare). */
async function recommend(registry: EvaluatorRegistry, patientId: string, draft: MedicationRequest, keys: string[], mode: 'order' | 'monitor'): Promise<Recommendation[]> {
  const gathered = await gatherData({
    queries: Object.fromEntries(keys.map((k) => [k, catalog.prefetch[k]])),
    prefetch: Object.fromEntries(keys.map((k) => [k, answer(k, patientId)])),
    fhirServer: undefined,
    fhirAuthorization: undefined,
    deadlineMs: 1000,
    maxPages: 1,
    policy: { allowedServers: [], allowInsecureLoopback: false },
  });
  const facts = extractFacts(gathered, { patientId, now: NOW });
  const order = toOrder({ ...draft, subject: { reference: `Patient/${patientId}` } }, dict);
  let n = 0;
  const out: Recommendation[] = [];
  for (const drug of order.drugs) out.push(...(await registry.evaluate({ facts, order, drug, drugs: dict, config, newId: () => `id-${++n}`, mode })));
  return out;
}

const ingredientOf = (mr: MedicationRequest) => dict.identifyConcept(mr.medicationCodeableConcept)[0]!.ingredient;
const keysFor = (registry: EvaluatorRegistry, ingredient: string) => ALL_KEYS.filter((k) => registry.usesPrefetchKey(k, new Set([ingredient])));

let model: WarfarinModel;
let registry: EvaluatorRegistry;
beforeAll(async () => {
  model = await loadWarfarinModel();
  registry = defaultRegistry({ warfarinModel: model });
});
afterAll(async () => {
  await model?.close();
});

test('every drug of the test is identified and has an evaluator', () => {
  for (const d of DRUGS) expect([d.id, registry.has(ingredientOf(d))]).toEqual([d.id, true]);
});

test("each drug's own keys: fewer queries than every key, for every drug", () => {
  // Source: the evaluators' declarations (src/dosing/registry.ts, pgx/renal/tdm register.ts)
  const shared = ['patient', 'medicationRequests', 'medicationStatements', 'conditions'];
  const expected: Record<string, string[]> = {
    warfarin: [...shared, 'weight', 'height', 'inr', 'genomics', 'genomicsCategory', 'medicationAdministrations', 'devices'],
    'insulin glargine': [...shared, 'glucose', 'devices'],
    clopidogrel: [...shared, 'genomics', 'genomicsCategory'],
    codeine: [...shared, 'genomics', 'genomicsCategory'],
    gabapentin: [...shared, 'weight', 'height', 'renal', 'dialysis'],
    enoxaparin: [...shared, 'weight', 'height', 'renal', 'dialysis'],
    levetiracetam: [...shared, 'weight', 'height', 'renal', 'dialysis'],
    metformin: [...shared, 'weight', 'height', 'renal', 'dialysis'],
    apixaban: [...shared, 'weight', 'height', 'renal', 'dialysis'],
    nitrofurantoin: [...shared, 'weight', 'height', 'renal', 'genomics', 'genomicsCategory', 'dialysis'],
    vancomycin: [...shared, 'weight', 'renal', 'vancomycinLevels', 'medicationAdministrations', 'dialysis'],
  };
  for (const d of DRUGS) {
    const i = ingredientOf(d);
    expect([i, keysFor(registry, i).sort()]).toEqual([i, expected[i]!.sort()]);
    expect(keysFor(registry, i).length).toBeLessThan(ALL_KEYS.length);
  }
  // patient-view reads the shared keys first to find the active orders
  expect(keysFor(registry, 'no-such-drug').sort()).toEqual([...shared].sort());
});

test.each(['order', 'monitor'] as const)("%s mode: the drug's own keys give the same recommendations as every key, for every patient and drug", async (mode) => {
  const kinds = new Set<string>();
  for (const pid of PATIENTS) {
    for (const draft of DRUGS) {
      const i = ingredientOf(draft);
      const all = await recommend(registry, pid, draft, ALL_KEYS, mode);
      const own = await recommend(registry, pid, draft, keysFor(registry, i), mode);
      expect([pid, i, own]).toEqual([pid, i, all]);
      for (const r of all) kinds.add(`${i}:${r.kind}:${r.method?.id ?? ''}`);
    }
  }
  // the comparison covered real work, not empty lists: doses, genotype guidance, kidney bands, levels
  const expected =
    mode === 'order'
      ? ['warfarin:dose:warfarin-dose-v2', 'warfarin:dose:warfarin-lenzini-2010', 'warfarin:missing-data:iwpc-2009', 'clopidogrel:alternative:cpic-pgx', 'codeine:alternative:cpic-pgx', 'gabapentin:dose-adjustment:renal-bands', 'nitrofurantoin:alternative:renal-bands', 'vancomycin:dose:tdm-goti2018-prior', 'vancomycin:dose-adjustment:tdm-goti2018-bayesian', 'insulin glargine:dose-adjustment:ada-basal-titration', 'insulin glargine:missing-data:ada-basal-titration']
      : ['insulin glargine:dose-adjustment:ada-basal-titration', 'warfarin:dose-adjustment:warfarin-inr-monitoring/inr-high', 'clopidogrel:alternative:cpic-pgx', 'codeine:alternative:cpic-pgx', 'gabapentin:dose-adjustment:renal-bands', 'nitrofurantoin:alternative:renal-bands', 'vancomycin:dose-adjustment:tdm-goti2018-bayesian'];
  expect([...kinds].filter((k) => expected.includes(k)).sort()).toEqual(expected.sort());
});

test('no declared key is idle: leaving any one out changes some recommendation of a drug that declares it', async () => {
  const idle: string[] = [];
  const declared = new Set(registry.declaredPrefetchKeys());
  for (const key of declared) {
    let matters = false;
    for (const draft of DRUGS) {
      const i = ingredientOf(draft);
      const own = keysFor(registry, i);
      if (!own.includes(key)) continue;
      for (const pid of PATIENTS) {
        const full = await recommend(registry, pid, draft, own, 'order');
        const without = await recommend(registry, pid, draft, own.filter((k) => k !== key), 'order');
        if (JSON.stringify(full) !== JSON.stringify(without)) matters = true;
        if (matters) break;
      }
      if (matters) break;
    }
    if (!matters) idle.push(key);
  }
  expect(idle).toEqual([]);
});
