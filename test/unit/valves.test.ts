// DOACs and heart valves (issue 16 scope 5): a mechanical valve refuses the DOAC whatever the kidney function, never a
// renal dose band; "nonvalvular" AF is checked for mitral stenosis. Sources: PRADAXA label (Contraindications:
// mechanical prosthetic heart valves), ELIQUIS and XARELTO labels (Warnings and Precautions: prosthetic heart valves,
// not recommended), 2020 ACC/AHA valvular heart disease guideline; ICD-10-CM Z95.2/Z95.3, I05.0, SNOMED CT 79619009.
import { randomUUID } from 'node:crypto';
import type { ConditionFact, PatientFacts } from '../../src/domain/facts.js';
import type { DraftOrder } from '../../src/domain/order.js';
import { targetInr, valveFinding } from '../../src/dosing/anticoagulation/indications.js';
import { evaluateRenal } from '../../src/dosing/renal/evaluator.js';
import { loadRenalKnowledge } from '../../src/knowledge/renal.js';
import { CardTemplates, renderCard } from '../../src/cards/render.js';
import { checkCdsResponse } from '../../src/cds/protocol.js';

const k = loadRenalKnowledge();
const NOW = new Date('2026-11-25T12:00:00Z');
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const cond = (ref: string, text: string, codes: ConditionFact['codes'] = []): ConditionFact => ({ codes, text, source: { reference: `Condition/${ref}` } });
const AF = cond('af', 'Atrial fibrillation', [{ system: SCT, code: '49436004' }]);
const MECH_MITRAL = cond('mv', 'Mechanical mitral valve replacement (St. Jude)');
const MECH_AORTIC = cond('av', 'Mechanical aortic valve prosthesis');
const Z952 = cond('z952', '', [{ system: ICD, code: 'Z95.2', display: 'Presence of prosthetic heart valve' }]);
const AVR = cond('avr', 'Aortic valve replacement');
const BIO = cond('bio', 'Bioprosthetic aortic valve', [{ system: ICD, code: 'Z95.3' }]);
const MS = cond('ms', '', [{ system: ICD, code: 'I05.0', display: 'Rheumatic mitral stenosis' }]);
const MS_SCT = cond('ms2', 'Mitral valve stenosis', [{ system: SCT, code: '79619009' }]);
const VTE = cond('pe', 'Pulmonary embolism', [{ system: SCT, code: '59282003' }]);

/** 40-year-old man, 72 kg, creatinine 1.0 → Cockcroft-Gault 100 mL/min (a normal band: without the valve rule, no card). */
function facts(conditions: ConditionFact[]): PatientFacts {
  return {
    patientId: 'p1',
    ageYears: { value: 40, source: { reference: 'Patient/p1' } },
    sex: { value: 'male', source: { reference: 'Patient/p1' } },
    weight: { value: { value: 72, unit: 'kg' }, source: { reference: 'Observation/wt', date: '2026-11-20' } },
    serumCreatinine: { value: { value: 1.0, unit: 'mg/dL' }, source: { reference: 'Observation/cr', date: '2026-11-24' } },
    genes: [],
    medications: [],
    conditions,
    unavailable: [],
    notes: [],
  };
}
const order: DraftOrder = { ref: 'MedicationRequest/d1', resource: { resourceType: 'MedicationRequest', id: 'd1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' } }, drugs: [], currentDose: { value: 150, unit: 'mg', frequencyPerDay: 2 } };
const run = (drug: string, conditions: ConditionFact[]) => evaluateRenal(k, k.drugs.find((d) => d.name === drug)!, facts(conditions), order, { now: NOW, newId: randomUUID });
const templates = CardTemplates.load();

