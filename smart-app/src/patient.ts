// The patient banner: name, age, sex and MRN, read from the launch's Patient resource.
import { capital } from './text.js';
import { h } from './dom.js';
import { ageYears } from './time.js';

export interface PatientBanner {
  name: string;
  /** "66 years (born 1960-05-01)"; "age unknown" without a usable birthDate */
  age: string;
  /** FHIR administrative gender as words ("female", "male", "other", "unknown"); "sex not recorded" */
  sex: string;
  /** "MRN 12345"; "MRN not on file" when the Patient has no identifier of type MR */
  mrn: string;
}

/** The v2 identifier type of a medical record number (HL7 v2 table 0203). */
export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

interface PatientResource {
  id?: string;
  name?: { text?: string; given?: string[]; family?: string; use?: string }[];
  gender?: string;
  birthDate?: string;
  identifier?: { type?: { coding?: { system?: string; code?: string }[] }; value?: string; period?: { end?: string } }[];
}

/** The MRN: an identifier whose type is v2-0203 "MR" (a current one first). */
export function mrnOf(p: PatientResource, now = new Date()): string | undefined {
  const mr = (p.identifier ?? []).filter((i) => typeof i.value === 'string' && i.value.trim() !== '' && (i.type?.coding ?? []).some((c) => c.system === V2_0203 && c.code === 'MR'));
  const current = mr.find((i) => !i.period?.end || Date.parse(i.period.end) > now.getTime());
  return (current ?? mr[0])?.value?.trim();
}

export function bannerOf(p: PatientResource, now = new Date()): PatientBanner {
  const n = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  const name = n?.text ?? ([...(n?.given ?? []), n?.family].filter(Boolean).join(' ') || `Patient ${p.id ?? ''}`);
  const age = ageYears(p.birthDate, now);
  const mrn = mrnOf(p, now);
  return {
    name,
    age: age !== undefined ? `${age} year${age === 1 ? '' : 's'} (born ${p.birthDate})` : p.birthDate ? `born ${p.birthDate}` : 'age unknown',
    sex: p.gender ? p.gender : 'sex not recorded',
    mrn: mrn ? `MRN ${mrn}` : 'MRN not on file',
  };
}

export function renderBanner(p: PatientBanner, drug?: string): HTMLElement {
  return h(
    'header',
    { class: 'banner' },
    h('p', { class: 'app-name' }, 'Dosing details', drug ? ` · ${capital(drug)}` : ''),
    h(
      'p',
      { class: 'patient', 'data-testid': 'patient' },
      h('strong', { 'data-testid': 'patient-name' }, p.name),
      ' ',
      h('span', { 'data-testid': 'patient-age' }, p.age),
      h('span', { 'aria-hidden': 'true' }, ' · '),
      h('span', { 'data-testid': 'patient-sex' }, p.sex),
      h('span', { 'aria-hidden': 'true' }, ' · '),
      h('span', { 'data-testid': 'patient-mrn', class: p.mrn === 'MRN not on file' ? 'mrn none' : 'mrn' }, p.mrn),
    ),
  );
}
