// Wearable and home-device data (issue 18 scope 4): an Observation's device (Observation.device → Device type / name,
// or the reference's display; a point-of-care Observation.method) is read with the value, shown as such on cards, and
// never taken for a laboratory value. Sources: FHIR R4 Observation.device ("the device used to generate the
// observation data"), Device.type / Device.deviceName; HL7 CGM IG sensor-reading examples (99504-3 mg/dL,
// 105272-9 mmol/L); CHEST/ACCP 2012 (Holbrook) — the INR rules themselves do not change for a point-of-care INR.
import type { FhirResource, Observation } from 'fhir/r4';
import { toOrder } from '../../src/cds/orders.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { inrOutOfRange } from '../../src/dosing/warfarin/monitor.js';
import { deviceKindOf, observationDevice } from '../../src/fhir/devices.js';
import { extractFacts } from '../../src/fhir/facts.js';
import type { GatherResult } from '../../src/fhir/gather.js';
import { cgmReading, device } from '../fixtures/cgm.js';
import { activeWarfarin, inrObservation } from '../fixtures/warfarin-history.js';
import { sourceText } from '../../src/cards/markdown.js';
import { visibleText } from '../support/markdown.js';

const dict = DrugDictionary.load();
const NOW = new Date();
const g = (resources: FhirResource[]): GatherResult => ({ byKey: { x: { resources, status: 'query' } }, fhirCalls: 1, fhirMs: 1 });

describe('device kind from its words (Device.type, deviceName, display)', () => {
  test.each([
    ['Continuous glucose monitor', 'cgm'],
    ['Dexcom G7 CGM sensor', 'cgm'],
    ['FreeStyle Libre 3', 'cgm'],
    ['Insulin pump', 'insulin-pump'],
    ['Omnipod 5 insulin pump with CGM integration', 'insulin-pump'],
    ['CoaguChek INRange', 'home-inr-meter'],
    ['Home INR monitor', 'home-inr-meter'],
    ['Blood glucose meter', 'glucose-meter'],
    ['Withings Body+ connected scale', 'scale'],
    ['Upper arm blood pressure monitor', 'bp-monitor'],
    ['Infusion stand', 'device'],
  ])('%s → %s', (text, kind) => {
    expect(deviceKindOf(text).kind).toBe(kind);
  });
});

describe('Observation.device → provenance', () => {
  const devs = new Map([['Device/m1', device('m1', 'p', 'Home INR monitor', 'CoaguChek INRange')]]);
  const obs = (extra: Partial<Observation>): Observation => ({ ...inrObservation('i1', 'p', 2.5, NOW.toISOString()), ...extra });
  test.each<[string, Partial<Observation>, object | undefined]>([
    ['no device, no method: a laboratory value', {}, undefined],
    ['a gathered Device', { device: { reference: 'Device/m1' } }, { kind: 'home-inr-meter', label: 'home INR meter (CoaguChek INRange)', reference: 'Device/m1', pointOfCare: true }],
    ['a Device not gathered, display only', { device: { reference: 'Device/zz', display: 'CoaguChek XS home meter' } }, { kind: 'home-inr-meter', reference: 'Device/zz', pointOfCare: true }],
    ['a device of unknown kind is still not the laboratory', { device: { display: 'Analyzer 7' } }, { kind: 'device', label: 'device (Analyzer 7)', pointOfCare: true }],
    ['Observation.method "home point-of-care meter"', { method: { text: 'home point-of-care meter' } }, { kind: 'device', label: 'point-of-care test (Observation.method)', pointOfCare: true }],
    ['Observation.method of a laboratory ("Coagulation assay")', { method: { text: 'Coagulation assay' } }, undefined],
  ])('%s', (_n, extra, expected) => {
    const d = observationDevice(obs(extra), devs);
    if (expected === undefined) expect(d).toBeUndefined();
    else expect(d).toMatchObject(expected);
  });
});

