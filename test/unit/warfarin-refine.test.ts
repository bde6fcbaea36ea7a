// Warfarin refinement (Lenzini 2010) wired to the chart: oral dose history from MedicationAdministration
// (src/fhir/facts.ts), day of therapy, refine.ts (facts → Recommendation), INR monitoring of an active order
// (monitor.ts), the registry's order/monitor modes, and the cards.
import { randomUUID } from 'node:crypto';
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { CardTemplates, renderCard, type RenderContext } from '../../src/cards/render.js';
import { toOrder, type DraftOrder } from '../../src/cds/orders.js';
import { loadConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { PatientFacts } from '../../src/domain/facts.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { defaultRegistry } from '../../src/dosing/registry.js';
import { lenziniWeeklyDose } from '../../src/dosing/warfarin/lenzini.js';
import { INR_RULES, INR_VALVE_ENVELOPE, inrOutOfRange, inrRuleFor } from '../../src/dosing/warfarin/monitor.js';
import { dayOfTherapy, INR_MAX_AGE_DAYS, LENZINI_METHOD_ID, refineWarfarin, warfarinDoseHistory, type RefinementOutcome } from '../../src/dosing/warfarin/refine.js';
import { extractFacts } from '../../src/fhir/facts.js';
import type { GatherResult } from '../../src/fhir/gather.js';
import { activeWarfarin, inrObservation, lenziniPatient, plusDays, warfarinAdmin } from '../fixtures/warfarin-history.js';
import { draftWarfarin } from '../fixtures/synthetic-patients.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const DAY1 = '2026-11-20';
const dict = DrugDictionary.load();
const templates = CardTemplates.load();
const ctx: RenderContext = { templates, newId: () => randomUUID() };
const opts = (over: { now?: Date; targetInr?: number } = {}) => ({ roundingMgPerDay: 0.5, newId: () => randomUUID(), now: over.now ?? NOW, ...(over.targetInr ? { targetInr: over.targetInr } : {}) });

const gather = (resources: FhirResource[], byKey: GatherResult['byKey'] = {}): GatherResult => ({ byKey: { all: { resources, status: 'prefetch' }, ...byKey }, fhirCalls: 0, fhirMs: 0 });
const factsOf = (resources: FhirResource[], now = NOW): PatientFacts => extractFacts(gather(resources), { patientId: 'w1', now });
const orderOf = (mr: MedicationRequest): DraftOrder => toOrder(mr, dict);
/** the worked example (../shared/reference/dosing-formulas.md): 65 y, VKORC1 G/A, CYP2C9 *1/*1, BSA 1.9, 5 mg on days 1–4, INR 1.5 on day 5 */
const example = (over: Partial<Parameters<typeof lenziniPatient>[1]> = {}) =>
  lenziniPatient('w1', { day1: DAY1, birthDate: '1961-01-01', doses: [5, 5, 5, 5], inrDay: 5, inr: 1.5, ...over });

const refined = (r: RefinementOutcome) => {
  if (r.status !== 'refined') throw new Error(`not refined: ${JSON.stringify(r)}`);
  return r;
};

describe('warfarin oral doses from MedicationAdministration (src/fhir/facts.ts)', () => {
  const at = '2026-11-20T20:00:00-05:00';
  test.each<[string, Parameters<typeof warfarinAdmin>[4], number | undefined, RegExp | undefined]>([
    // [case, options, mg kept (undefined: ignored), note]
    ['completed, UCUM mg, product code', {}, 5, undefined],
    ['completed, text only (Coumadin), no code', { rxnorm: null, text: 'Coumadin 5 mg tablet' }, 5, undefined],
    ['ingredient code 11289', { rxnorm: '11289' }, 5, undefined],
    ['g converted to mg', { code: 'g', unit: 'g' }, 5000 /* 5 g: above the plausible maximum, see next case */, undefined],
    ['entered-in-error', { status: 'entered-in-error' }, undefined, /\(administration\) ignored: status entered-in-error/],
    ['stopped', { status: 'stopped' }, undefined, /ignored: status stopped/],
    ['in-progress does not count for an oral dose', { status: 'in-progress' }, undefined, /ignored: status in-progress/],
    // given, but the amount cannot be used: kept to mark the day (amountMg 0, amountUnusable), never converted or summed
    ['a dose in tablets (no UCUM mass unit) is never converted', { code: null, unit: 'tablet' }, 0, /\(administration\): no dose in mg or g; counted as given on its date, amount unknown/],
    ['a non-mass UCUM unit', { code: 'mL', unit: 'mL' }, 0, /\(administration\): no dose in mg or g; counted as given/],
  ])('%s', (_name, o, mg, note) => {
    const dose = _name.startsWith('g converted') ? 0.005 : 5;
    const f = factsOf([warfarinAdmin('a1', 'w1', dose, at, o)]);
    if (mg === 0) {
      expect(f.administrations).toHaveLength(1);
      expect(f.administrations![0]).toMatchObject({ amountMg: 0, amountUnusable: 'no dose in mg or g', localDate: '2026-11-20' });
      expect(f.notes.join('\n')).toMatch(note!);
    } else if (mg === undefined) {
      expect(f.administrations).toBeUndefined();
      expect(f.notes.join('\n')).toMatch(note!);
      // PHI-free: the reference and the reason only
      expect(f.notes.join('\n')).not.toMatch(/Coumadin|warfarin sodium|20:00/);
    } else {
      expect(f.administrations).toHaveLength(1);
      expect(f.administrations![0]!.amountMg).toBeCloseTo(_name.startsWith('g converted') ? 5 : mg, 9);
    }
  });

  test('an implausible single dose (> 50 mg) is not used as an amount, with a note', () => {
    const f = factsOf([warfarinAdmin('a1', 'w1', 75, at)]);
    expect(f.administrations![0]).toMatchObject({ amountMg: 0, amountUnusable: 'dose above 50 mg (implausible for warfarin)' });
    expect(f.notes.join('\n')).toMatch(/MedicationAdministration\/a1 \(administration\): dose above 50 mg/);
  });

  test('one point in time, oral, the recorded local date kept (the UTC date is the next day), effectivePeriod.start accepted', () => {
    const f = factsOf([warfarinAdmin('a1', 'w1', 5, at), warfarinAdmin('a2', 'w1', 2.5, '2026-11-21T09:00:00+01:00', { asPeriod: true })]);
    // oldest first by instant; the local dates differ from the UTC dates
    expect(f.administrations).toEqual([
      { drug: 'warfarin', amountMg: 5, start: '2026-11-21T01:00:00.000Z', end: '2026-11-21T01:00:00.000Z', route: 'oral', localDate: '2026-11-20', source: { reference: 'MedicationAdministration/a1', date: at, via: 'prefetch' } },
      { drug: 'warfarin', amountMg: 2.5, start: '2026-11-21T08:00:00.000Z', end: '2026-11-21T08:00:00.000Z', route: 'oral', localDate: '2026-11-21', source: { reference: 'MedicationAdministration/a2', date: '2026-11-21T09:00:00+01:00', via: 'prefetch' } },
    ]);
  });

  test('day of therapy: day 1 = the first recorded dose’s local date; doses summed per local date', () => {
    expect(dayOfTherapy('2026-11-20', '2026-11-20')).toBe(1);
    expect(dayOfTherapy('2026-11-20', '2026-11-24')).toBe(5);
    expect(dayOfTherapy('2026-11-28', '2026-12-01')).toBe(4); // across a month end
    expect(dayOfTherapy('2026-11-20', '2026-11-19')).toBe(0);
    const f = factsOf([
      warfarinAdmin('a3', 'w1', 2.5, '2026-11-21T08:00:00-05:00'),
      warfarinAdmin('a1', 'w1', 5, '2026-11-20T20:00:00-05:00'),
      warfarinAdmin('a2', 'w1', 2.5, '2026-11-21T20:00:00-05:00'),
      warfarinAdmin('a0', 'w1', 5, '2026-11-19T20:00:00-05:00', { status: 'entered-in-error' }),
    ]);
    const h = warfarinDoseHistory(f)!;
    expect(h.day1).toBe('2026-11-20');
    expect(h.first.source.reference).toBe('MedicationAdministration/a1');
    expect(h.byDate.get('2026-11-21')!.map((a) => a.amountMg)).toEqual([2.5, 2.5]);
  });
});

test('not-done (a held dose): a documented 0 mg on its recorded date, not an ignored record', () => {
  const f = factsOf([warfarinAdmin('h1', 'w1', 5, '2026-11-20T20:00:00-05:00', { status: 'not-done' })]);
  expect(f.administrations).toEqual([expect.objectContaining({ drug: 'warfarin', amountMg: 0, held: true, localDate: '2026-11-20' })]);
  expect(f.administrations![0]!.amountUnusable).toBeUndefined();
  expect(f.notes).toEqual([]);
});

describe('refineWarfarin (Lenzini 2010) from FHIR facts', () => {
  // "the doses actually given" (Lenzini 2010): a dose recorded as not given is 0 mg that day, never assumed given
  test('a held dose (not-done) two days before the INR counts as 0 mg, said on the card', () => {
    const resources = example().map((r) => (r.id === 'w1-dose-3' ? { ...r, status: 'not-done' } : r)) as FhirResource[];
    const rec = refined(refineWarfarin(factsOf(resources), orderOf(draftWarfarin('o1', 'w1')), dict, opts())).recommendation;
    expect(rec.inputs.find((i) => i.key === 'doseMinus2')).toMatchObject({ value: '0', unit: 'mg', source: { reference: 'MedicationAdministration/w1-dose-3' }, note: 'recorded as not given (held)' });
    const expected = lenziniWeeklyDose({ day: 5, ageYears: 65, inr: 1.5, targetInr: 2.5, vkorc1ACount: 1, cyp2c9Star2Count: 0, cyp2c9Star3Count: 0, bsaM2: 1.9, black: false, stroke: false, diabetes: false, amiodarone: false, fluvastatin: false, doseMinus2Mg: 0, doseMinus3Mg: 5, doseMinus4Mg: 5 });
    if ('invalid' in expected) throw new Error('invalid');
    expect(rec.proposedDose!.perWeek!.value).toBeCloseTo(Math.round(expected.weeklyDoseMg / 7 / 0.5) * 0.5 * 7, 6);
  });
  test('a held record next to a dose given on the same day: the dose given counts', () => {
    const resources = [...example(), warfarinAdmin('h3', 'w1', 5, `${plusDays(DAY1, 2)}T08:00:00-05:00`, { status: 'not-done' })];
    const rec = refined(refineWarfarin(factsOf(resources), orderOf(draftWarfarin('o1', 'w1')), dict, opts())).recommendation;
    expect(rec.inputs.find((i) => i.key === 'doseMinus2')).toMatchObject({ value: '5', source: { reference: 'MedicationAdministration/w1-dose-3' } });
  });
  test('a held dose before the first dose given does not start the therapy', () => {
    const resources = [...example(), warfarinAdmin('h0', 'w1', 5, `${plusDays(DAY1, -1)}T20:00:00-05:00`, { status: 'not-done' })];
    const out = refined(refineWarfarin(factsOf(resources), orderOf(draftWarfarin('o1', 'w1')), dict, opts()));
    expect(out.day).toBe(5);
    expect(out.recommendation.inputs.find((i) => i.key === 'therapyDay1')).toMatchObject({ value: DAY1, source: { reference: 'MedicationAdministration/w1-dose-1' } });
  });

  test('the worked example end to end: 5 mg on days 1–4, INR 1.5 on day 5 → 34.6 mg/week → 5 mg daily', () => {
    const f = factsOf(example());
    const r = refined(refineWarfarin(f, orderOf(draftWarfarin('o1', 'w1')), dict, opts()));
    const rec = r.recommendation;
    expect(r.day).toBe(5);
    expect(rec.method.id).toBe(LENZINI_METHOD_ID);
    expect(rec.kind).toBe('dose');
    expect(rec.proposedDose!.estimate!.value).toBeCloseTo(34.64, 2);
    expect(rec.proposedDose!.perDose).toEqual({ value: 5, unit: 'mg' });
    expect(rec.proposedDose!.perWeek).toEqual({ value: 35, unit: 'mg/wk' });
    expect(rec.proposedDose!.scheduleText).toBe('5 mg daily (5 mg tablets), 35 mg/week');
    expect(rec.headline).toBe('Warfarin 5 mg daily (35 mg/week) refined from the day-5 INR of 1.5 (Lenzini 2010)');
    expect(rec.headline.length).toBeLessThan(140);
    expect(rec.severity).toBe('warning'); // the draft has no dose to compare with
    const input = (k: string) => rec.inputs.find((i) => i.key === k)!;
    expect(input('inr')).toMatchObject({ value: 1.5, label: 'INR (day 5 of therapy)', source: { reference: 'Observation/w1-inr', date: '2026-11-24T08:00:00-05:00' } });
    expect(input('therapyDay1')).toMatchObject({ value: DAY1, source: { reference: 'MedicationAdministration/w1-dose-1' } });
    expect(input('doseMinus2')).toMatchObject({ value: '5', unit: 'mg', label: 'Warfarin given on day 3 (2 days before the INR)', source: { reference: 'MedicationAdministration/w1-dose-3' } });
    expect(input('doseMinus3').source!.reference).toBe('MedicationAdministration/w1-dose-2');
    expect(input('doseMinus4').source!.reference).toBe('MedicationAdministration/w1-dose-1');
    expect(input('vkorc1')).toMatchObject({ value: 'A/G', source: { reference: 'Observation/w1-vkorc1' } });
    expect(input('cyp2c9')).toMatchObject({ value: '*1/*1', source: { reference: 'Observation/w1-cyp2c9' } });
    expect(input('bsa').value).toBe(1.9);
    expect(input('targetInr')).toMatchObject({ value: 2.5, note: 'default: middle of the 2–3 range' });
    expect(rec.inputs.some((i) => i.key === 'enzymeInducer')).toBe(false);
    expect(rec.evidence[0]).toEqual({ citation: expect.stringMatching(/^Lenzini P et al/), url: 'https://doi.org/10.1038/clpt.2010.13' });
    // the factors explain the estimate exactly from the reference patient's dose
    const sum = rec.factors!.reduce((a, x) => a + x.contribution, 0);
    expect(rec.factorBase!.dose.value + sum).toBeCloseTo(34.64, 1);
    expect(rec.factors!.find((x) => x.key === 'vkorc1')!.contribution).toBeLessThan(0);
    expect(rec.factors!.find((x) => x.key === 'inr')!.contribution).toBeGreaterThan(0); // INR 1.5 < reference 2.0
  });

  test('INR on day 4: doses of days 2 and 1, the dose 4 days before is 0 by definition', () => {
    const f = factsOf(example({ inrDay: 4, doses: [7.5, 5, 5], inr: 1.8 }));
    const rec = refined(refineWarfarin(f, orderOf(draftWarfarin('o1', 'w1')), dict, opts())).recommendation;
    const expected = lenziniWeeklyDose({ day: 4, ageYears: 65, inr: 1.8, targetInr: 2.5, vkorc1ACount: 1, cyp2c9Star2Count: 0, cyp2c9Star3Count: 0, bsaM2: 1.9, black: false, stroke: false, diabetes: false, amiodarone: false, fluvastatin: false, doseMinus2Mg: 5, doseMinus3Mg: 7.5, doseMinus4Mg: 0 });
    expect('weeklyDoseMg' in expected && rec.proposedDose!.estimate!.value).toBeCloseTo('weeklyDoseMg' in expected ? expected.weeklyDoseMg : 0, 2);
    expect(rec.inputs.find((i) => i.key === 'doseMinus4')).toMatchObject({ value: 0, note: expect.stringMatching(/0 by definition/) });
  });

  test('a target INR passed in is used and shown', () => {
    const rec = refined(refineWarfarin(factsOf(example()), orderOf(draftWarfarin('o1', 'w1')), dict, opts({ targetInr: 3 }))).recommendation;
    expect(rec.inputs.find((i) => i.key === 'targetInr')).toEqual({ key: 'targetInr', label: 'Target INR', value: 3 });
    expect(rec.proposedDose!.estimate!.value).toBeGreaterThan(34.64);
  });

  test('severity: info when the order’s dose is within 10% of the refined dose, warning otherwise', () => {
    const f = factsOf(example());
    expect(refined(refineWarfarin(f, orderOf(draftWarfarin('o1', 'w1', 5)), dict, opts())).recommendation.severity).toBe('info');
    expect(refined(refineWarfarin(f, orderOf(draftWarfarin('o1', 'w1', 7.5)), dict, opts())).recommendation.severity).toBe('warning');
  });

  test('outside 0.5–15 mg/day the dose is clamped and the card says so', () => {
    const rec = refined(refineWarfarin(factsOf(example({ doses: [30, 30, 30, 30], inr: 1.0 })), orderOf(draftWarfarin('o1', 'w1')), dict, opts())).recommendation;
    expect(rec.proposedDose!.perDose.value).toBe(15);
    expect(rec.notes.join(' ')).toMatch(/The Lenzini equation gives \d+(\.\d+)? mg\/day, outside the 0\.5–15 mg\/day range.*15 mg\/day is shown/);
  });

  test('stroke, diabetes and fluvastatin from the chart lower the dose and are listed with their sources', () => {
    const extra: FhirResource[] = [
      { resourceType: 'Condition', id: 'dm', code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Type 2 diabetes mellitus' }] }, subject: { reference: 'Patient/w1' } },
      { resourceType: 'Condition', id: 'cva', code: { text: 'Ischemic stroke' }, subject: { reference: 'Patient/w1' } },
      { resourceType: 'MedicationRequest', id: 'fluva', status: 'active', intent: 'order', subject: { reference: 'Patient/w1' }, medicationCodeableConcept: { text: 'fluvastatin 40 MG Oral Capsule' } },
    ];
    const base = refined(refineWarfarin(factsOf(example()), orderOf(draftWarfarin('o1', 'w1')), dict, opts())).recommendation;
    const rec = refined(refineWarfarin(factsOf([...example(), ...extra]), orderOf(draftWarfarin('o1', 'w1')), dict, opts())).recommendation;
    expect(rec.proposedDose!.estimate!.value).toBeCloseTo(base.proposedDose!.estimate!.value * Math.exp(-0.2059 - 0.11216 - 0.19275), 2);
    expect(rec.inputs.find((i) => i.key === 'diabetes')).toMatchObject({ value: 'yes', source: { reference: 'Condition/dm' } });
    expect(rec.inputs.find((i) => i.key === 'stroke')).toMatchObject({ value: 'yes', source: { reference: 'Condition/cva' } });
    expect(rec.inputs.find((i) => i.key === 'fluvastatin')).toMatchObject({ value: 'taking', source: { reference: 'MedicationRequest/fluva' } });
  });

  // Why the refinement is not computed; each reason ends up on the initiation card (order mode). Source: issue #8 and
  // Lenzini 2010 (day 4 or 5, pharmacogenetic version only).
  test.each<[string, () => { resources: FhirResource[]; now?: Date; unavailable?: boolean }, RegExp | 'none']>([
    ['no INR on file', () => ({ resources: example().filter((r) => r.id !== 'w1-inr') }), 'none'],
    ['INR on day 3', () => ({ resources: example({ inrDay: 3 }) }), /from day 3 of therapy; the equation applies to an INR on day 4 or 5/],
    ['INR on day 6', () => ({ resources: example({ inrDay: 6, doses: [5, 5, 5, 5, 5] }) }), /from day 6 of therapy/],
    ['INR before the first dose (baseline)', () => ({ resources: [...example({ inrDay: 0 })] }), /before the first recorded warfarin dose/],
    ['no warfarin administration recorded', () => ({ resources: example({ doses: [] }) }), /no completed warfarin administration is recorded/],
    ['the dose of day 2 not recorded', () => ({ resources: example({ doses: [5, null, 5, 5] }) }), /no completed warfarin dose is recorded for day 2 of therapy \(a missing dose is never assumed\)/],
    [
      'the dose of day 3 entered in error',
      () => ({ resources: [...example({ doses: [5, 5, null, 5] }), warfarinAdmin('w1-err', 'w1', 5, `${plusDays(DAY1, 2)}T20:00:00-05:00`, { status: 'entered-in-error' })] }),
      /for day 3 of therapy/,
    ],
    ['the dose of day 1 in tablets (not mg)', () => ({ resources: [...example({ doses: [null, 5, 5, 5] }), warfarinAdmin('w1-tab', 'w1', 1, `${DAY1}T08:00:00-05:00`, { code: null, unit: 'tablet' })] }), /the warfarin dose of day 1 of therapy is recorded without an amount in mg \(a dose is never guessed\)/],
    ['no genotype', () => ({ resources: example({ genotyped: false }) }), /genotypes are both required \(the clinical, genotype-free Lenzini equation is not implemented\)/],
    ['INR more than 7 days old', () => ({ resources: example(), now: new Date('2026-12-05T12:00:00Z') }), new RegExp(`more than ${INR_MAX_AGE_DAYS} days old`)],
    ['dose history incomplete', () => ({ resources: example(), unavailable: true }), /dose history \(MedicationAdministration\) could not be fully retrieved/],
    ['no height', () => ({ resources: example().filter((r) => r.id !== 'w1-ht') }), /missing body height/],
  ])('not computed: %s', (_name, make, expected) => {
    const c = make();
    const facts = extractFacts(gather(c.resources, c.unavailable ? { medicationAdministrations: { resources: [], status: 'failed', error: 'the FHIR server did not answer in time' } } : {}), { patientId: 'w1', now: c.now ?? NOW });
    const r = refineWarfarin(facts, orderOf(draftWarfarin('o1', 'w1')), dict, opts(c.now ? { now: c.now } : {}));
    if (expected === 'none') expect(r.status).toBe('none');
    else {
      expect(r.status).toBe('not-applicable');
      expect(r.status === 'not-applicable' && r.reason).toMatch(expected);
    }
  });
});

describe('INR monitoring of an active warfarin order (monitor.ts)', () => {
  // Source: CHEST/ACCP 2012 (target range 2.0–3.0 for most indications); the ≥ 5 "critical" split is the service's
  // own alerting rule (issue #8), not a guideline number.
  test.each<[number, 'warning' | 'critical' | undefined, string | undefined]>([
    [1.2, 'warning', 'below'],
    [1.99, 'warning', 'below'],
    [2.0, undefined, undefined],
    [2.5, undefined, undefined],
    [3.0, undefined, undefined],
    [3.01, 'warning', 'above'],
    [4.99, 'warning', 'above'],
    [5.0, 'critical', 'above'],
    [9.5, 'critical', 'above'],
  ])('INR %p → %s', (inr, severity, direction) => {
    expect(inrRuleFor(inr)?.severity).toBe(severity);
    const facts = factsOf([inrObservation('inr', 'w1', inr, '2026-11-24T08:00:00Z')]);
    const rec = inrOutOfRange(facts, orderOf(activeWarfarin('a', 'w1', 5)), dict, { newId: () => 'x', now: NOW });
    if (!severity) return expect(rec).toBeUndefined();
    expect(rec).toMatchObject({ kind: 'dose-adjustment', severity });
    expect(rec!.proposedDose).toBeUndefined();
    expect(rec!.headline).toContain(`is ${direction} the 2–3 target range`);
    expect(rec!.notes.join(' ')).toMatch(/institution's anticoagulation nomogram/);
    expect(rec!.inputs[0]).toMatchObject({ key: 'inr', value: inr, source: { reference: 'Observation/inr' } });
  });

  test('the rule table covers everything outside 2–3 exactly once', () => {
    for (let i = 5; i <= 150; i++) {
      const v = i / 10;
      const n = INR_RULES.filter((r) => (r.low === undefined || (r.lowExclusive ? v > r.low : v >= r.low)) && (r.high === undefined || v < r.high)).length;
      expect(n).toBe(v >= 2 && v <= 3 ? 0 : 1);
    }
  });

  // Source: CHEST/ACCP 2012 — mechanical valves: target 2.5 (bileaflet aortic) or 3.0 (mitral), i.e. ranges up to 3.5;
  // with a prosthetic valve on file only INRs outside every target range (below 2, above 3.5) are flagged.
  const valve: FhirResource = { resourceType: 'Condition', id: 'valve', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z95.2', display: 'Presence of prosthetic heart valve' }] }, subject: { reference: 'Patient/w1' } };
  test.each<[number, 'warning' | 'critical' | undefined]>([
    [1.9, 'warning'],
    [2.0, undefined],
    [3.2, undefined],
    [3.5, undefined],
    [3.6, 'warning'],
    [5.0, 'critical'],
  ])('prosthetic heart valve: INR %p → %s', (inr, severity) => {
    expect(inrRuleFor(inr, INR_VALVE_ENVELOPE)?.severity).toBe(severity);
    const facts = factsOf([valve, inrObservation('inr', 'w1', inr, '2026-11-24T08:00:00Z')]);
    const rec = inrOutOfRange(facts, orderOf(activeWarfarin('a', 'w1', 5)), dict, { newId: () => 'x', now: NOW });
    if (!severity) return expect(rec).toBeUndefined();
    expect(rec).toMatchObject({ severity });
    expect(rec!.inputs.find((i) => i.key === 'valve')).toMatchObject({ source: { reference: 'Condition/valve' } });
    expect(rec!.inputs.find((i) => i.key === 'targetRange')).toMatchObject({ value: '2–3.5' });
  });

  test('prosthetic heart valve: the Lenzini refinement is not computed unless a target INR is given', () => {
    const f = factsOf([...example(), valve]);
    const out = refineWarfarin(f, orderOf(draftWarfarin('o1', 'w1')), dict, opts());
    expect(out).toMatchObject({ status: 'not-applicable', reason: expect.stringMatching(/prosthetic heart valve is on file \(Condition\/valve\).*not assumed/) });
    expect(refineWarfarin(f, orderOf(draftWarfarin('o1', 'w1')), dict, opts({ targetInr: 3 })).status).toBe('refined');
  });

  // Source: 2020 ACC/AHA VHD guideline — mechanical mitral valve: INR goal 3.0; mechanical aortic without risk factors: 2.5
  test.each<[string, string, number]>([
    ['Mechanical mitral valve prosthesis', 'mechanical mitral', 3.0],
    ['Mechanical aortic valve replacement', 'mechanical aortic', 2.5],
    ['Bioprosthetic mitral valve', 'bioprosthetic', 2.5],
  ])('a %s on file: refined toward the valve\'s INR goal', (text, _kind, goal) => {
    const cond: FhirResource = { resourceType: 'Condition', id: 'v2', code: { text }, subject: { reference: 'Patient/w1' } };
    const out = refineWarfarin(factsOf([...example(), cond]), orderOf(draftWarfarin('o1', 'w1')), dict, opts());
    expect(out.status).toBe('refined');
    const rec = (out as { recommendation: Recommendation }).recommendation;
    expect(rec.inputs.find((i) => i.key === 'targetInr')).toMatchObject({ value: goal, source: { reference: 'Condition/v2' } });
  });

  test('an INR older than 7 days is not acted on', () => {
    const facts = factsOf([inrObservation('inr', 'w1', 6, '2026-11-17T08:00:00Z')]);
    expect(inrOutOfRange(facts, orderOf(activeWarfarin('a', 'w1', 5)), dict, { newId: () => 'x', now: NOW })).toBeUndefined();
  });
});

describe('the warfarin evaluator in the registry: order and monitor modes', () => {
  // the registry uses the real clock: dates relative to today
  const today = new Date().toISOString().slice(0, 10);
  const day1 = plusDays(today, -5); // INR yesterday = day 5
  const config = loadConfig({});
  const registry = defaultRegistry({ warfarinModelUnavailable: 'not loaded in this test' });
  const run = (resources: FhirResource[], mr: MedicationRequest, mode?: 'order' | 'monitor') =>
    registry.evaluate({
      facts: extractFacts(gather(resources), { patientId: 'w1', now: new Date() }),
      order: orderOf(mr),
      drug: { ingredient: 'warfarin', rxcui: '11289', matchedBy: 'product-code' },
      drugs: dict,
      config,
      newId: randomUUID,
      ...(mode ? { mode } : {}),
    });
  const pt = (over: Partial<Parameters<typeof lenziniPatient>[1]> = {}) =>
    lenziniPatient('w1', { day1, birthDate: `${new Date().getUTCFullYear() - 66}-01-01`, doses: [5, 5, 5, 5], inrDay: 5, inr: 1.5, ...over });

  test('order mode, day-5 INR: the refinement replaces the starting dose, with the gene chain', async () => {
    const recs = await run(pt(), draftWarfarin('o1', 'w1', 7.5));
    expect(recs).toHaveLength(1);
    expect(recs[0]!.method.id).toBe(LENZINI_METHOD_ID);
    expect(recs[0]!.genes?.map((g) => g.gene)).toEqual(['CYP2C9', 'VKORC1']);
    // *1/*1 is Lenzini's reference genotype: used, contributing nothing (not "no dose was calculated")
    expect(recs[0]!.genes?.[0]?.implication).toBe('the reference genotype of the method: no change to this dose');
    expect(recs[0]!.genes?.[1]?.implication).toMatch(/^−[\d.]+ mg\/wk in this dose$/);
    expect(recs[0]!.severity).toBe('warning');
  });

  test('order mode, INR on day 7: the starting dose as before, with why the refinement was not computed', async () => {
    const recs = await run(pt({ day1: plusDays(today, -7), inrDay: 7, doses: [5, 5, 5, 5, 5, 5] }), draftWarfarin('o1', 'w1', 5));
    expect(recs).toHaveLength(1);
    expect(recs[0]!.method.id).toMatch(/^iwpc-2009/);
    expect(recs[0]!.notes).toContain('INR-based refinement (Lenzini 2010) not computed: the newest INR is from day 7 of therapy; the equation applies to an INR on day 4 or 5');
  });

  test('order mode, no INR: no refinement note', async () => {
    const recs = await run(pt().filter((r) => r.id !== 'w1-inr'), draftWarfarin('o1', 'w1', 5));
    expect(recs[0]!.notes.join(' ')).not.toMatch(/Lenzini/);
  });

  test.each<[string, number, number, string[]]>([
    // [case, active dose mg, INR, expected method ids]
    ['day 5, active 7.5 mg vs refined 5 mg: refinement as a warning (the expected low INR is not alerted)', 7.5, 1.5, [LENZINI_METHOD_ID]],
    ['day 5, active dose = refined dose, INR low: nothing', 5, 1.5, []],
    ['day 5, INR 3.4: the refinement matches nothing, and the high INR is shown', 7.5, 3.4, [LENZINI_METHOD_ID, 'warfarin-inr-monitoring/inr-high']],
  ])('monitor mode: %s', async (_n, mg, inr, ids) => {
    const recs = await run(pt({ inr }), activeWarfarin('a1', 'w1', mg), 'monitor');
    expect(recs.map((r) => r.method.id)).toEqual(ids);
    for (const r of recs) expect(['warning', 'critical']).toContain(r.severity);
  });

  test.each<[string, number | undefined, string[]]>([
    ['day 20, INR 5.6: critical INR card, no starting dose', 5.6, ['warfarin-inr-monitoring/inr-very-high']],
    ['day 20, INR 1.6: low INR warning', 1.6, ['warfarin-inr-monitoring/inr-low']],
    ['day 20, INR 2.4: nothing', 2.4, []],
    ['no INR: nothing (never the initiation dose)', undefined, []],
  ])('monitor mode: %s', async (_n, inr, ids) => {
    const day1Long = plusDays(today, -20);
    let resources = lenziniPatient('w1', { day1: day1Long, birthDate: '1961-01-01', doses: [5, 5, 5], inrDay: 20, inr: inr ?? 2 });
    if (inr === undefined) resources = resources.filter((r) => r.id !== 'w1-inr');
    const recs = await run(resources, activeWarfarin('a1', 'w1', 5), 'monitor');
    expect(recs.map((r) => r.method.id)).toEqual(ids);
  });
});

describe('warfarin refinement and INR cards', () => {
  test('refinement card: own wording, inputs with sources, update suggestion to the refined dose', () => {
    const order = orderOf(draftWarfarin('o1', 'w1', 7.5));
    const rec = refined(refineWarfarin(factsOf(example()), order, dict, opts())).recommendation;
    const card = renderCard(rec, order, ctx)!.card;
    expect(card.source.topic!.code).toBe('warfarin-refine');
    expect(card.indicator).toBe('warning');
    expect(card.summary).toBe(rec.headline);
    expect(card.detail).toMatch(/^\*\*Refined dose: 5 mg once daily \(35 mg\/week\)\*\*/);
    expect(card.detail).toContain('| INR (day 5 of therapy) | 1.5 | Observation/w1-inr, 2026-11-24 |');
    expect(card.detail).toContain('| Warfarin given on day 3 (2 days before the INR) | 5 mg | MedicationAdministration/w1-dose-3, 2026-11-20 |'.replace('2026-11-20', '2026-11-22'));
    expect(card.detail).toMatch(/The draft order currently says 7\.5 mg 1× per day\./);
    expect(card.detail).toMatch(/doi\.org\/10\.1038\/clpt\.2010\.13/);
    const action = card.suggestions![0]!.actions![0]! as { type: string; resource: MedicationRequest };
    expect(card.suggestions![0]!.label).toBe('Change to warfarin 5 mg once daily');
    expect(action.type).toBe('update');
    expect(action.resource.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity!.value).toBe(5);
  });

  test('INR card: critical, no suggestion, the active order named', () => {
    const order = orderOf(activeWarfarin('a1', 'w1', 5));
    const rec = inrOutOfRange(factsOf([inrObservation('inr', 'w1', 6.2, '2026-11-24T08:00:00Z')]), order, dict, { newId: () => randomUUID(), now: NOW })!;
    const card = renderCard(rec, order, ctx)!.card;
    expect(card.source.topic!.code).toBe('warfarin-inr');
    expect(card.indicator).toBe('critical');
    expect(card.suggestions).toBeUndefined();
    expect(card.summary.length).toBeLessThan(140);
    expect(card.detail).toMatch(/The active order currently says 5 mg 1× per day\./);
    expect(card.detail).toContain('| INR (newest) | 6.2 | Observation/inr, 2026-11-24 |');
    expect(card.detail).toMatch(/doi\.org\/10\.1378\/chest\.11-2295/);
  });
});
