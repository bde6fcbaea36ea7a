// Audit helpers: service/knowledge versions, patient-id pseudonymization, and completing a HookRecord at call time.
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditVersions, HookRecord } from './store.js';

let serviceVersionCache: string | undefined;
/** package.json version (read once, from the working directory the service runs in). */
export function serviceVersion(): string {
  if (serviceVersionCache === undefined) {
    try {
      serviceVersionCache = String((JSON.parse(readFileSync(path.resolve(process.cwd(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown');
    } catch {
      serviceVersionCache = 'unknown';
    }
  }
  return serviceVersionCache;
}

let knowledgeCache: Record<string, string> | undefined;
/**
 * Provenance version of every knowledge/*.json file (read once): `provenance.version`, or a top-level string `version`
 * (the phenoconversion table's, a date or a same-day revision such as 2026-12-07.2, kept as written).
 */
export function knowledgeVersions(dir = path.resolve(process.cwd(), 'knowledge')): Record<string, string> {
  if (knowledgeCache) return knowledgeCache;
  const out: Record<string, string> = {};
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
      try {
        const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { provenance?: { version?: unknown }; version?: unknown };
        const v = j.provenance?.version ?? (typeof j.version === 'string' ? j.version : undefined);
        if (v !== undefined) out[f] = String(v);
      } catch {
        // a knowledge file that cannot be parsed is reported by its loader, not here
      }
    }
  }
  return (knowledgeCache = out);
}

export function versionsOf(r: HookRecord): AuditVersions {
  const methods: Record<string, string> = {};
  for (const rec of r.recommendations) methods[rec.method.id] = rec.method.version;
  return { service: serviceVersion(), knowledge: knowledgeVersions(), methods };
}

/** Fill in id, time and versions, so a record spooled now and written later still says when and with what. */
export function completeRecord(r: HookRecord, newId: () => string = randomUUID): HookRecord & Required<Pick<HookRecord, 'id' | 'at' | 'versions'>> {
  return { ...r, id: r.id ?? newId(), at: r.at ?? new Date().toISOString(), versions: r.versions ?? versionsOf(r) };
}

/** Maps a patient id to what is stored: itself, or a keyed HMAC-SHA256 pseudonym. Lookups must use the same function. */
export type PatientKey = (patientId: string) => string;

export const identityPatientKey: PatientKey = (id) => id;

/** Keyed pseudonym "h1:<base64url HMAC-SHA256(key, id)>"; stable across replicas sharing the key. */
export function hmacPatientKey(key: string): PatientKey {
  if (key.length < 16) throw new Error('the patient-id key must be at least 16 characters');
  return (id) => `h1:${createHmac('sha256', key).update(id, 'utf8').digest('base64url')}`;
}

export function patientKeyFor(opts: { pseudonymize: boolean; key: string }): PatientKey {
  return opts.pseudonymize ? hmacPatientKey(opts.key) : identityPatientKey;
}
