// Patient demographics read from the Patient resource: age on a date, and race (US Core race extension) as the IWPC
// groups and the detailed CDC codes.
import type { Extension, Patient } from 'fhir/r4';
import type { IwpcRace } from '../domain/facts.js';

/** Age in whole years on `now`; partial dates (YYYY or YYYY-MM) use the earliest possible birthday. */
export function ageInYears(birthDate: string, now: Date): number | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(birthDate);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) : 1;
  const d = m[3] ? Number(m[3]) : 1;
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < mo || (now.getUTCMonth() + 1 === mo && now.getUTCDate() < d)) age--;
  return age >= 0 && age < 130 ? age : undefined;
}

const US_CORE_RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
const OMB_TO_IWPC: Record<string, IwpcRace> = { '2106-3': 'White', '2028-9': 'Asian', '2054-5': 'Black' };

/** IWPC race group from the US Core race extension (OMB categories); several categories count as mixed. */
export function iwpcRaceOf(p: Patient): IwpcRace | undefined {
  const ext = (Array.isArray(p.extension) ? p.extension : []).find((e: Extension) => e?.url === US_CORE_RACE);
  if (!ext) return undefined;
  const omb = (Array.isArray(ext.extension) ? ext.extension : [])
    .filter((e) => e?.url === 'ombCategory' && typeof e.valueCoding?.code === 'string')
    .map((e) => e.valueCoding!.code!);
  if (omb.length === 0) return undefined;
  if (omb.length > 1) return 'MissingOrMixed';
  return OMB_TO_IWPC[omb[0]!] ?? 'MissingOrMixed';
}

/** Detailed race codes (CDC Race & Ethnicity code system) from the US Core race extension. */
export function detailedRaceCodes(p: Patient): string[] {
  const ext = (Array.isArray(p.extension) ? p.extension : []).find((e: Extension) => e?.url === US_CORE_RACE);
  return (Array.isArray(ext?.extension) ? ext!.extension : [])
    .filter((e) => e?.url === 'detailed' && typeof e.valueCoding?.code === 'string')
    .map((e) => e.valueCoding!.code!)
    .slice(0, 20);
}
