// Pharmacogenomic (CPIC) guidance end to end: real FHIR server process + real service with signed JWTs.
// Each case runs with a full prefetch (no FHIR query) and without prefetch (the service queries FHIR itself).
import type { Condition, FhirResource, MedicationRequest } from 'fhir/r4';
import { patient, pharmvarGenotype, textGenotype } from '../fixtures/synthetic-patients.js';
import { useFhirAndService } from '../support/service.js';
import { pgxCall, pgxDraft } from '../support/pgx-hooks.js';
import { visibleText } from '../support/markdown.js';

const TOKEN = 'ehr-access-token-pgx';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';

function condition(id: string, patientId: string, icd10: string, display: string): Condition {
  return {
    resourceType: 'Condition',
    id,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: icd10, display }], text: display },
    subject: { reference: `Patient/${patientId}` },
    recordedDate: '2026-11-20',
  };
}

/** The synthetic PGx cohort (no real data). */
function resources(): FhirResource[] {
  return [
    patient('pgx-clop', '1958-04-02', 'male'),
    pharmvarGenotype('pgx-clop-2c19', 'pgx-clop', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01'),
    condition('pgx-clop-acs', 'pgx-clop', 'I21.4', 'Non-ST elevation myocardial infarction'),
    patient('pgx-cod', '1990-09-09', 'female'),
    pharmvarGenotype('pgx-cod-2d6', 'pgx-cod', 'HGNC:2625', 'CYP2D6', '*1/*2x2', '2024-02-01'),
    patient('pgx-aba', '1975-01-15', 'male'),
    textGenotype('pgx-aba-hlab', 'pgx-aba', 'HGNC:4932', 'HLA-B', 'HLA-B*57:01 positive', '2023-08-08'),
    patient('pgx-cbz', '1988-03-03', 'female'),
    textGenotype('pgx-cbz-hlab', 'pgx-cbz', 'HGNC:4932', 'HLA-B', 'HLA-B*15:02 positive', '2025-01-01'),
    patient('pgx-cape', '1962-12-12', 'female'),
    textGenotype('pgx-cape-dpyd', 'pgx-cape', 'HGNC:1806', 'DPYD', 'DPYD c.1905+1G>A/Reference', '2026-10-01'),
    patient('pgx-simva', '1955-05-05', 'male'),
    pharmvarGenotype('pgx-simva-slco', 'pgx-simva', 'HGNC:10959', 'SLCO1B1', '*5/*5', '2022-02-02'),
    patient('pgx-nm', '1970-07-07', 'male'),
    pharmvarGenotype('pgx-nm-2c19', 'pgx-nm', 'HGNC:2621', 'CYP2C19', '*1/*1', '2025-06-01'),
    patient('pgx-none', '1966-06-06', 'female'),
  ];
}

const env = useFhirAndService(TOKEN, resources);

const draft = pgxDraft;
const call = (patientId: string, mr: MedicationRequest, withPrefetch: boolean, hook: 'order-select' | 'order-sign' = 'order-select') =>
  pgxCall({ svc: env.svc, fhir: env.fhir, token: TOKEN, resources: resources(), patientId, order: mr, withPrefetch, hook });

describe.each([
  ['with prefetch', true],
  ['without prefetch (the service queries FHIR)', false],
])('CPIC guidance %s', (_label, withPrefetch) => {
  test('clopidogrel, CYP2C19 *2/*2, NSTEMI on file → critical card, ACS/PCI row, prasugrel/ticagrelor suggestions', async () => {
    const mr = draft(`clop-${withPrefetch}`, 'pgx-clop', '32968', 'clopidogrel');
    const { cards } = await call('pgx-clop', mr, withPrefetch);
    expect(cards).toHaveLength(1);
    const c = cards[0];
    expect(c.indicator).toBe('critical');
    expect(c.summary).toBe('Clopidogrel: CYP2C19 Poor Metabolizer — avoid (CPIC Strong)');
    expect(visibleText(c.detail)).toContain('| CYP2C19 | *2/*2 | Poor Metabolizer |');
    expect(c.detail).toContain('Avoid clopidogrel if possible. Use prasugrel or ticagrelor at standard dose if no contraindication.');
    expect(c.detail).toContain('classification: **Strong**');
    expect(visibleText(c.detail)).toMatch(/Guideline population: cardiovascular indications: acute coronary syndrome and\/or percutaneous coronary intervention \(ACS\/PCI\) \(CVI ACS PCI\) — acute coronary syndrome and\/or PCI: Non-ST elevation myocardial infarction/);
    expect(c.source.url).toBe('https://cpicpgx.org/guidelines/guideline-for-clopidogrel-and-cyp2c19/');
    expect(c.source.topic.code).toBe('pgx-avoid');
    expect(c.selectionBehavior).toBe('at-most-one');
    expect(c.suggestions.map((s: any) => s.label)).toEqual(['Replace clopidogrel with prasugrel', 'Replace clopidogrel with ticagrelor']);
    const [del, create] = c.suggestions[0].actions;
    expect(del).toEqual({ type: 'delete', description: `Remove the draft clopidogrel order (MedicationRequest/${mr.id})`, resourceId: `MedicationRequest/${mr.id}` });
    expect(create.resource).toMatchObject({ resourceType: 'MedicationRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/pgx-clop' }, medicationCodeableConcept: { coding: [{ system: RXNORM, code: '613391' }] } });
  });

  test('clopidogrel, CYP2C19 *1/*1 → no card', async () => {
    const { cards } = await call('pgx-nm', draft(`nm-${withPrefetch}`, 'pgx-nm', '32968', 'clopidogrel'), withPrefetch);
    expect(cards).toEqual([]);
  });

  test('codeine ordered as a product whose code is not in the dictionary (recognised by name), CYP2D6 *1/*2x2 → ultrarapid, avoid', async () => {
    const { cards } = await call('pgx-cod', draft(`cod-${withPrefetch}`, 'pgx-cod', '993781', 'acetaminophen 300 MG / codeine phosphate 30 MG Oral Tablet'), withPrefetch, 'order-sign');
    const c = cards.find((x) => /Codeine/.test(x.summary));
    expect(c.indicator).toBe('critical');
    expect(c.summary).toBe('Codeine: CYP2D6 Ultrarapid Metabolizer (activity score 3.0) — avoid (CPIC Strong)');
    expect(visibleText(c.detail)).toContain('| CYP2D6 | *1/*2x2 | Ultrarapid Metabolizer (activity score 3.0) |');
    expect(c.detail).toContain('Avoid codeine use because of potential for serious toxicity.');
    expect(c.suggestions[0].actions[0]).toMatchObject({ type: 'delete', resourceId: `MedicationRequest/cod-${withPrefetch}` });
  });

  test('abacavir, HLA-B*57:01 positive → not recommended (critical)', async () => {
    const { cards } = await call('pgx-aba', draft(`aba-${withPrefetch}`, 'pgx-aba', '190521', 'abacavir'), withPrefetch);
    expect(cards).toHaveLength(1);
    expect(cards[0].indicator).toBe('critical');
    expect(cards[0].detail).toContain('Abacavir is not recommended');
    expect(visibleText(cards[0].detail)).toContain('HLA-B*57:01 positive');
    expect(cards[0].source.url).toBe('https://cpicpgx.org/guidelines/guideline-for-abacavir-and-hla-b/');
  });

  test('carbamazepine, HLA-B*15:02 positive, HLA-A not tested → avoid (carbamazepine-naive row, stated)', async () => {
    const { cards } = await call('pgx-cbz', draft(`cbz-${withPrefetch}`, 'pgx-cbz', '2002', 'carbamazepine'), withPrefetch);
    const c = cards.find((x) => x.source.topic.code === 'pgx-avoid');
    expect(c.summary).toBe('Carbamazepine: HLA-B *15:02 positive — avoid (CPIC Strong)');
    expect(c.detail).toContain('If patient is carbamazepine-naïve, do not use carbamazepine.');
    expect(c.detail).toContain('| HLA-A | No result on file |');
    expect(visibleText(c.detail)).toContain('Guideline population: carbamazepine-naive patients (CBZ naive) — No carbamazepine use for longer than 3 months');
    // HLA-A*31:01 is not on file: its test is suggested when it can change therapy (Strong row)
    const t = cards.find((x) => x.source.topic.code === 'pgx-test');
    expect(t.indicator).toBe('info');
    expect(t.suggestions[0].actions[0].resource).toMatchObject({ resourceType: 'ServiceRequest', code: { text: 'HLA-A genotyping' } });
  });

  test('capecitabine 1000 mg, DPYD activity score 1.0 → reduce by 50%: update the draft to 500 mg', async () => {
    const mr = draft(`cape-${withPrefetch}`, 'pgx-cape', '194000', 'capecitabine', 1000);
    const { cards } = await call('pgx-cape', mr, withPrefetch);
    expect(cards).toHaveLength(1);
    const c = cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toBe('Capecitabine: DPYD Intermediate Metabolizer (activity score 1.0) — reduce the dose by 50% (CPIC Strong)');
    expect(c.detail).toContain('Reduce starting dose by 50%');
    expect(c.detail).toContain('Suggested dose: 500 mg instead of 1000 mg per dose');
    const a = c.suggestions[0].actions[0];
    expect(a.type).toBe('update');
    expect(a.resource.id).toBe(mr.id);
    expect(a.resource.dosageInstruction[0].doseAndRate[0].doseQuantity).toEqual({ value: 500, unit: 'mg', system: UCUM, code: 'mg' });
    expect(a.resource.medicationCodeableConcept).toEqual(mr.medicationCodeableConcept);
  });

  test('simvastatin, SLCO1B1 *5/*5 → alternative statin (warning)', async () => {
    const { cards } = await call('pgx-simva', draft(`simva-${withPrefetch}`, 'pgx-simva', '36567', 'simvastatin'), withPrefetch);
    expect(cards).toHaveLength(1);
    expect(cards[0].indicator).toBe('warning');
    expect(cards[0].summary).toBe('Simvastatin: SLCO1B1 Poor Function — consider an alternative (CPIC Strong)');
    expect(cards[0].detail).toContain('Prescribe an alternative statin depending on the desired potency');
    expect(visibleText(cards[0].detail)).toContain('| SLCO1B1 | *5/*5 | Poor Function |');
  });

  test('simvastatin with no SLCO1B1 result → info card suggesting the genotype test', async () => {
    const { cards } = await call('pgx-none', draft(`none-${withPrefetch}`, 'pgx-none', '36567', 'simvastatin'), withPrefetch);
    expect(cards).toHaveLength(1);
    expect(cards[0].indicator).toBe('info');
    expect(cards[0].summary).toBe('Simvastatin: no SLCO1B1 result on file — consider genotyping (CPIC)');
    expect(cards[0].suggestions[0].actions[0]).toMatchObject({ type: 'create', resource: { resourceType: 'ServiceRequest', status: 'draft', subject: { reference: 'Patient/pgx-none' }, code: { text: 'SLCO1B1 genotyping' } } });
  });
});

test('without prefetch a CPIC drug costs the EHR six queries: the patient, its medications, conditions and genomic results (by code and by category) — no vitals or labs', async () => {
  await call('pgx-clop', draft('clop-wire', 'pgx-clop', '32968', 'clopidogrel'), false);
  const requests = await env.fhir.admin.requests();
  // Source: the CPIC evaluator declares only `genomics` and `genomicsCategory` (src/dosing/pgx/register.ts); the four
  // shared keys are read for every drug
  expect(requests.map((e) => e.path).sort()).toEqual(['/Condition', '/MedicationRequest', '/MedicationStatement', '/Observation', '/Observation', '/Patient/pgx-clop']);
  const observations = requests.filter((e) => e.path === '/Observation');
  expect(observations.some((o) => String(o.query['code']).includes('http://loinc.org|84413-4'))).toBe(true);
  expect(observations.some((o) => String(o.query['category']).includes('http://terminology.hl7.org/CodeSystem/v2-0074|GE'))).toBe(true);
  for (const loinc of ['29463-7', '8302-2', '2160-0', '6301-6']) expect(requests.some((e) => e.url.includes(loinc))).toBe(false);
});
