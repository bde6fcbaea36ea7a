// A draft's dose as EHRs write it (test/fixtures/draft-shapes.ts) → mg per administration and administrations per day
// (src/cds/draftDose.ts); product strengths from knowledge/drug-products.json (RxNorm names, e.g. 855332 "warfarin sodium
// 5 MG Oral Tablet", 310431 "gabapentin 300 MG Oral Capsule").
import { toOrder } from '../../src/cds/orders.js';
import { frequencyPerDayOf } from '../../src/cds/draftDose.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { DRAFT_SHAPES } from '../fixtures/draft-shapes.js';

const dict = DrugDictionary.load();

describe('draft dose shapes', () => {
  test.each(DRAFT_SHAPES.map((s) => [s.name, s] as const))('%s', (_n, s) => {
    const o = toOrder(s.resource, dict);
    if ('none' in s.expect) {
      expect(o.currentDose).toBeUndefined();
      expect(o.doseProblem).toBeUndefined();
    } else if ('problem' in s.expect) {
      expect(o.currentDose).toBeUndefined();
      expect(o.doseProblem).toMatch(s.expect.problem);
    } else {
      expect(o.doseProblem).toBeUndefined();
      expect(o.currentDose?.value).toBeCloseTo(s.expect.mg, 9);
      expect(o.currentDose?.unit).toBe('mg');
      if (s.expect.perDay !== undefined) expect(o.currentDose?.frequencyPerDay).toBeCloseTo(s.expect.perDay, 9);
      if (s.expect.units !== undefined) expect(o.currentDose?.units?.count).toBe(s.expect.units);
      else expect(o.currentDose?.units).toBeUndefined();
    }
  });
});

describe('frequency per day (FHIR Timing)', () => {
  // Source: FHIR R4 Timing (frequency defaults to 1; period/periodUnit UCUM) and the HL7 TimingAbbreviation value set.
  test.each<[string, Parameters<typeof frequencyPerDayOf>[0], number | undefined]>([
    ['frequency absent, period 1 d → 1', { timing: { repeat: { period: 1, periodUnit: 'd' } } }, 1],
    ['1 per 8 h → 3', { timing: { repeat: { frequency: 1, period: 8, periodUnit: 'h' } } }, 3],
    ['code BID → 2', { timing: { code: { coding: [{ code: 'BID' }] } } }, 2],
    ['code Q6H → 4', { timing: { code: { coding: [{ code: 'Q6H' }] } } }, 4],
    ['code QOD → 0.5', { timing: { code: { coding: [{ code: 'QOD' }] } } }, 0.5],
    ['code text "TID" → 3', { timing: { code: { text: 'TID' } } }, 3],
    ['when [HS] only → 1', { timing: { repeat: { when: ['HS'] } } }, 1],
    ['when [MORN, EVE] only → 2', { timing: { repeat: { when: ['MORN', 'EVE'] } } }, 2],
    ['when [C] (with meals, how many not said) → undefined', { timing: { repeat: { when: ['C'] } } }, undefined],
    ['repeat wins over code', { timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' }, code: { coding: [{ code: 'QD' }] } } }, 2],
    ['nothing → undefined', { timing: {} }, undefined],
    ['coding not an array → undefined', { timing: { code: { coding: 'BID' as never } } }, undefined],
  ])('%s', (_n, di, expected) => {
    const v = frequencyPerDayOf(di);
    if (expected === undefined) expect(v).toBeUndefined();
    else expect(v).toBeCloseTo(expected, 9);
  });
});
