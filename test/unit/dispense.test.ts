// One click, a right order: a proposed dose becomes an order a pharmacy can dispense (src/cards/dispense.ts,
// src/cards/doseUpdate.ts). Products and strengths: knowledge/drug-products.json (RxNorm normalized names).
import fc from 'fast-check';
import type { MedicationRequest } from 'fhir/r4';
import { toOrder } from '../../src/cds/orders.js';
import { doseUpdate } from '../../src/cards/doseUpdate.js';
import { unitsFor } from '../../src/cards/dispense.js';
import { DrugDictionary, RXNORM_SYSTEM } from '../../src/domain/drugs.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { tabletSchedule } from '../../src/dosing/warfarin/schedule.js';

const dict = DrugDictionary.load();
const products = dict.products;
const UCUM = 'http://unitsofmeasure.org';

function draft(code: string, display: string, dose: { value: number; code: string }, perDay: number, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: 'd1',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ system: RXNORM_SYSTEM, code, display }], text: display },
    dosageInstruction: [{ text: 'as drafted', timing: { repeat: { frequency: perDay, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: dose.value, system: UCUM, code: dose.code, unit: dose.code } }] }],
    ...extra,
  };
}
const rec = (drug: string): Recommendation => {
  const i = dict.ingredient(drug)!;
  return { drug: { name: drug, rxnorm: i.rxcui } } as Recommendation;
};
const per = (n: number) => ({ frequency: n, period: 1, periodUnit: 'd' as const });
const TEXT: Record<number, string> = { 1: 'once daily', 2: 'twice daily', 3: 'three times daily' };

function update(mr: MedicationRequest, drug: string, mg: number, perDay: number, prefer?: number) {
  const o = toOrder(mr, dict);
  return doseUpdate({ ...o, ref: 'MedicationRequest/d1' }, rec(drug), products, { perDoseMg: mg, timing: per(perDay), frequencyText: TEXT[perDay]!, ...(prefer !== undefined ? { preferStrengthMg: prefer } : {}) });
}

