// Persistence interface for recommendations, cards and feedback (SQLite by default; PostgreSQL joins later).
import type { FeedbackItem } from '../cds/protocol.js';
import type { Recommendation } from '../domain/recommendation.js';

export interface HookRecord {
  hookInstance: string;
  serviceId: string;
  hook: string;
  clientIss: string;
  patientId: string;
  outcome: 'cards' | 'no-card' | 'precondition-failed' | 'error';
  recommendations: Recommendation[];
  cards: { uuid: string; recommendationId: string; suggestionUuids: string[] }[];
  timings: { fhirMs: number; evaluateMs: number; totalMs: number };
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

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  recordHook(r: HookRecord): Promise<void>;
  recordFeedback(serviceId: string, clientIss: string, items: FeedbackItem[]): Promise<FeedbackResult>;
  getRecommendation(id: string): Promise<StoredRecommendation | undefined>;
  health(): Promise<{ ok: boolean; detail?: string }>;
  close(): Promise<void>;
}
