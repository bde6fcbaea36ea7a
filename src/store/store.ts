// Persistence interface for the audit trail (hook calls, recommendations, cards), feedback, analytics and retention.
import type { FeedbackItem } from '../cds/protocol.js';
import type { AppliedStatus, IntendedOrder, OrderSnapshot, StoredIntendedOrder } from '../domain/applied.js';
import type { Recommendation } from '../domain/recommendation.js';

/** Versions that produced a hook call's answer, fixed when the call is recorded (not when a spooled copy lands). */
export interface AuditVersions {
  /** package.json version of the service */
  service: string;
  /** knowledge files and their provenance versions, e.g. { "drug-codes.json": "2026-11-25" } */
  knowledge: Record<string, string>;
  /** method id → version for every recommendation of the call (model versions appear here, e.g. warfarin-model) */
  methods: Record<string, string>;
}

/** A card as returned, with what the analytics group by, fixed at card time. */
export interface CardRecord {
  uuid: string;
  recommendationId: string;
  suggestionUuids: string[];
  /** Recommendation.kind */
  kind?: string;
  /** card indicator (info / warning / critical) */
  indicator?: string;
  /** genes from Recommendation.genes */
  genes?: string[];
  /** hash of what the card was computed from (src/cds/monitoring.ts): an override of the same facts is not repeated */
  factsFingerprint?: string;
  /** per `update` suggestion: the order it intends (order ref, RxNorm codes, dose as the draft reader reads it) */
  intendedOrders?: IntendedOrder[];
}

/** 'deadline-exceeded': evaluated, but past the request deadline: the client was answered 503 and shown no card */
export type HookOutcomeKind = 'cards' | 'no-card' | 'precondition-failed' | 'error' | 'deadline-exceeded';

export interface HookRecord {
  /** unique id of this audit record (makes replays from the spool idempotent); assigned when absent */
  id?: string;
  hookInstance: string;
  serviceId: string;
  hook: string;
  clientIss: string;
  /** the request's fhirServer, when it sent one: an accepted suggestion is only resolved by calls from the same server */
  fhirServer?: string;
  /** as received; replaced by its pseudonym before it is persisted when pseudonymization is on */
  patientId: string;
  /** ingredient names of the orders in scope */
  orderedDrugs?: string[];
  outcome: HookOutcomeKind;
  /** error class name for outcome "error", or the 412 reasons */
  detail?: string;
  recommendations: Recommendation[];
  cards: CardRecord[];
  timings: { fhirMs: number; evaluateMs: number; totalMs: number };
  /** ISO time of the call; assigned when absent */
  at?: string;
  /** assigned when absent */
  versions?: AuditVersions;
  /**
   * The draft orders this call showed (order-select, order-sign, medication-prescribe): writing the record resolves
   * accepted update suggestions for the same client, patient and order that are not resolved yet (src/store/applied.ts).
   */
  seenOrders?: OrderSnapshot[];
}

export interface FeedbackResult {
  stored: number;
  duplicates: number;
  unknownCards: number;
}

export interface StoredRecommendation {
  recommendation: Recommendation;
  patientId: string;
  hookInstance: string;
  createdAt: string;
}

export interface StoredFeedback {
  cardUuid: string;
  serviceId: string;
  outcome: 'accepted' | 'overridden';
  outcomeTimestamp: string;
  acceptedSuggestions: string[];
  overrideReason?: { code?: string; system?: string; display?: string };
  userComment?: string;
  clientIss: string;
  /** whether the card was known when the feedback arrived */
  knownCard: boolean;
  receivedAt: string;
}

/** Everything recorded about one card: the call, the recommendation behind it and what the prescriber did. */
export interface CardAudit {
  card: CardRecord & { serviceId: string; hookInstance: string; drug: string; createdAt: string };
  call: {
    id: string;
    hookInstance: string;
    serviceId: string;
    hook: string;
    clientIss: string;
    fhirServer?: string;
    patientId: string;
    orderedDrugs: string[];
    outcome: HookOutcomeKind;
    detail?: string;
    timings: { fhirMs: number; evaluateMs: number; totalMs: number };
    versions: AuditVersions;
    at: string;
    cardUuids: string[];
  } | undefined;
  recommendation: Recommendation | undefined;
  feedback: StoredFeedback[];
  /** the orders the card's update suggestions intend, each with what a later hook call showed (once one did) */
  intendedOrders: StoredIntendedOrder[];
}

/** One card with its latest feedback (if any): the unit the analytics count. */
export interface ReportRow {
  cardUuid: string;
  serviceId: string;
  drug: string;
  kind: string;
  indicator: string;
  genes: string[];
  createdAt: string;
  outcome?: 'accepted' | 'overridden';
  overrideCode?: string;
  overrideDisplay?: string;
  /** latest feedback "accepted" with an accepted suggestion that intended an order: was it applied? */
  applied?: AppliedStatus;
}

export interface PurgeResult {
  before: string;
  hookCalls: number;
  recommendations: number;
  cards: number;
  feedback: number;
}

export interface StoreHealth {
  ok: boolean;
  /** "ok" | "degraded" (audit writes spooled, hooks unaffected) | "down" */
  state?: 'ok' | 'degraded' | 'down';
  detail?: string;
  /** audit records waiting (queued in memory + spooled on disk) */
  backlog?: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** create tables / apply pending migrations (idempotent; safe when replicas start together) */
  init?(): Promise<void>;
  /**
   * What a patient id is stored as (itself, or its keyed pseudonym). Compare `StoredRecommendation.patientId` with
   * `patientKey(idFromTheSmartToken)`, never with the raw id.
   */
  patientKey(patientId: string): string;
  recordHook(r: HookRecord): Promise<void>;
  recordFeedback(serviceId: string, clientIss: string, items: FeedbackItem[]): Promise<FeedbackResult>;
  getRecommendation(id: string): Promise<StoredRecommendation | undefined>;
  /** newest first; the patient id goes through the same pseudonymization as when recording */
  recommendationsForPatient(patientId: string, limit?: number): Promise<StoredRecommendation[]>;
  cardAudit(cardUuid: string): Promise<CardAudit | undefined>;
  /**
   * Which of `fingerprints` belong to cards shown for this patient whose latest feedback is "overridden" (the patient
   * id goes through the same pseudonymization as when recording). Used by monitoring to not repeat an overridden card.
   */
  overriddenFingerprints(patientId: string, fingerprints: string[]): Promise<Set<string>>;
  /** cards created at or after `since`, each with its latest feedback */
  reportRows(since?: Date): Promise<ReportRow[]>;
  /** feedback (received at or after `since`) whose card is not in the audit trail */
  unknownCardFeedback(since?: Date): Promise<number>;
  /** delete everything recorded before `before` */
  purge(before: Date): Promise<PurgeResult>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