describe('facts keep the device; the warfarin INR card says point-of-care (rules unchanged)', () => {
  const home = (v: number): FhirResource[] => [device('m1', 'p', 'Home INR monitor', 'CoaguChek INRange'), { ...inrObservation('i1', 'p', v, NOW.toISOString()), device: { reference: 'Device/m1' } }];

  test('a home INR: facts.inr carries the device; the patient\'s Device is a fact too', () => {
    const f = extractFacts(g(home(4.2)), { patientId: 'p', now: NOW });
    expect(f.inr?.[0]?.source.device).toMatchObject({ kind: 'home-inr-meter', pointOfCare: true });
    expect(f.devices).toEqual([expect.objectContaining({ kind: 'home-inr-meter', status: 'active', source: expect.objectContaining({ reference: 'Device/m1' }) })]);
  });

  test.each([
    // CHEST/ACCP 2–3 range; critical at 5 or more (service rule) — the same for a home and a laboratory INR
    [4.2, 'warning'],
    [6.0, 'critical'],
  ])('home INR %s → %s, labelled as a home INR meter, with the point-of-care caution', (v, severity) => {
    const f = extractFacts(g(home(v)), { patientId: 'p', now: NOW });
    const r = inrOutOfRange(f, toOrder(activeWarfarin('w', 'p', 5), dict), dict, { newId: () => 'x', now: NOW })!;
    expect(r.severity).toBe(severity);
    expect(r.inputs[0]).toMatchObject({ key: 'inr', label: 'INR (newest, home INR meter (CoaguChek INRange))', note: expect.stringMatching(/point-of-care, not a laboratory method/) });
    expect(r.notes.join(' ')).toMatch(/point-of-care value .* confirm a value far outside the range with a venous laboratory INR/);
  });

  test('a laboratory INR: no device, no point-of-care wording', () => {
    const f = extractFacts(g([inrObservation('i2', 'p', 4.2, NOW.toISOString())]), { patientId: 'p', now: NOW });
    const r = inrOutOfRange(f, toOrder(activeWarfarin('w', 'p', 5), dict), dict, { newId: () => 'x', now: NOW })!;
    expect(r.inputs[0]).toMatchObject({ label: 'INR (newest)' });
    expect(r.inputs[0]!.note).toBeUndefined();
    expect(r.notes.join(' ')).not.toMatch(/point-of-care/);
  });
});

describe('glucose readings: CGM IG codes, units, never dropped silently', () => {
  const at = new Date(NOW.getTime() - 3600_000).toISOString();
  test.each<[string, Observation, object]>([
    ['99504-3 mg/dL', cgmReading('a', 'p', at, 120), { glucose: [{ mgDl: 120, method: 'cgm', loinc: '99504-3' }] }],
    ['105272-9 mmol/L (× 18.016)', cgmReading('b', 'p', at, 6.7, { unit: 'mmol/L' }), { glucose: [{ mgDl: 120.707, sent: { value: 6.7, unit: 'mmol/L' } }] }],
    ['UCUM case and spacing ("mg/dl")', cgmReading('c', 'p', at, 99, { unit: 'mg/dl', code: 'mg/dl' }), { glucose: [{ mgDl: 99 }] }],
    ['unknown unit → unread, with the reason', cgmReading('d', 'p', at, 99, { unit: 'mg%', code: 'mg%' }), { glucoseUnread: [{ reason: expect.stringMatching(/neither mg\/dL nor mmol\/L/) }] }],
    ['mmol/L sent on the mg/dL code → unread', cgmReading('e', 'p', at, 6.7, { unit: 'mmol/L', loinc: '99504-3' }), { glucoseUnread: [{ reason: expect.stringMatching(/does not match LOINC 99504-3/) }] }],
    ['meter reading 41653-7 → fingerstick, glucose meter', cgmReading('f', 'p', at, 140, { loinc: '41653-7' }), { glucose: [{ method: 'fingerstick', source: { device: { kind: 'glucose-meter' } } }] }],
  ])('%s', (_n, o, expected) => {
    expect(extractFacts(g([o]), { patientId: 'p', now: NOW })).toMatchObject(expected);
  });

  test('a CGM reading without a device reference is still shown as a CGM value (its code is a sensor reading)', () => {
    expect(extractFacts(g([cgmReading('a', 'p', at, 120)]), { patientId: 'p', now: NOW }).glucose?.[0]?.source.device).toMatchObject({ kind: 'cgm', label: 'CGM', pointOfCare: true });
  });

  test('the local time is the timestamp\'s own (06:10-05:00 is 06:10 local, on its own date)', () => {
    const f = extractFacts(g([cgmReading('a', 'p', '2026-03-10T06:10:00-05:00', 120)]), { patientId: 'p', now: new Date('2026-03-10T18:00:00Z') });
    expect(f.glucose?.[0]).toMatchObject({ localDate: '2026-03-10', localMinutes: 370, time: '2026-03-10T11:10:00.000Z' });
  });
});