describe('the cases of the issue: the update is a product that makes the dose', () => {
  // Source: issue 15 "Why" and "Done when"; label doses: PRADAXA 2.3 (75 mg BID at CrCl 15–30), ELIQUIS 2.2 (2.5 mg BID),
  // CPIC TCA guideline (amitriptyline CYP2D6 IM: consider a 25% … 50% reduction), LOVENOX 2.3 (30 mg once daily).
  test.each<[string, MedicationRequest, string, number, number, number | undefined, { code: string; text: string; dose: { value: number; code: string }; change: boolean }]>([
    ['dabigatran 150 MG capsule → 75 mg twice daily', draft('1037045', 'dabigatran etexilate 150 MG Oral Capsule', { value: 150, code: 'mg' }, 2), 'dabigatran', 75, 2, undefined,
      { code: '1037179', text: '75 mg (1 capsule of dabigatran etexilate 75 MG Oral Capsule) twice daily', dose: { value: 75, code: 'mg' }, change: true }],
    ['apixaban 5 MG tablet → 2.5 mg twice daily', draft('1364445', 'apixaban 5 MG Oral Tablet', { value: 5, code: 'mg' }, 2), 'apixaban', 2.5, 2, undefined,
      { code: '1364435', text: '2.5 mg (1 tablet of apixaban 2.5 MG Oral Tablet) twice daily', dose: { value: 2.5, code: 'mg' }, change: true }],
    ['warfarin 5 MG tablet → 1.5 mg with the schedule\'s 3 mg tablet', draft('855332', 'warfarin sodium 5 MG Oral Tablet', { value: 5, code: 'mg' }, 1), 'warfarin', 1.5, 1, tabletSchedule(10.5, 5)!.strengthMg,
      { code: '855318', text: '1.5 mg (½ tablet of warfarin sodium 3 MG Oral Tablet) once daily', dose: { value: 1.5, code: 'mg' }, change: true }],
    ['warfarin 5 MG tablet → 2.5 mg: half of the drafted (scored) tablet', draft('855332', 'warfarin sodium 5 MG Oral Tablet', { value: 5, code: 'mg' }, 1), 'warfarin', 2.5, 1, tabletSchedule(17.5, 5)!.strengthMg,
      { code: '855332', text: '2.5 mg (½ tablet of warfarin sodium 5 MG Oral Tablet) once daily', dose: { value: 2.5, code: 'mg' }, change: false }],
    ['amitriptyline 50 MG tablet → 25 mg: not split, the 25 MG tablet', draft('856845', 'amitriptyline hydrochloride 50 MG Oral Tablet', { value: 50, code: 'mg' }, 1), 'amitriptyline', 25, 1, undefined,
      { code: '856834', text: '25 mg (1 tablet of amitriptyline hydrochloride 25 MG Oral Tablet) once daily', dose: { value: 25, code: 'mg' }, change: true }],
    ['gabapentin 300 MG capsule → 200 mg: two 100 MG capsules', draft('310431', 'gabapentin 300 MG Oral Capsule', { value: 300, code: 'mg' }, 3), 'gabapentin', 200, 1, undefined,
      { code: '310430', text: '200 mg (2 capsules of gabapentin 100 MG Oral Capsule) once daily', dose: { value: 200, code: 'mg' }, change: true }],
    ['enoxaparin 80 mg syringe → 30 mg: the 0.3 ML syringe', draft('854241', '0.8 ML enoxaparin sodium 100 MG/ML Prefilled Syringe', { value: 80, code: 'mg' }, 1), 'enoxaparin', 30, 1, undefined,
      { code: '854228', text: '30 mg (1 syringe of 0.3 ML enoxaparin sodium 100 MG/ML Prefilled Syringe) once daily', dose: { value: 30, code: 'mg' }, change: true }],
    ['vancomycin 1000 MG vial → 1250 mg: measured from vials, product kept', draft('1807513', 'vancomycin 1000 MG Injection', { value: 1000, code: 'mg' }, 2), 'vancomycin', 1250, 2, undefined,
      { code: '1807513', text: '1250 mg twice daily', dose: { value: 1250, code: 'mg' }, change: false }],
    ['sandbox {pill} of warfarin 5 MG → 2.5 mg: ½ {pill}, in the draft\'s own unit', draft('855332', 'warfarin sodium 5 MG Oral Tablet', { value: 1, code: '{pill}' }, 1), 'warfarin', 2.5, 1, 5,
      { code: '855332', text: '2.5 mg (½ tablet of warfarin sodium 5 MG Oral Tablet) once daily', dose: { value: 0.5, code: '{pill}' }, change: false }],
    ['sandbox {pill} of dabigatran 150 MG → 75 mg: 1 {pill} of the 75 MG capsule', draft('1037045', 'dabigatran etexilate 150 MG Oral Capsule', { value: 1, code: '{pill}' }, 2), 'dabigatran', 75, 2, undefined,
      { code: '1037179', text: '75 mg (1 capsule of dabigatran etexilate 75 MG Oral Capsule) twice daily', dose: { value: 1, code: '{pill}' }, change: true }],
  ])('%s', (_n, mr, drug, mg, perDay, prefer, want) => {
    const u = update(mr, drug, mg, perDay, prefer);
    const res = u.resource;
    expect(res.medicationCodeableConcept?.coding?.[0]?.code).toBe(want.code);
    expect(res.dosageInstruction).toHaveLength(1);
    expect(res.dosageInstruction![0]!.text).toBe(want.text);
    expect(res.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity).toMatchObject(want.dose);
    expect(res.dosageInstruction![0]!.timing!.repeat).toMatchObject(per(perDay));
    expect(u.labelSuffix !== '').toBe(want.change);
    // the order reads back as the proposed dose
    expect(toOrder(res, dict).currentDose?.value).toBeCloseTo(mg, 9);
  });

  test('a drug the product table does not cover is ordered by ingredient with strength and form in the text', () => {
    // voriconazole: absent from ../shared/data/rxnorm (its README); the RxNorm ingredient CUI 121243 (CPIC drugs)
    const mr = { ...draft('0', 'voriconazole 200 MG Oral Tablet', { value: 200, code: 'mg' }, 2), medicationCodeableConcept: { text: 'voriconazole 200 MG Oral Tablet' } };
    const u = update(mr, 'voriconazole', 100, 2);
    expect(u.resource.medicationCodeableConcept).toEqual({ coding: [{ system: RXNORM_SYSTEM, code: '121243', display: 'voriconazole' }], text: 'voriconazole 100 mg oral tablet' });
    expect(u.resource.dosageInstruction![0]!.text).toBe('100 mg (as oral tablet; the pharmacy chooses the product) twice daily');
    expect(u.description).toMatch(/orders voriconazole by ingredient/);
    expect(u.labelSuffix).toBe(' (voriconazole 100 mg oral tablet)');
  });

  test('a guideline fraction no product makes is rounded down (by at most 20%) to one that does; never up, never further', () => {
    // amitriptyline tablets: 10, 25, 50, 75, 100, 150 mg (not split). 37.5 mg → 30 mg (3 × 10 mg); 25 mg would be 33% less.
    const mr = draft('856845', 'amitriptyline hydrochloride 50 MG Oral Tablet', { value: 50, code: 'mg' }, 1);
    const o = toOrder(mr, dict);
    const u = doseUpdate({ ...o, ref: 'MedicationRequest/d1' }, rec('amitriptyline'), products, { perDoseMg: 37.5, timing: 'keep', frequencyText: 'once daily', roundDownTo: 0.8 });
    expect(u.dispensing).toMatchObject({ perDoseMg: 30, roundedFromMg: 37.5, units: { count: 3, strengthMg: 10 } });
    expect(u.resource.dosageInstruction![0]!.text).toBe('30 mg (3 tablets of amitriptyline hydrochloride 10 MG Oral Tablet) once daily');
    expect(u.description).toMatch(/rounded down from 37\.5 mg to 30 mg/);
    // nothing within 20% below (7 mg: the smallest tablet is 10 mg) → by ingredient, the exact dose in the text
    const none = doseUpdate({ ...o, ref: 'MedicationRequest/d1' }, rec('amitriptyline'), products, { perDoseMg: 7, timing: 'keep', frequencyText: 'once daily', roundDownTo: 0.8 });
    expect(none.dispensing.perDoseMg).toBe(7);
    expect(none.resource.medicationCodeableConcept?.text).toBe('amitriptyline 7 mg oral tablet');
  });

  test('the dispense quantity follows the new units per day for the days the draft asked for', () => {
    // 90 capsules of 300 mg at 3 a day = 30 days; 200 mg once daily = 2 × 100 mg capsules a day → 60 capsules
    const mr = draft('310431', 'gabapentin 300 MG Oral Capsule', { value: 300, code: 'mg' }, 3, { dispenseRequest: { quantity: { value: 90, unit: 'capsule' }, numberOfRepeatsAllowed: 1 } });
    expect(update(mr, 'gabapentin', 200, 1).resource.dispenseRequest).toEqual({ quantity: { value: 60, unit: 'capsule' }, numberOfRepeatsAllowed: 1 });
    const withDuration = draft('1364445', 'apixaban 5 MG Oral Tablet', { value: 5, code: 'mg' }, 2, { dispenseRequest: { quantity: { value: 60, unit: 'tablet' }, expectedSupplyDuration: { value: 30, unit: 'days', system: UCUM, code: 'd' } } });
    expect(update(withDuration, 'apixaban', 2.5, 2).resource.dispenseRequest?.quantity).toEqual({ value: 60, unit: 'tablet' });
  });

  test('a product change replaces a medicationReference and its contained Medication', () => {
    const mr: MedicationRequest = {
      ...draft('0', '', { value: 150, code: 'mg' }, 2),
      medicationCodeableConcept: undefined,
      medicationReference: { reference: '#m1' },
      contained: [{ resourceType: 'Medication', id: 'm1', code: { coding: [{ system: RXNORM_SYSTEM, code: '1037045', display: 'dabigatran etexilate 150 MG Oral Capsule' }] } }],
    };
    const res = update(mr, 'dabigatran', 75, 2).resource;
    expect(res.medicationReference).toBeUndefined();
    expect(res.contained).toBeUndefined();
    expect(res.medicationCodeableConcept?.coding?.[0]?.code).toBe('1037179');
  });
});

