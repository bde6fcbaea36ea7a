// Basal insulin titration end to end (issue 18 scope 5): the real service (signed JWTs, SQLite) and the real FHIR test
// server process holding a week of CGM sensor readings (HL7 CGM IG: LOINC 99504-3, mg/dL) from a CGM Device.
// Expected steps: ADA Standards of Care 2025 section 9 (increase 2 units every 3 days while the fasting glucose is above
// the 80–130 mg/dL goal without hypoglycemia; on hypoglycemia without a clear reason lower by 10–20%: 20% for a
// level 2 low < 54 mg/dL, Battelino 2019).
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { orderSelectCall } from '../fixtures/orders.js';
import { basalOrder, cgmTrace, device, utcTraceFor, withTimeZone } from '../fixtures/cgm.js';
import { patient, prefetchFrom, searchset } from '../fixtures/synthetic-patients.js';
import { useFhirAndService } from '../support/service.js';

const TOKEN = 'ehr-access-token-insulin';
const now = new Date();
const TODAY = now.toISOString().slice(0, 10);
const bornYearsAgo = (y: number) => `${now.getUTCFullYear() - y}-01-01`;
const week = (p: string, fasting: number, o: { lows?: { day: number; at: string; values: number[] }[]; device?: string } = {}) =>
  cgmTrace(`${p}-g`, p, { fasting: Array(7).fill(fasting), lastDate: TODAY, until: now, intervalMin: 60, other: 160, ...o });

/**
 * - ins-rise: CGM (Dexcom G7 Device), fasting 172 mg/dL every day → raise 20 → 22 units
 * - ins-pump: the same readings and an active insulin pump Device → no step (pump)
 * - ins-low:  fasting 150, a level 2 low (50, 48 mg/dL for 2 h) yesterday at 02:00 → lower 20%: 20 → 16 units
 * - ins-tz:   CGM readings sent in UTC (`Z`), 172 mg/dL 04:00–08:00 New York time and 120 otherwise; the Patient's
 *             FHIR timezone extension says America/New_York → fasting 172 → raise 20 → 22
 * - ins-utc:  the same readings, no time zone on the Patient → the UTC clock's 04:00–08:00 (the night in New York,
 *             120 mg/dL) → at goal, no card
 */
function resources(): FhirResource[] {
  return [
    patient('ins-rise', bornYearsAgo(62), 'female'),
    device('ins-rise-cgm', 'ins-rise', 'Continuous glucose monitor', 'Dexcom G7'),
    ...week('ins-rise', 172, { device: 'ins-rise-cgm' }),
    patient('ins-pump', bornYearsAgo(35), 'male'),
    device('ins-pump-pump', 'ins-pump', 'Insulin pump', 'Omnipod 5'),
    ...week('ins-pump', 172),
    patient('ins-low', bornYearsAgo(70), 'male'),
    ...week('ins-low', 150, { lows: [{ day: 5, at: '02:00', values: [50, 48] }] }),
    withTimeZone(patient('ins-tz', bornYearsAgo(58), 'female'), 'America/New_York'),
    ...utcTraceFor('ins-tz-g', 'ins-tz', 'America/New_York', { fasting: 172, other: 120, days: 7, until: now }),
    patient('ins-utc', bornYearsAgo(58), 'female'),
    ...utcTraceFor('ins-utc-g', 'ins-utc', 'America/New_York', { fasting: 172, other: 120, days: 7, until: now }),
  ];
}

const env = useFhirAndService(TOKEN, resources);

/** prefetch of every key, glucose and devices as the templates ask for them */
function prefetch(p: string): Record<string, unknown> {
  const mine = resources().filter((r) => (r.resourceType === 'Device' ? r.patient?.reference : (r as { subject?: { reference?: string } }).subject?.reference) === `Patient/${p}`);
  return {
    ...prefetchFrom(resources(), p),
    glucose: searchset(mine.filter((r) => r.resourceType === 'Observation')),
    devices: searchset(mine.filter((r) => r.resourceType === 'Device')),
  };
}

const draft = (id: string, p: string, units = 20): MedicationRequest => basalOrder(id, p, units, { status: 'draft' });