describe('malformed device and glucose data never throw; what cannot be read is said', () => {
  const at = new Date(NOW.getTime() - 3600_000).toISOString();
  const base = cgmReading('j', 'p', at, 120);
  test.each<[string, unknown, 'reading' | 'unread' | 'ignored' | 'not glucose']>([
    ['device is a string: the reading stands, shown as a CGM value', { ...base, device: 'Device/x' }, 'reading'],
    ['device.reference is a number: the reading stands', { ...base, device: { reference: 42 } }, 'reading'],
    ['method.coding is not an array: the reading stands', { ...base, method: { coding: 'home' } }, 'reading'],
    ['value as a string → unread (no numeric value)', { ...base, valueQuantity: { value: '120', unit: 'mg/dL' } }, 'unread'],
    ['no value → unread', { ...base, valueQuantity: undefined }, 'unread'],
    ['garbage date → ignored, in the notes', { ...base, effectiveDateTime: 'yesterday' }, 'ignored'],
    ['code.coding not an array → not read as glucose', { ...base, code: { coding: { code: '99504-3' } } }, 'not glucose'],
  ])('%s', (_n, o, outcome) => {
    const junkDevice = { resourceType: 'Device', id: 'x', patient: { reference: 'Patient/p' }, type: 'pump', deviceName: 'Omnipod' };
    const f = extractFacts(g([o as FhirResource, junkDevice as unknown as FhirResource]), { patientId: 'p', now: NOW });
    expect(f.glucose?.length ?? 0).toBe(outcome === 'reading' ? 1 : 0);
    expect(f.glucoseUnread?.length ?? 0).toBe(outcome === 'unread' ? 1 : 0);
    expect(f.notes.some((n) => n.startsWith('Observation/j (glucose) ignored'))).toBe(outcome === 'ignored');
    if (outcome === 'reading') expect(f.glucose![0]!.source.device).toMatchObject({ kind: 'cgm', label: 'CGM' });
    // a Device with a malformed type and name is kept as a device of unknown kind, never as a pump
    expect(f.devices).toEqual([expect.objectContaining({ kind: 'device' })]);
  });
});

describe('every card input from a device says so (src/cards/markdown.ts sourceText), once', () => {
  const scale = { kind: 'scale' as const, label: 'connected scale (Withings Body+)', pointOfCare: true };
  test.each([
    ['a weight from a connected scale, no note from the evaluator', { key: 'weight', label: 'Weight', value: 80, unit: 'kg', source: { reference: 'Observation/w1', date: '2026-12-01', device: scale } }, 'Observation/w1, 2026-12-01 (measured by connected scale (Withings Body+) — point-of-care, not a laboratory method)'],
    ['the evaluator already noted the device: not repeated', { key: 'weight', label: 'Weight', value: 80, unit: 'kg', source: { reference: 'Observation/w1', device: scale }, note: 'measured by connected scale (Withings Body+)' }, 'Observation/w1 (measured by connected scale (Withings Body+))'],
    ['a laboratory value: no device words', { key: 'scr', label: 'Creatinine', value: 1.1, unit: 'mg/dL', source: { reference: 'Observation/c1', date: '2026-12-01' } }, 'Observation/c1, 2026-12-01'],
  ])('%s', (_n, input, visible) => {
    expect(visibleText(sourceText(input as never).text)).toBe(visible);
  });
});
