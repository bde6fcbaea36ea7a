// Device provenance: which device measured an Observation (Observation.device → the Device's type and name, or the
// reference's display), so home and wearable values (CGM, home INR meter, connected scale) are shown as such on cards
// and never mistaken for laboratory results. Also the patient's Devices (an insulin pump).
//
// Classification is by words in Device.type (text and coding displays), Device.deviceName and Observation.device.display
// — no device-type code list was verified against SNOMED CT or the HL7 CGM IG, so codes are not matched on their own.
import type { Device, FhirResource, Observation } from 'fhir/r4';
import type { DeviceFact, DeviceKind, DeviceProvenance, SourceRef } from '../domain/facts.js';
import { referenceOf } from './references.js';

/** First match wins: an insulin pump before a CGM (a sensor-augmented pump names both). */
export const DEVICE_KINDS: readonly { kind: Exclude<DeviceKind, 'device'>; label: string; words: RegExp }[] = [
  { kind: 'insulin-pump', label: 'insulin pump', words: /\binsulin (infusion )?pump\b|\bcsii\b|continuous subcutaneous insulin infusion|\bomnipod\b|\bt:slim\b|\bminimed\b/i },
  { kind: 'cgm', label: 'CGM', words: /\bcgm\b|continuous glucose|glucose sensor|\bdexcom\b|freestyle libre|\blibre\b|\bguardian sensor\b|\beversense\b/i },
  { kind: 'home-inr-meter', label: 'home INR meter', words: /\binr\b|coagulation (monitor|meter)|prothrombin|coaguchek|inratio|xprecia/i },
  { kind: 'glucose-meter', label: 'glucose meter', words: /glucose meter|glucometer|blood glucose monitor|\bsmbg\b/i },
  { kind: 'scale', label: 'connected scale', words: /\bscale\b|weighing|body weight/i },
  { kind: 'bp-monitor', label: 'home blood pressure monitor', words: /blood pressure|sphygmomanometer|\bbp monitor\b/i },
];

/** The kind of device a text names ("device" when none of DEVICE_KINDS). */
export function deviceKindOf(text: string): { kind: DeviceKind; label: string } {
  const k = DEVICE_KINDS.find((d) => d.words.test(text));
  return k ? { kind: k.kind, label: k.label } : { kind: 'device', label: 'device' };
}

function deviceText(d: Device): { words: string; name?: string } {
  const type = [d.type?.text, ...(Array.isArray(d.type?.coding) ? d.type!.coding.map((c) => c?.display) : [])];
  const names = (Array.isArray(d.deviceName) ? d.deviceName : []).map((n) => n?.name);
  const name = [...names, d.modelNumber].find((s): s is string => typeof s === 'string' && s.trim() !== '');
  return { words: [...type, ...names].filter((s): s is string => typeof s === 'string').join(' | ').slice(0, 500), ...(name ? { name: name.slice(0, 80) } : {}) };
}

/** The gathered Devices by reference ("Device/id"). */
export function deviceIndex(resources: Iterable<FhirResource>): Map<string, Device> {
  const out = new Map<string, Device>();
  for (const r of resources) if (r.resourceType === 'Device' && typeof r.id === 'string') out.set(`Device/${r.id}`, r);
  return out;
}

/**
 * The device an Observation names, or undefined (no Observation.device: a laboratory or manually entered value).
 * A referenced Device that was not gathered is classified by the reference's display; a device of unknown kind is
 * still a device (point of care: not a laboratory method).
 */
export function observationDevice(o: Observation, devices: ReadonlyMap<string, Device>): DeviceProvenance | undefined {
  const ref = o.device;
  if (!ref || typeof ref !== 'object') return pointOfCareMethod(o);
  const reference = typeof ref.reference === 'string' && /^Device\/[A-Za-z0-9\-.]{1,64}$/.test(ref.reference) ? ref.reference : undefined;
  const dev = reference ? devices.get(reference) : undefined;
  const t = dev ? deviceText(dev) : { words: '' };
  const display = typeof ref.display === 'string' ? ref.display.slice(0, 200) : '';
  if (!reference && !display) return pointOfCareMethod(o);
  const k = deviceKindOf(`${t.words} | ${display}`);
  const name = 'name' in t && t.name ? t.name : display && k.kind !== 'device' ? undefined : display || undefined;
  return { kind: k.kind, label: name ? `${k.label} (${name})` : k.label, ...(reference ? { reference } : {}), pointOfCare: true };
}

/** Observation.method naming a point-of-care or home test (no device named): still not a laboratory method. */
const POC_METHOD = /point[- ]of[- ]care|\bpoc\b|\bhome\b|self[- ]test|patient self/i;
function pointOfCareMethod(o: Observation): DeviceProvenance | undefined {
  const m = o.method;
  const text = [m?.text, ...(Array.isArray(m?.coding) ? m!.coding.map((c) => c?.display) : [])].filter((s): s is string => typeof s === 'string').join(' | ').slice(0, 300);
  if (!POC_METHOD.test(text)) return undefined;
  const k = deviceKindOf(text);
  return { kind: k.kind, label: k.kind === 'device' ? 'point-of-care test (Observation.method)' : k.label, pointOfCare: true };
}

/** The patient's Devices as facts (status entered-in-error left out). */
export function deviceFact(d: Device, via: SourceRef['via']): DeviceFact | undefined {
  if (d.status === 'entered-in-error') return undefined;
  const t = deviceText(d);
  const k = deviceKindOf(t.words);
  return { kind: k.kind, label: t.name ? `${k.label} (${t.name})` : k.label, ...(typeof d.status === 'string' ? { status: d.status } : {}), source: { reference: referenceOf(d), via } };
}

/** "home INR meter (CoaguChek)" for a card's input note; undefined for a value without a device. */
export function deviceNote(s: SourceRef | undefined): string | undefined {
  const d = s?.device;
  if (!d) return undefined;
  return `measured by ${d.label}${d.pointOfCare ? ' — point-of-care, not a laboratory method' : ''}`;
}