describe('basal insulin titration through order-select', () => {
  test.each([true, false])('a week of CGM above the goal → raise 20 → 22 units, the readings on the card, a whole-unit update (prefetch: %s)', async (withPrefetch) => {
    const d = draft('ig1', 'ins-rise');
    const r = await env.svc.hook('dosing-order-select', orderSelectCall(env.fhir.url, TOKEN, 'ins-rise', d, withPrefetch ? { prefetch: prefetch('ins-rise') } : {}));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toMatch(/^insulin glargine: raise to 22 units once daily \(fasting mean 172 mg\/dL\)/);
    expect(c.source.topic.code).toBe('insulin-titration');
    // the readings that decided it, with their device
    expect(c.detail).toMatch(/\| Fasting glucose \d{4}-\d{2}-\d{2} 04:00 \| 172 mg\/dL \| Observation\/ins-rise-g-\d-240, .*measured by CGM \(Dexcom G7\) — point-of-care/);
    expect(c.detail).toMatch(/ADA|Standards of Care/);
    // the trace starts at 00:00 UTC six days ago and runs to now: 6.0 days just after midnight UTC, 7 (rounded to 0.1)
    // just before it
    expect(c.detail).toMatch(/time below range over (6(\.\d)?|7) days .*0% below 70 mg\/dL/i);
    const action = c.suggestions[0].actions[0];
    expect(c.suggestions[0].label).toBe('Change to insulin glargine 22 units once daily');
    expect(action.type).toBe('update');
    expect(action.resource.id).toBe('ig1');
    expect(action.resource.medicationCodeableConcept.coding[0].code).toBe('847230');
    expect(action.resource.dosageInstruction).toHaveLength(1);
    expect(action.resource.dosageInstruction[0].doseAndRate[0].doseQuantity).toEqual({ value: 22, unit: 'U', system: 'http://unitsofmeasure.org', code: '[IU]' });
    expect(action.resource.dosageInstruction[0].timing.repeat).toEqual({ frequency: 1, period: 1, periodUnit: 'd' });
    // the pharmacy recomputes pens for the new daily units; the days of supply stay
    expect(action.resource.dispenseRequest).toEqual({ expectedSupplyDuration: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } });
    const asked = (await env.fhir.admin.requests()).map((q) => q.url);
    if (withPrefetch) expect(asked).toEqual([]);
    else {
      expect(asked.some((u) => /Observation\?.*99504-3/.test(decodeURIComponent(u)))).toBe(true);
      expect(asked.some((u) => /Device\?patient=ins-rise/.test(u))).toBe(true);
    }
  });

  test.each([true, false])('readings sent in UTC, the Patient in America/New_York → the fasting window in New York time: raise 20 → 22, the zone in the inputs table (prefetch: %s)', async (withPrefetch) => {
    const r = await env.svc.hook('dosing-order-select', orderSelectCall(env.fhir.url, TOKEN, 'ins-tz', draft('itz1', 'ins-tz'), withPrefetch ? { prefetch: prefetch('ins-tz') } : {}));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.summary).toMatch(/^insulin glargine: raise to 22 units once daily \(fasting mean 172 mg\/dL\)/);
    expect(c.detail).toMatch(/\| Time zone of the readings \| America\/New\\_York \| Patient\/ins-tz.*the patient's time zone \(FHIR timezone extension\); \d+ reading\(s\) sent in UTC placed in it/);
    // each fasting value at its New York clock time (the first reading of the window is 04:00 local)
    expect(c.detail).toMatch(/\| Fasting glucose \d{4}-\d{2}-\d{2} 04:00 \| 172 mg\/dL \|/);
    const asked = (await env.fhir.admin.requests()).map((q) => q.url);
    if (withPrefetch) expect(asked).toEqual([]);
    else expect(asked.some((u) => /\/Patient\/ins-tz$/.test(u))).toBe(true);
  });

  test.each([true, false])('the same readings, no time zone on the Patient → the UTC clock’s 04:00–08:00 (New York’s night, 120 mg/dL): at goal, no card (prefetch: %s)', async (withPrefetch) => {
    const r = await env.svc.hook('dosing-order-select', orderSelectCall(env.fhir.url, TOKEN, 'ins-utc', draft('iutc1', 'ins-utc'), withPrefetch ? { prefetch: prefetch('ins-utc') } : {}));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    // fasting 120 mg/dL on the UTC clock (New York's night) is within 80–130: keep, which shows no card
    expect(r.json.cards).toHaveLength(0);
  });

  test.each([true, false])('an insulin pump on file → no step, the reason on the card (prefetch: %s)', async (withPrefetch) => {
    const r = await env.svc.hook('dosing-order-select', orderSelectCall(env.fhir.url, TOKEN, 'ins-pump', draft('ip1', 'ins-pump'), withPrefetch ? { prefetch: prefetch('ins-pump') } : {}));
    expect(r.status).toBe(200);
    expect(r.json.cards).toHaveLength(1);
    expect(r.json.cards[0].summary).toMatch(/no titration step proposed — the patient uses an insulin pump/);
    expect(r.json.cards[0].suggestions ?? []).toHaveLength(0);
  });

  test('order-sign: a level 2 low last night → critical, lower 20% (20 → 16 units)', async () => {
    const d = draft('il1', 'ins-low');
    const r = await env.svc.hook('dosing-order-sign', { ...orderSelectCall(env.fhir.url, TOKEN, 'ins-low', d), hook: 'order-sign', context: { userId: 'Practitioner/example', patientId: 'ins-low', draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: d }] } } });
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('critical');
    expect(c.summary).toMatch(/lower to 16 units once daily/);
    expect(c.detail).toMatch(/Hypoglycaemia level 2 .*\| 48 mg\/dL/);
    expect(c.suggestions[0].actions[0].resource.dosageInstruction[0].doseAndRate[0].doseQuantity.value).toBe(16);
  });

  test('patient-view: an active glargine order with a week above the goal → one monitoring card, no inline suggestion', async () => {
    const active = basalOrder('ig-act', 'ins-rise', 20, { authoredOn: new Date(now.getTime() - 10 * 86400000).toISOString() });
    const call = orderSelectCall(env.fhir.url, TOKEN, 'ins-rise', active);
    const body = { ...call, hook: 'patient-view', context: { userId: 'Practitioner/example', patientId: 'ins-rise' }, prefetch: { ...prefetch('ins-rise'), medicationRequests: searchset([active]) } };
    const r = await env.svc.hook('dosing-monitor', body);
    expect(r.status).toBe(200);
    expect(r.json.cards).toHaveLength(1);
    expect(r.json.cards[0].summary).toMatch(/raise to 22 units/);
    expect(r.json.cards[0].suggestions).toBeUndefined();
  });
});
