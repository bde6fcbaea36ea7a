// Persistence interface for the audit trail (hook calls, recommendations, cards), feedback, analytics and retention.
import type { FeedbackItem } from '../cds/protocol.js';
import type { AppliedStatus, IntendedOrder, OrderSnapshot, StoredIntendedOrder } from '../domain/applied.js';
import type { Recommendation } from '../domain/recommendation.js';
import type { Tenant } from '../domain/tenant.js';

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
  /** the client that received it (absent only for rows from before migration 5 whose call is not known) */
  clientIss?: string;
  /** the normalized FHIR server of its call; absent = none known: such rows are shown to no SMART app */
  fhirServer?: string;
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
  /** the card's FHIR server, when the feedback came from the client that received the card */
  fhirServer?: string;
  /** whether the card was known (and shown to this client) when the feedback arrived */
  knownCard: boolean;
  receivedAt: string;
}

/** Everything recorded about one card: the call, the recommendation behind it and what the prescriber did. */
export interface CardAudit {
  card: CardRecord & { serviceId: string; hookInstance: string; drug: string; createdAt: string; clientIss?: string; fhirServer?: string };
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
  /**
   * Feedback from `clientIss`. A card counts as known only when it was shown to this client: feedback on another
   * client's card (or one not in the audit trail) is stored apart (known_card false, keyed by its own client) and
   * answered as an unknown card; it never changes what the card's own client sees, the report or suppression.
   */
  recordFeedback(serviceId: string, clientIss: string, items: FeedbackItem[]): Promise<FeedbackResult>;
  getRecommendation(id: string): Promise<StoredRecommendation | undefined>;
  /**
   * Newest first, of this patient at this (normalized) FHIR server; the patient id goes through the same
   * pseudonymization as when recording. `fhirServer` undefined matches only rows without a server (tools and tests:
   * the SMART API always passes the server its token proved, so such rows are never shown to it).
   */
  recommendationsForPatient(patientId: string, fhirServer: string | undefined, limit?: number): Promise<StoredRecommendation[]>;
  cardAudit(cardUuid: string): Promise<CardAudit | undefined>;
  /**
   * Which of `fingerprints` belong to cards shown to this tenant (same client and same FHIR server, or both without
   * one) for this patient whose latest feedback from that client is "overridden" (the patient id goes through the same
   * pseudonymization as when recording). Used by monitoring to not repeat an overridden card.
   */
  overriddenFingerprints(tenant: Tenant, patientId: string, fingerprints: string[]): Promise<Set<string>>;
  /** cards created at or after `since`, each with its latest feedback */
  reportRows(since?: Date): Promise<ReportRow[]>;
  /** feedback (received at or after `since`) whose card is not in the audit trail */
  unknownCardFeedback(since?: Date): Promise<number>;
  /** delete everything recorded before `before` */
  purge(before: Date): Promise<PurgeResult>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
  /** the durable queue of subscription notifications (src/notify/): absent on stores without one */
  notifications?(): NotificationQueue | undefined;
}

/** One subscription notification as received (src/notify/notification.ts), to be queued. */
export interface NotificationBatchInput {
  /** the Subscription's reference as sent */
  subscription: string;
  type: 'event-notification' | 'heartbeat' | 'handshake';
  eventsSinceStart?: number;
  events: { eventNumber: number; timestamp?: string; focus?: string; resource?: Record<string, unknown> }[];
  receivedAt: Date;
}

export interface EnqueueResult {
  /** events queued now */
  queued: number;
  /** events already queued or processed (same subscription and event number): not queued again */
  duplicates: number;
  /** events were missed (events-since-subscription-start or the event numbers skip): a catch-up query was queued */
  catchUp: boolean;
}

/** A queued unit of work: one event (its focus, or none for an `empty` payload), or a catch-up query since a time. */
export interface QueuedNotification {
  id: string;
  subscription: string;
  kind: 'event' | 'catch-up';
  eventNumber?: number;
  /** `Type/id` of the event's focus */
  focus?: string;
  /** the focus resource when the notification carried it (full-resource); removed once processed */
  resource?: Record<string, unknown>;
  /** ISO time: what changed after it is read (catch-up, or an event without a focus) */
  since?: string;
  /** how many times it was claimed, this claim included */
  attempts: number;
}

export interface NotificationCounts {
  pending: number;
  working: number;
  parked: number;
  done: number;
}

/**
 * Durable queue of notifications (SQLite and PostgreSQL): each (subscription, event number) is queued once; a claim is
 * a lease, so an item claimed by a process that died is claimed again when its lease runs out.
 */
export interface NotificationQueue {
  enqueue(b: NotificationBatchInput): Promise<EnqueueResult>;
  /** the oldest due item (pending and due, or working with its lease run out), leased for `leaseMs` */
  claim(leaseMs: number, now?: Date): Promise<QueuedNotification | undefined>;
  /** processed: its resource is dropped, its (subscription, event number) kept so a repeat is not processed again */
  complete(id: string): Promise<void>;
  /** failed: pending again from `at` (`error` is a fixed phrase, never PHI) */
  retry(id: string, error: string, at: Date): Promise<void>;
  /** failed too often: parked (kept, counted in /readyz and the metrics, not retried) */
  park(id: string, error: string): Promise<void>;
  counts(): Promise<NotificationCounts>;
}