describe('DOAC with a heart valve on file', () => {
  test.each<[string, string, ConditionFact[], 'critical' | 'warning', RegExp]>([
    ['dabigatran', 'mechanical mitral valve (text) + AF', [AF, MECH_MITRAL], 'critical', /^Dabigatran: contraindicated with a mechanical heart valve \(label\)$/],
    ['dabigatran', 'ICD-10-CM Z95.2 only', [Z952], 'critical', /contraindicated with a mechanical heart valve/],
    ['dabigatran', '"Aortic valve replacement" (type not stated) + AF', [AF, AVR], 'critical', /contraindicated with a prosthetic heart valve/],
    ['apixaban', 'mechanical aortic valve + AF', [AF, MECH_AORTIC], 'critical', /^Apixaban: not recommended with a mechanical heart valve \(label\)$/],
    ['rivaroxaban', 'mechanical mitral valve, VTE indication', [VTE, MECH_MITRAL], 'critical', /^Rivaroxaban: not recommended with a mechanical heart valve/],
    ['dabigatran', 'bioprosthetic valve (Z95.3) + AF', [AF, BIO], 'warning', /not recommended by the label with a bioprosthetic heart valve/],
    ['apixaban', 'AF with rheumatic mitral stenosis (I05.0)', [AF, MS], 'warning', /^Apixaban: mitral stenosis on file — the nonvalvular AF dose bands do not apply$/],
    ['rivaroxaban', 'AF with mitral stenosis (SNOMED 79619009)', [AF, MS_SCT], 'warning', /mitral stenosis on file/],
  ])('%s, %s → %s, no renal band', (drug, _n, conditions, severity, headline) => {
    const r = run(drug, conditions);
    expect(r.severity).toBe(severity);
    expect(r.headline).toMatch(headline);
    expect(r.renal?.action).toBe('valve');
    expect(r.proposedDose).toBeUndefined();
    expect(r.renal?.band?.text).not.toMatch(/mg/);
    const card = renderCard(r, order, { templates, newId: randomUUID })!.card;
    expect(checkCdsResponse({ cards: [card] })).toEqual([]);
    expect(card.source.topic?.code).toBe('anticoagulant-valve');
    expect(card.detail).not.toMatch(/nonvalvular atrial fibrillation\b.*band/i);
    // critical: removing the draft is the recommended suggestion
    if (severity === 'critical') expect(card.suggestions?.[0]).toMatchObject({ isRecommended: true, actions: [{ type: 'delete', resourceId: 'MedicationRequest/d1' }] });
  });

  test('no valve and no mitral stenosis: the AF band applies as before', () => {
    expect(run('dabigatran', [AF]).renal?.action).toBe('within');
  });
  test('a mechanical valve wins over a bioprosthesis on the same list', () => {
    expect(valveFinding([BIO, MECH_MITRAL])).toMatchObject({ kind: 'mechanical', position: 'mitral' });
  });
});

describe('target INR from the indications on file', () => {
  // Source: 2020 ACC/AHA VHD guideline (mechanical mitral 3.0 (2.5–3.5); mechanical aortic 2.5, 3.0 with risk factors;
  // bioprosthetic 2.5); CHEST (AF, VTE 2.0–3.0).
  test.each<[string, ConditionFact[], string, [number, number]]>([
    ['mechanical mitral', [MECH_MITRAL], 'mechanical-mitral', [2.5, 3.5]],
    ['mechanical aortic without AF', [MECH_AORTIC], 'mechanical-aortic', [2.0, 3.0]],
    ['mechanical aortic with AF', [MECH_AORTIC, AF], 'mechanical-aortic-risk', [2.5, 3.5]],
    ['Z95.2, position not stated', [Z952], 'mechanical-unknown', [2.5, 3.5]],
    ['bioprosthetic', [BIO], 'bioprosthetic', [2.0, 3.0]],
    ['atrial fibrillation', [AF], 'atrial-fibrillation', [2.0, 3.0]],
    ['pulmonary embolism', [VTE], 'venous-thromboembolism', [2.0, 3.0]],
    ['nothing on file', [], 'not-on-file', [2.0, 3.0]],
  ])('%s → %s %j', (_n, conditions, id, range) => {
    const t = targetInr(conditions);
    expect(t.row.id).toBe(id);
    expect(t.row.range).toEqual(range);
  });
});
