// Rows → the store's types, shared by the SQLite and PostgreSQL stores (SQLite returns JSON as text and times as ISO
// strings, PostgreSQL as parsed JSON and Dates: both are accepted).
import type { AppliedOutcome, OrderDose, OrderSnapshot, StoredIntendedOrder } from '../domain/applied.js';
import { appliedStatusOf, type OpenIntendedOrder } from './applied.js';
import type { CardAudit, HookOutcomeKind, ReportRow, StoredFeedback } from './store.js';

export interface CallRow {
  id: string;
  hook_instance: string;
  service_id: string;
  hook: string;
  client_iss: string;
  patient_id: string;
  ordered_drugs: string;
  outcome: string;
  detail: string | null;
  fhir_ms: number;
  evaluate_ms: number;
  total_ms: number;
  versions: string;
  card_uuids: string;
  fhir_server: string | null;
  created_at: string;
}

export function callFromRow(c: CallRow | Record<string, unknown>): NonNullable<CardAudit['call']> {
  const row = c as CallRow;
  const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
  return {
    id: row.id,
    hookInstance: row.hook_instance,
    serviceId: row.service_id,
    hook: row.hook,
    clientIss: row.client_iss,
    ...(row.fhir_server ? { fhirServer: row.fhir_server } : {}),
    patientId: row.patient_id,
    orderedDrugs: json<string[]>(row.ordered_drugs),
    outcome: row.outcome as HookOutcomeKind,
    ...(row.detail ? { detail: row.detail } : {}),
    timings: { fhirMs: Number(row.fhir_ms), evaluateMs: Number(row.evaluate_ms), totalMs: Number(row.total_ms) },
    versions: json(row.versions),
    at: isoOf(row.created_at),
    cardUuids: json<string[]>(row.card_uuids),
  };
}

export function feedbackFromRow(f: Record<string, unknown>): StoredFeedback {
  const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
  const reason = { code: f['override_code'], system: f['override_system'], display: f['override_display'] };
  const hasReason = Object.values(reason).some((v) => v !== null && v !== undefined);
  return {
    cardUuid: String(f['card_uuid']),
    serviceId: String(f['service_id']),
    outcome: f['outcome'] as StoredFeedback['outcome'],
    outcomeTimestamp: isoOf(f['outcome_timestamp']),
    acceptedSuggestions: f['accepted_suggestions'] ? json<string[]>(f['accepted_suggestions']) : [],
    ...(hasReason ? { overrideReason: Object.fromEntries(Object.entries(reason).filter(([, v]) => v !== null && v !== undefined)) as StoredFeedback['overrideReason'] } : {}),
    ...(f['user_comment'] ? { userComment: String(f['user_comment']) } : {}),
    clientIss: String(f['client_iss']),
    ...(f['fhir_server'] ? { fhirServer: String(f['fhir_server']) } : {}),
    knownCard: Boolean(f['known_card']),
    receivedAt: isoOf(f['received_at']),
  };
}

export const INTENDED_OF_CARD_SQL = `
  SELECT i.id, i.suggestion_uuid, i.order_ref, i.rxnorm, i.dose, o.outcome, o.seen, o.hook_instance AS observed_by, o.observed_at
  FROM intended_order i LEFT JOIN intended_outcome o ON o.intended_id = i.id WHERE i.card_uuid = ? ORDER BY i.id`;

function jsonOf<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export function openIntendedFromRow(r: Record<string, unknown>): OpenIntendedOrder {
  return {
    id: String(r['id']),
    intended: snapshotOf(r),
    acceptedSuggestions: r['accepted_suggestions'] ? jsonOf<string[]>(r['accepted_suggestions']) : [],
  };
}

function snapshotOf(r: Record<string, unknown>): OpenIntendedOrder['intended'] {
  const dose = r['dose'] ? jsonOf<OrderDose>(r['dose']) : undefined;
  return { suggestionUuid: String(r['suggestion_uuid']), orderRef: String(r['order_ref']), rxnorm: jsonOf<string[]>(r['rxnorm']), ...(dose ? { dose } : {}) };
}

export function intendedFromRow(r: Record<string, unknown>): StoredIntendedOrder {
  return {
    ...snapshotOf(r),
    ...(r['outcome']
      ? { resolution: { outcome: r['outcome'] as AppliedOutcome, at: isoOf(r['observed_at']), hookInstance: String(r['observed_by']), seen: jsonOf<OrderSnapshot>(r['seen']) } }
      : {}),
  };
}

export function reportRowFrom(r: Record<string, unknown>): ReportRow {
  const genes = typeof r['genes'] === 'string' ? (JSON.parse(r['genes']) as string[]) : ((r['genes'] as string[] | null) ?? []);
  const intended = r['intended'] ? jsonOf<{ s: string; o: AppliedOutcome | null }[]>(r['intended']) : [];
  const applied =
    r['outcome'] === 'accepted' && r['accepted_suggestions']
      ? appliedStatusOf(jsonOf<string[]>(r['accepted_suggestions']), intended.map((x) => ({ suggestionUuid: x.s, outcome: x.o })))
      : undefined;
  return {
    cardUuid: String(r['uuid']),
    serviceId: String(r['service_id']),
    drug: String(r['drug'] ?? ''),
    kind: String(r['kind'] ?? ''),
    indicator: String(r['indicator'] ?? ''),
    genes,
    createdAt: isoOf(r['created_at']),
    ...(r['outcome'] ? { outcome: r['outcome'] as 'accepted' | 'overridden' } : {}),
    ...(r['override_code'] ? { overrideCode: String(r['override_code']) } : {}),
    ...(r['override_display'] ? { overrideDisplay: String(r['override_display']) } : {}),
    ...(applied ? { applied } : {}),
  };
}

export function isoOf(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}
