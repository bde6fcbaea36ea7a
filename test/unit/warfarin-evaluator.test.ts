// Warfarin evaluator (src/dosing/warfarin/evaluator.ts) on hand-built PatientFacts: equation choice, genotype
// normalisation, co-medications, missing data, bounds, severity and the explanation it carries.
import type { MedicationRequest } from 'fhir/r4';
import type { DraftOrder } from '../../src/cds/orders.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { GeneResult, IwpcRace, MedicationFact, PatientFacts } from '../../src/domain/facts.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import {
  cyp2c9ForIwpc,
  evaluateWarfarin,
  iwpcFactors,
  IWPC_REFERENCE,
  vkorc1ForIwpc,
  WARFARIN_DAILY_BOUNDS,
} from '../../src/dosing/warfarin/evaluator.js';
import { iwpcAgeDecade, iwpcClinical, iwpcPharmacogenetic, type IwpcInputs } from '../../src/dosing/warfarin/iwpc.js';

const dict = DrugDictionary.load();
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

let ids = 0;
const opts = () => ({ roundingMgPerDay: 0.5, newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}` });

// ---- builders ----
const src = (reference: string, date?: string) => ({ reference, ...(date ? { date } : {}), via: 'prefetch' as const });
const cyp2c9 = (diplotype: string, ref = 'Observation/cyp'): GeneResult => ({ gene: 'CYP2C9', diplotype, text: `CYP2C9 ${diplotype}`, source: src(ref, '2025-03-01') });
const vkorc1 = (genotype: string, rsid = 'rs9923231', ref = 'Observation/vk'): GeneResult => ({
  gene: 'VKORC1',
  variant: { rsid, genotype, ...(rsid === 'rs9923231' ? { strand: 'gene' as const } : {}) },
  text: `VKORC1 ${rsid} ${genotype}`,
  source: src(ref, '2025-03-01'),
});
const med = (ref: string, rxnorm: string[], text: string): MedicationFact => ({ rxnorm, text, source: src(ref, '2026-10-01') });

interface Spec {
  age?: number;
  heightCm?: number;
  weightKg?: number;
  race?: IwpcRace;
  genes?: GeneResult[];
  medications?: MedicationFact[];
  unavailable?: string[];
}
const BASE: Required<Pick<Spec, 'age' | 'heightCm' | 'weightKg'>> = { age: 66, heightCm: 178, weightKg: 80 };

function facts(s: Spec, omit: ('age' | 'height' | 'weight')[] = []): PatientFacts {
  const f: PatientFacts = { patientId: 'p1', genes: s.genes ?? [], medications: s.medications ?? [], conditions: [], unavailable: s.unavailable ?? [], notes: [] };
  if (!omit.includes('age')) f.ageYears = { value: s.age ?? BASE.age, source: src('Patient/p1') };
  if (!omit.includes('height')) f.height = { value: { value: s.heightCm ?? BASE.heightCm, unit: 'cm' }, source: src('Observation/ht', '2026-09-15') };
  if (!omit.includes('weight')) f.weight = { value: { value: s.weightKg ?? BASE.weightKg, unit: 'kg' }, source: src('Observation/wt', '2026-09-15') };
  if (s.race) f.race = { value: s.race, source: src('Patient/p1') };
  return f;
}

function order(currentDose?: DraftOrder['currentDose']): DraftOrder {
  const resource: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id: '103',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '855332' }] },
  };
  return { ref: 'MedicationRequest/103', resource, drugs: [{ ingredient: 'warfarin', rxcui: '11289', matchedBy: 'product-code' }], ...(currentDose ? { currentDose } : {}) };
}

const evaluate = (f: PatientFacts, o: DraftOrder = order()): Recommendation => evaluateWarfarin(f, o, dict, opts());
const iw = (s: Spec, g: Partial<IwpcInputs> = {}): IwpcInputs => ({
  ageDecade: iwpcAgeDecade(s.age ?? BASE.age),
  heightCm: s.heightCm ?? BASE.heightCm,
  weightKg: s.weightKg ?? BASE.weightKg,
  race: s.race ?? 'MissingOrMixed',
  enzymeInducer: false,
  amiodarone: false,
  ...g,
});
/** The expected proposal: weekly dose / 7 rounded to the nearest 0.5 mg/day, within the service's bounds. */
const expectedDaily = (weekly: number) => Math.min(WARFARIN_DAILY_BOUNDS.max, Math.max(WARFARIN_DAILY_BOUNDS.min, Math.round(weekly / 7 / 0.5) * 0.5));
const noteText = (r: Recommendation) => r.notes.join('\n');
const input = (r: Recommendation, key: string) => r.inputs.find((i) => i.key === key);

describe('equation choice and dose', () => {
  // Source: IWPC 2009 (Klein et al., NEJM 360:753, Appendix S1e/S1f; dosing-formulas.md): pharmacogenetic equation
  // when a genotype is known (unknown terms for the other gene), clinical equation otherwise; CPIC 2017 warfarin:
  // use a validated pharmacogenetic algorithm when CYP2C9 and VKORC1 are known. Proposal rounded to 0.5 mg/day.
  test.each<[string, Spec, 'pharmacogenetic' | 'clinical', Partial<IwpcInputs>, RegExp | undefined]>([
    ['genotyped *1/*3 + A/G, White', { race: 'White', genes: [cyp2c9('*1/*3'), vkorc1('A/G')] }, 'pharmacogenetic', { race: 'White', cyp2c9: '*1/*3', vkorc1: 'A/G' }, undefined],
    ['genotyped *1/*1 + G/G, Asian', { race: 'Asian', genes: [cyp2c9('*1/*1'), vkorc1('G/G')] }, 'pharmacogenetic', { race: 'Asian', cyp2c9: '*1/*1', vkorc1: 'G/G' }, undefined],
    // CPIC 2017 Figure 2: African ancestry and CYP2C9 *5/*6/*8/*11 not tested → dose clinically (footnote c)
    ['genotyped *3/*3 + A/A, Black, 45 y, 60 kg, *5/*6/*8/*11 not tested → clinical (CPIC)', { age: 45, weightKg: 60, race: 'Black', genes: [cyp2c9('*3/*3'), vkorc1('A/A')] }, 'clinical', { race: 'Black' }, /not known to have been tested.*dose is calculated clinically/],
    ['genotyped *3/*3 + A/A, White, 45 y, 60 kg', { age: 45, weightKg: 60, race: 'White', genes: [cyp2c9('*3/*3'), vkorc1('A/A')] }, 'pharmacogenetic', { race: 'White', cyp2c9: '*3/*3', vkorc1: 'A/A' }, undefined],
    ['no genotype → clinical', { race: 'White' }, 'clinical', { race: 'White' }, /No CYP2C9 or VKORC1 genotype/],
    ['no genotype, no race → clinical, missing/mixed', {}, 'clinical', {}, /No CYP2C9 or VKORC1 genotype/],
    // issue 16: without VKORC1 the clinical equation (its race terms carry what VKORC1 would have said; the
    // pharmacogenetic "VKORC1 unknown" term came from the few IWPC sites that did not type VKORC1)
    ['only CYP2C9 known → clinical (no VKORC1 genotype)', { genes: [cyp2c9('*1/*2')] }, 'clinical', { cyp2c9: '*1/*2' }, undefined],
    ['only VKORC1 known → pharmacogenetic, CYP2C9 unknown term', { genes: [vkorc1('A/A')] }, 'pharmacogenetic', { vkorc1: 'A/A' }, undefined],
    ['CYP2C9 *1/*13 → unknown, with caution note', { race: 'Black', genes: [cyp2c9('*1/*13')] }, 'clinical', { race: 'Black' }, /CPIC advises caution/],
    ['CYP2C9 "*3/*1" normalised to *1/*3', { genes: [cyp2c9('*3/*1'), vkorc1('G/G')] }, 'pharmacogenetic', { cyp2c9: '*1/*3', vkorc1: 'G/G' }, undefined],
    ['CYP2C9 "*3/*2" normalised to *2/*3', { genes: [cyp2c9('*3/*2'), vkorc1('A/G')] }, 'pharmacogenetic', { cyp2c9: '*2/*3', vkorc1: 'A/G' }, undefined],
    ['VKORC1 non-rs9923231 variant → unknown + note (CYP2C9 only → clinical)', { genes: [cyp2c9('*1/*1'), vkorc1('C/T', 'rs7294')] }, 'clinical', { cyp2c9: '*1/*1' }, /not an rs9923231/],
    ['VKORC1 non-rs9923231 alone → clinical + note', { genes: [vkorc1('C/T', 'rs9934438')] }, 'clinical', {}, /not an rs9923231/],
    ['age 95 → age decade 9', { age: 95, genes: [cyp2c9('*1/*1'), vkorc1('A/G')] }, 'pharmacogenetic', { cyp2c9: '*1/*1', vkorc1: 'A/G' }, undefined],
    ['age 18 (adult boundary) → dose', { age: 18 }, 'clinical', {}, undefined],
  ])('%s', (_n, spec, eq, g, noteRe) => {
    const r = evaluate(facts(spec));
    const inputs = iw(spec, g);
    const expected = eq === 'pharmacogenetic' ? iwpcPharmacogenetic(inputs) : iwpcClinical(inputs);
    expect(r.kind).toBe('dose');
    expect(r.method.id).toBe(`iwpc-2009-${eq}`);
    expect(r.proposedDose?.perDose).toEqual({ value: expectedDaily(expected.weeklyDoseMg), unit: 'mg' });
    expect(r.proposedDose?.estimate?.value).toBeCloseTo(expected.weeklyDoseMg, 2);
    expect(r.proposedDose?.perWeek?.value).toBeCloseTo(r.proposedDose!.perDose.value * 7, 9);
    expect(r.proposedDose?.timing).toEqual({ frequency: 1, period: 1, periodUnit: 'd' });
    expect(r.headline.length).toBeLessThan(140);
    if (noteRe) expect(noteText(r)).toMatch(noteRe);
    if (eq === 'pharmacogenetic') expect(r.comparators?.[0]?.dose.value).toBeCloseTo(iwpcClinical(inputs).weeklyDoseMg, 1);
  });

  test('only VKORC1 known: the CYP2C9 factor is the "unknown" term; only CYP2C9 known: the clinical equation, said so', () => {
    const r = evaluate(facts({ genes: [vkorc1('A/G')] }));
    expect(r.factors?.find((f) => f.key === 'cyp2c9')?.label).toBe('CYP2C9 unknown');
    expect(input(r, 'cyp2c9')?.value).toBe('no result on file');
    const c = evaluate(facts({ genes: [cyp2c9('*1/*2')] }));
    expect(c.method.name).toBe('IWPC clinical warfarin equation (no VKORC1 genotype on file)');
    expect(input(c, 'vkorc1')?.value).toBe('no result on file');
  });

  test('CYP2C9 *1/*13: the input says the result is not usable and keeps its source', () => {
    const r = evaluate(facts({ genes: [cyp2c9('*1/*13'), vkorc1('A/G')] }));
    expect(input(r, 'cyp2c9')).toMatchObject({ value: 'CYP2C9 *1/*13 (not usable)', source: { reference: 'Observation/cyp' } });
    expect(r.factors?.find((f) => f.key === 'cyp2c9')?.label).toBe('CYP2C9 unknown');
  });

  test('"*3/*1" and "*1/*3" give the same dose and the input shows *1/*3', () => {
    const a = evaluate(facts({ genes: [cyp2c9('*3/*1'), vkorc1('A/G')] }));
    const b = evaluate(facts({ genes: [cyp2c9('*1/*3'), vkorc1('A/G')] }));
    expect(a.proposedDose).toEqual(b.proposedDose);
    expect(input(a, 'cyp2c9')?.value).toBe('*1/*3');
  });

  // BUG (src/dosing/warfarin/evaluator.ts, warfarinBasis: `const vk = geneResult(facts, 'VKORC1')` takes the FIRST
  // VKORC1 result). readGeneResults (src/fhir/genomics.ts) keeps one result per gene *and rsID* and sorts variants by
  // source reference, so a second VKORC1 SNP (e.g. rs7294 on Observation/a) hides the rs9923231 genotype on
  // Observation/b: VKORC1 is then treated as unknown (-0.4854 instead of -0.8677) and the dose is wrong.
  // Expected: the rs9923231 result is used when any VKORC1 result is one (e.g. genomics' vkorc1IwpcGenotype()).
  test('a second VKORC1 SNP result listed first does not hide the rs9923231 genotype', () => {
    const genes = [cyp2c9('*1/*1'), vkorc1('C/T', 'rs7294', 'Observation/a'), vkorc1('A/G', 'rs9923231', 'Observation/b')];
    const r = evaluate(facts({ genes }));
    expect(input(r, 'vkorc1')?.value).toBe('A/G');
    expect(r.proposedDose?.perDose.value).toBe(expectedDaily(iwpcPharmacogenetic(iw({}, { cyp2c9: '*1/*1', vkorc1: 'A/G' })).weeklyDoseMg));
  });
});

describe('CYP4F2', () => {
  // Source: CPIC 2017 warfarin: CYP4F2*3 carriers may need a 5–10% higher dose (not part of the IWPC equation).
  // CPIC 2017 Figure 2 node n7 (OPTIONAL): CYP4F2 rs2108622 T carriers, increase by 5–10% — applied as +7.5%, the middle
  test.each([['*1/*3'], ['*3/*3']])('CYP4F2 %s → +7.5%% applied to the calculated dose (CPIC 5–10%%)', (dip) => {
    const genes = [cyp2c9('*1/*1'), vkorc1('A/G')];
    const without = evaluate(facts({ genes }));
    const withCyp4f2 = evaluate(facts({ genes: [...genes, { gene: 'CYP4F2', diplotype: dip, text: `CYP4F2 ${dip}`, source: src('Observation/4f2') }] }));
    expect(noteText(withCyp4f2)).toMatch(/CPIC 2017 adjustment applied: × 1\.075 \(CYP4F2/);
    expect(withCyp4f2.proposedDose!.estimate!.value).toBeCloseTo(without.proposedDose!.estimate!.value * 1.075, 1);
    expect(withCyp4f2.cpicBranch?.nodes).toContain('n7');
    expect(withCyp4f2.factors?.find((f) => f.key === 'cpicCyp4f2')?.contribution).toBeCloseTo(without.proposedDose!.estimate!.value * 0.075, 1);
  });
  test('CYP4F2 *1/*1 → no note', () => {
    const r = evaluate(facts({ genes: [{ gene: 'CYP4F2', diplotype: '*1/*1', text: 'CYP4F2 *1/*1', source: src('Observation/4f2') }] }));
    expect(noteText(r)).not.toMatch(/CYP4F2/);
  });
});

describe('missing data and population limits', () => {
  // Source: IWPC 2009: age, height and weight are required inputs; the equations were derived in adults.
  test.each<[string, ('age' | 'height' | 'weight')[], RegExp[]]>([
    ['no height', ['height'], [/body height/]],
    ['no weight', ['weight'], [/body weight/]],
    ['no age', ['age'], [/^age/]],
    ['no height and no weight', ['height', 'weight'], [/body height/, /body weight/]],
    ['nothing', ['age', 'height', 'weight'], [/^age/, /body height/, /body weight/]],
  ])('%s → missing-data, no dose', (_n, omit, missingRes) => {
    const r = evaluate(facts({ genes: [cyp2c9('*1/*1'), vkorc1('A/G')] }, omit));
    expect(r.kind).toBe('missing-data');
    expect(r.proposedDose).toBeUndefined();
    expect(r.factors).toBeUndefined();
    expect(r.missing).toHaveLength(missingRes.length);
    for (const re of missingRes) expect(r.missing.some((m) => re.test(m))).toBe(true);
    expect(r.headline).toMatch(/missing/);
    expect(r.headline.length).toBeLessThan(140);
    expect(r.severity).toBe('info');
    // what was found is still listed as inputs with sources
    for (const i of r.inputs.filter((x) => ['age', 'height', 'weight'].includes(x.key))) expect(i.source).toBeDefined();
  });

  test.each([[16], [17], [0]])('age %d → no dose (adults only)', (age) => {
    const r = evaluate(facts({ age }));
    expect(r.kind).toBe('missing-data');
    expect(r.proposedDose).toBeUndefined();
    expect(r.missing).toEqual([]);
    expect(noteText(r)).toMatch(/under 18/);
  });
});

describe('co-medications', () => {
  // Source: IWPC 2009 equations: amiodarone term (−0.5503 PGx / −0.5695 clinical) and enzyme inducer term
  // (carbamazepine, phenytoin, rifampin: +1.1816 / +1.2799); RxNorm 9384 = rifampin, 703 = amiodarone.
  test.each<[string, MedicationFact[], Partial<IwpcInputs>]>([
    ['amiodarone from product text "amiodarone HCl 200 mg"', [med('MedicationRequest/amio', [], 'amiodarone HCl 200 mg')], { amiodarone: true }],
    ['amiodarone from brand text "Pacerone"', [med('MedicationStatement/amio', [], 'Pacerone 200 MG Oral Tablet')], { amiodarone: true }],
    ['amiodarone from ingredient code 703', [med('MedicationRequest/amio', ['703'], '')], { amiodarone: true }],
    ['enzyme inducer from rifampin ingredient code 9384', [med('MedicationRequest/rif', ['9384'], 'rifampin 300 MG')], { enzymeInducer: true }],
    ['enzyme inducer from carbamazepine text', [med('MedicationRequest/cbz', [], 'Tegretol XR 200 mg')], { enzymeInducer: true }],
    ['both', [med('MedicationRequest/amio', ['703'], ''), med('MedicationRequest/rif', ['9384'], '')], { amiodarone: true, enzymeInducer: true }],
    ['unrelated drug', [med('MedicationRequest/met', ['6918'], 'metoprolol')], {}],
    ['an active warfarin order is not a co-medication', [med('MedicationRequest/w', ['11289'], 'warfarin')], {}],
    ['"amiodaronex" text is not amiodarone', [med('MedicationRequest/x', [], 'amiodaronex')], {}],
  ])('%s', (_n, medications, g) => {
    const spec: Spec = { genes: [cyp2c9('*1/*1'), vkorc1('G/G')], medications };
    const r = evaluate(facts(spec));
    const expected = iwpcPharmacogenetic(iw(spec, { cyp2c9: '*1/*1', vkorc1: 'G/G', ...g }));
    expect(r.proposedDose?.estimate?.value).toBeCloseTo(expected.weeklyDoseMg, 2);
    expect(input(r, 'amiodarone')?.value).toBe(g.amiodarone ? 'taking' : 'not taking');
    expect(input(r, 'enzymeInducer')?.value).toBe(g.enzymeInducer ? 'taking' : 'not taking');
    if (g.amiodarone) expect(input(r, 'amiodarone')?.source?.reference).toMatch(/amio$/);
    if (g.enzymeInducer) expect(input(r, 'enzymeInducer')?.source).toBeDefined();
  });

  test('medication list not retrieved → "not taking" with a note saying so', () => {
    const r = evaluate(facts({ unavailable: ['medicationRequests: timeout'] }));
    expect(input(r, 'amiodarone')?.note).toMatch(/could not be fully retrieved/);
  });
  test('genomics not retrieved → note', () => {
    const r = evaluate(facts({ unavailable: ['genomics: HTTP 500'] }));
    expect(noteText(r)).toMatch(/Genomic results could not be retrieved/);
  });
});

describe('cyp2c9ForIwpc / vkorc1ForIwpc', () => {
  // Source: IWPC 2009 CYP2C9 categories *1/*1 … *3/*3, everything else unknown (dosing-formulas.md "Rare CYP2C9
  // alleles … are unknown"); VKORC1 = rs9923231 only, gene-strand G/G, A/G, A/A.
  test.each<[string, GeneResult | undefined, string | undefined, RegExp | undefined]>([
    ['*1/*1', cyp2c9('*1/*1'), '*1/*1', undefined],
    ['*2/*1', cyp2c9('*2/*1'), '*1/*2', undefined],
    ['*3/*1', cyp2c9('*3/*1'), '*1/*3', undefined],
    ['*2/*2', cyp2c9('*2/*2'), '*2/*2', undefined],
    ['*3/*2', cyp2c9('*3/*2'), '*2/*3', undefined],
    ['*3/*3', cyp2c9('*3/*3'), '*3/*3', undefined],
    ['*1/*5', cyp2c9('*1/*5'), '*1/*1', /not in the dosing algorithms.*calculated as \*1\/\*1.*decreased/],
    ['*5/*1', cyp2c9('*5/*1'), '*1/*1', /not in the dosing algorithms.*calculated as \*1\/\*1.*decreased/],
    ['*1/*6', cyp2c9('*1/*6'), '*1/*1', /not in the dosing algorithms.*calculated as \*1\/\*1.*decreased/],
    ['*1/*11', cyp2c9('*1/*11'), '*1/*1', /not in the dosing algorithms.*calculated as \*1\/\*1.*decreased/],
    ['*1/*13', cyp2c9('*1/*13'), undefined, /caution/],
    ['phenotype only', { gene: 'CYP2C9', phenotype: 'Intermediate Metabolizer', text: 'IM', source: src('Observation/x') }, undefined, /phenotype/],
    ['no result', undefined, undefined, undefined],
  ])('CYP2C9 %s', (_n, g, value, noteRe) => {
    const r = cyp2c9ForIwpc(g);
    expect(r.value).toBe(value);
    if (noteRe) expect(r.note).toMatch(noteRe);
    else expect(r.note).toBeUndefined();
  });

  test.each<[string, GeneResult | undefined, string | undefined]>([
    ['rs9923231 G/G', vkorc1('G/G'), 'G/G'],
    ['rs9923231 A/G', vkorc1('A/G'), 'A/G'],
    ['rs9923231 A/A', vkorc1('A/A'), 'A/A'],
    ['rs9923231 plus-strand C/T (not IWPC notation)', vkorc1('C/T'), undefined],
    ['rs9934438 C/T', vkorc1('C/T', 'rs9934438'), undefined],
    ['phenotype only', { gene: 'VKORC1', phenotype: 'increased sensitivity', text: 'x', source: src('Observation/x') }, undefined],
    ['no result', undefined, undefined],
  ])('VKORC1 %s', (_n, g, value) => {
    expect(vkorc1ForIwpc(g)).toBe(value);
  });
});

describe('factor attribution', () => {
  // Source: IWPC 2009 equations (square-root scale): dose − refDose = (s − r)(s + r) = Σ (tᵢ − rᵢ)(s + r), so the
  // reference dose plus all contributions equals the equation's weekly dose exactly.
  const cases: [string, IwpcInputs, 'pgx' | 'clinical'][] = [
    ['typical genotyped', iw({ race: 'White' }, { cyp2c9: '*1/*3', vkorc1: 'A/G' }), 'pgx'],
    ['inducer + amiodarone, Black', iw({ race: 'Black', age: 35, weightKg: 110 }, { cyp2c9: '*2/*3', vkorc1: 'A/A', enzymeInducer: true, amiodarone: true }), 'pgx'],
    ['unknown genotypes, Asian', iw({ race: 'Asian' }), 'pgx'],
    ['clinical', iw({ race: 'MissingOrMixed', heightCm: 150, weightKg: 50 }), 'clinical'],
    ['clinical, extreme', iw({ age: 20, heightCm: 250, weightKg: 400 }, { enzymeInducer: true }), 'clinical'],
    ['square root floored at zero', iw({ age: 95, heightCm: 100, weightKg: 30, race: 'Asian' }, { cyp2c9: '*3/*3', vkorc1: 'A/A', amiodarone: true }), 'pgx'],
  ];
  test.each(cases)('%s: base + Σ contributions == weekly dose (1e-9)', (_n, inputs, eq) => {
    const f = eq === 'pgx' ? iwpcPharmacogenetic : iwpcClinical;
    const r = f(inputs);
    const { base, factors } = iwpcFactors(r, f(IWPC_REFERENCE));
    expect(Math.abs(base + factors.reduce((s, x) => s + x.contribution, 0) - r.weeklyDoseMg)).toBeLessThan(1e-9);
    expect(factors.every((x) => x.unit === 'mg/wk' && Number.isFinite(x.contribution))).toBe(true);
    const keys = factors.map((x) => x.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('the recommendation: factorBase + Σ factors == estimate (to the 0.01 mg/week the values are rounded to)', () => {
    const r = evaluate(facts({ race: 'Black', genes: [cyp2c9('*1/*2'), vkorc1('A/G')], medications: [med('MedicationRequest/amio', ['703'], '')] }));
    const sum = (r.factorBase?.dose.value ?? NaN) + (r.factors ?? []).reduce((s, f) => s + f.contribution, 0);
    expect(Math.abs(sum - r.proposedDose!.estimate!.value)).toBeLessThan(0.011);
    expect(r.factorBase?.description.length).toBeGreaterThan(0);
  });
});

describe('bounds and severity', () => {
  // Source: service safety bounds WARFARIN_DAILY_BOUNDS (0.5–15 mg/day): outside them the dose is clamped and said.
  test('extreme inputs (400 kg, 250 cm, 20 y, inducer) → clamped to 15 mg/day with a note', () => {
    const r = evaluate(facts({ age: 20, heightCm: 250, weightKg: 400, medications: [med('MedicationRequest/rif', ['9384'], '')] }));
    expect(iwpcClinical(iw({ age: 20, heightCm: 250, weightKg: 400 }, { enzymeInducer: true })).weeklyDoseMg / 7).toBeGreaterThan(15);
    expect(r.proposedDose?.perDose.value).toBe(15);
    expect(r.proposedDose?.perWeek?.value).toBe(105);
    expect(noteText(r)).toMatch(/outside the 0\.5–15 mg\/day range.*15 mg\/day is shown/);
  });

  test('a dose computing to ~0 is raised to the 0.5 mg/day floor with a note', () => {
    const spec: Spec = { age: 95, heightCm: 100, weightKg: 30, race: 'Asian', genes: [cyp2c9('*3/*3'), vkorc1('A/A')], medications: [med('MedicationRequest/amio', ['703'], '')] };
    const r = evaluate(facts(spec));
    expect(r.proposedDose?.perDose.value).toBe(0.5);
    expect(noteText(r)).toMatch(/0\.5 mg\/day is shown/);
  });

  // Source: evaluator rule: a draft dose differing from the proposal by more than 20% → warning, else info.
  test.each<[string, DraftOrder['currentDose'], 'info' | 'warning']>([
    ['current order 10 mg/day', { value: 10, unit: 'mg', frequencyPerDay: 1 }, 'warning'],
    ['current order 5 mg twice daily', { value: 5, unit: 'mg', frequencyPerDay: 2 }, 'warning'],
    ['current order 1 mg/day', { value: 1, unit: 'mg', frequencyPerDay: 1 }, 'warning'],
    ['no current dose', undefined, 'info'],
    ['current dose without frequency', { value: 10, unit: 'mg' }, 'info'],
  ])('%s → %s', (_n, current, severity) => {
    const f = facts({ race: 'White', genes: [cyp2c9('*1/*1'), vkorc1('A/G')] });
    expect(evaluate(f).proposedDose!.perDose.value).toBeGreaterThan(3); // ~5 mg/day, so 10 and 1 are > 20% away
    expect(evaluate(f, order(current)).severity).toBe(severity);
  });

  test('current order equal to the proposal → info', () => {
    const f = facts({ race: 'White', genes: [cyp2c9('*1/*1'), vkorc1('A/G')] });
    const proposal = evaluate(f).proposedDose!.perDose.value;
    expect(evaluate(f, order({ value: proposal, unit: 'mg', frequencyPerDay: 1 })).severity).toBe('info');
  });
});

describe('explanation carried by every proposal', () => {
  // Source: FDA CDS guidance criterion 4 (dosing-formulas.md "Why explanation matters"): inputs, logic, evidence.
  const specs: [string, Spec][] = [
    ['genotyped', { race: 'White', genes: [cyp2c9('*1/*3'), vkorc1('A/G')], medications: [med('MedicationRequest/amio', [], 'amiodarone HCl 200 mg')] }],
    ['clinical', {}],
    ['clamped', { age: 20, heightCm: 250, weightKg: 400 }],
  ];
  test.each(specs)('%s', (_n, spec) => {
    const r = evaluate(facts(spec));
    expect(r.kind).toBe('dose');
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.drug).toEqual({ name: 'warfarin', rxnorm: '11289' });
    expect(r.orderRef).toBe('MedicationRequest/103');
    expect(r.method.id).toMatch(/^iwpc-2009-(pharmacogenetic|clinical)$/);
    expect(r.method.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.method.name.length).toBeGreaterThan(0);
    expect(r.evidence.length).toBeGreaterThanOrEqual(2);
    for (const e of r.evidence) expect(e.url).toMatch(/^https:\/\//);
    expect(r.evidence.some((e) => e.url === 'https://doi.org/10.1056/NEJMoa0809329')).toBe(true);
    expect(r.evidence.some((e) => /cpicpgx\.org/.test(e.url ?? ''))).toBe(true);
    const keys = r.inputs.map((i) => i.key);
    for (const k of ['age', 'height', 'weight', 'race', 'cyp2c9', 'vkorc1', 'amiodarone', 'enzymeInducer']) expect(keys).toContain(k);
    for (const i of r.inputs) expect(i.source !== undefined || i.note !== undefined || ['cyp2c9', 'vkorc1'].includes(i.key)).toBe(true);
    for (const k of ['age', 'height', 'weight']) expect(input(r, k)?.source?.reference).toMatch(/^(Patient|Observation)\//);
    expect(input(r, 'weight')?.unit).toBe('kg');
    expect(input(r, 'height')?.unit).toBe('cm');
    expect(r.proposedDose?.roundingNote).toMatch(/0\.5 mg\/day/);
    expect(r.missing).toEqual([]);
    expect(JSON.stringify(r)).not.toMatch(/NaN|null/);
  });
});