describe('property: every accepted order is dispensable — product strength × units = the proposed dose, and the text says so', () => {
  const solid = products.all().filter((p) => !p.brand && (p.unit === 'tablet' || p.unit === 'capsule' || p.unit === 'syringe'));
  const ingredients = [...new Set(solid.map((p) => p.ingredient))].filter((i) => dict.ingredient(i)?.rxcui);
  test(`over ${ingredients.length} ingredients of the product table, random drafted products, doses and dose units`, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ingredients).chain((ing) => {
          const own = solid.filter((p) => p.ingredient === ing);
          const doses = [...new Set(own.flatMap((p) => [0.5, 1, 1.5, 2, 3].map((k) => p.strengthMg * k)))];
          return fc.tuple(fc.constant(ing), fc.constantFrom(...own), fc.oneof(fc.constantFrom(...doses), fc.double({ min: 0.1, max: 2000, noNaN: true })), fc.constantFrom(1, 2, 3), fc.boolean(), fc.boolean());
        }),
        ([ing, p, mgRaw, perDay, asUnits, round]) => {
          const proposed = Number(mgRaw.toPrecision(6));
          const mr = draft(p.rxcui, p.name, asUnits ? { value: 1, code: '{pill}' } : { value: p.strengthMg, code: 'mg' }, perDay);
          const o = toOrder(mr, dict);
          const u = doseUpdate({ ...o, ref: 'MedicationRequest/d1' }, rec(ing), products, { perDoseMg: proposed, timing: per(perDay), frequencyText: TEXT[perDay]!, ...(round ? { roundDownTo: 0.8 } : {}) });
          // a guideline fraction may be rounded down by at most 20%, never up; other doses are written exactly
          const mg = u.dispensing.perDoseMg;
          if (round) expect(mg <= proposed + 1e-9 && mg >= 0.8 * proposed - 1e-9).toBe(true);
          else expect(mg).toBe(proposed);
          const res = u.resource;
          const text = res.dosageInstruction![0]!.text!;
          expect(res.dosageInstruction).toHaveLength(1);
          expect(text).toContain(`${Number(mg.toFixed(3))} mg`);
          expect(text.endsWith(TEXT[perDay]!)).toBe(true);
          const code = res.medicationCodeableConcept?.coding?.[0]?.code;
          const chosen = code ? products.get(code) : undefined;
          if (chosen) {
            // a product: it makes the dose in whole units (halves only where it may be split), and the text names it
            const n = unitsFor(mg, chosen);
            expect(n).toBeDefined();
            expect(n! * chosen.strengthMg).toBeCloseTo(mg, 6);
            expect(u.dispensing.units?.count).toBe(n);
            expect(text).toContain(chosen.name);
            expect(toOrder(res, dict).currentDose?.value).toBeCloseTo(mg, 6);
          } else {
            // no product makes it: ordered by ingredient, strength and form in the text, and the label says so
            expect(code).toBe(dict.ingredient(ing)!.rxcui);
            expect(res.medicationCodeableConcept?.text).toBe(`${ing} ${Number(mg.toFixed(3))} mg ${p.form.toLowerCase()}`);
            expect(res.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity).toMatchObject({ value: mg, code: 'mg' });
            expect(u.labelSuffix).not.toBe('');
          }
        },
      ),
      { numRuns: 600, seed: 20261207 },
    );
  });
});
