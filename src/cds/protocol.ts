// CDS Hooks 2.0 wire types and their runtime validators (requests parsed with zod; responses checked by rules).
import { z } from 'zod';
import type { Bundle, FhirResource } from 'fhir/r4';

export const SUPPORTED_HOOKS = ['order-select', 'order-sign', 'medication-prescribe', 'patient-view'] as const;
export type SupportedHook = (typeof SUPPORTED_HOOKS)[number];

const Str = z.string().min(1).max(4096);
/** FHIR R4 id: it is written into FHIR queries (Patient/{id}, patient={id}) and into references on cards */
const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id ([A-Za-z0-9-.], 1–64 characters)');
const ResourceLike = z.looseObject({ resourceType: z.string().min(1).max(64) });
const BundleLike = z.looseObject({
  resourceType: z.literal('Bundle'),
  entry: z.array(z.looseObject({ resource: ResourceLike.optional() })).max(1000).optional(),
});

export const FhirAuthorizationSchema = z.looseObject({
  access_token: z.string().min(1).max(16384),
  token_type: z.string().regex(/^bearer$/i, 'token_type must be "Bearer"'),
  expires_in: z.number().nonnegative(),
  scope: z.string().max(8192),
  subject: z.string().max(1024),
  patient: z.string().max(1024).optional(),
});

const BaseContext = z.looseObject({
  userId: Str.optional(),
  patientId: FhirId,
  encounterId: FhirId.optional(),
});

export const ContextSchemas = {
  'order-select': BaseContext.extend({
    selections: z.array(Str).max(1000),
    draftOrders: BundleLike,
  }),
  'order-sign': BaseContext.extend({ draftOrders: BundleLike }),
  'medication-prescribe': BaseContext.extend({ medications: BundleLike }),
  // the chart is opened: the service re-checks the patient's active medication orders (monitoring)
  'patient-view': BaseContext,
} as const;

export const HookRequestSchema = z.looseObject({
  hook: Str,
  // CDS Hooks 2.0: "a universally unique identifier (UUID) for this particular hook call"; any version, hex 8-4-4-4-12
  hookInstance: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID'),
  fhirServer: z.string().url().max(2048).optional(),
  fhirAuthorization: FhirAuthorizationSchema.optional(),
  context: z.looseObject({}),
  prefetch: z.record(z.string().max(256), z.unknown()).optional(),
});

export type FhirAuthorization = z.infer<typeof FhirAuthorizationSchema>;

export interface HookContext {
  userId?: string;
  patientId: string;
  encounterId?: string;
  selections?: string[];
  draftOrders?: Bundle;
  medications?: Bundle;
  [k: string]: unknown;
}

export interface HookRequest {
  hook: SupportedHook;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  context: HookContext;
  /** value per key: a resource, a Bundle, an OperationOutcome, or null; a key may be absent */
  prefetch?: Record<string, unknown>;
}

export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  constructor(
    message: string,
    readonly issues: string[],
  ) {
    super(message);
  }
}

function describe(err: z.ZodError, prefix: string): string[] {
  return err.issues.slice(0, 10).map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.')}: ${i.message}`);
}

/** Validate a hook call body for a service bound to `hook`. Unknown fields and extensions are ignored. */
export function parseHookRequest(body: unknown, hook: SupportedHook): HookRequest {
  const top = HookRequestSchema.safeParse(body);
  if (!top.success) throw new RequestValidationError('invalid CDS Hooks request', describe(top.error, ''));
  if (top.data.hook !== hook) {
    throw new RequestValidationError('invalid CDS Hooks request', [`hook: this service handles "${hook}", got "${top.data.hook}"`]);
  }
  if (top.data.fhirAuthorization && !top.data.fhirServer) {
    throw new RequestValidationError('invalid CDS Hooks request', ['fhirServer: required when fhirAuthorization is present']);
  }
  const ctx = ContextSchemas[hook].safeParse(top.data.context);
  if (!ctx.success) throw new RequestValidationError('invalid CDS Hooks request', describe(ctx.error, 'context'));
  return {
    hook,
    hookInstance: top.data.hookInstance,
    ...(top.data.fhirServer ? { fhirServer: top.data.fhirServer } : {}),
    ...(top.data.fhirAuthorization ? { fhirAuthorization: top.data.fhirAuthorization } : {}),
    context: ctx.data as unknown as HookContext,
    ...(top.data.prefetch ? { prefetch: top.data.prefetch } : {}),
  };
}

// ---- Feedback ----
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const CodingSchema = z.looseObject({ system: z.string().max(1024).optional(), code: z.string().max(256).optional(), display: z.string().max(1024).optional() });

export const FeedbackItemSchema = z
  .looseObject({
    card: Str,
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z.array(z.looseObject({ id: Str })).max(100).optional(),
    overrideReason: z
      .looseObject({ reason: CodingSchema.optional(), userComment: z.string().max(4096).optional() })
      .optional(),
    // CDS Hooks 2.0 §Feedback: "ISO8601 representation of the date and time in UTC"; RFC 3339 date-time (Date.parse
    // alone would take "2026-12-01" or "Tue Dec 01 2026", which say no time)
    outcomeTimestamp: z.string().max(64).refine((s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 timestamp'),
  })
  .refine((f) => f.outcome !== 'accepted' || (f.acceptedSuggestions?.length ?? 0) > 0, {
    message: 'acceptedSuggestions is required when outcome is "accepted"',
    path: ['acceptedSuggestions'],
  });

export const FeedbackRequestSchema = z.looseObject({ feedback: z.array(FeedbackItemSchema).min(1).max(100) });
export type FeedbackItem = z.infer<typeof FeedbackItemSchema>;

export function parseFeedback(body: unknown): FeedbackItem[] {
  const r = FeedbackRequestSchema.safeParse(body);
  if (!r.success) throw new RequestValidationError('invalid feedback', describe(r.error, ''));
  return r.data.feedback;
}

// ---- Response ----
export interface Coding {
  system?: string;
  code: string;
  display?: string;
}
export type ActionType = 'create' | 'update' | 'delete';
export interface Action {
  type: ActionType;
  description: string;
  resource?: FhirResource;
  resourceId?: string;
}
export interface Suggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: Action[];
}
export interface Link {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
  autolaunchable?: boolean;
}
export interface Card {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; icon?: string; topic?: Coding };
  suggestions?: Suggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: Coding[];
  links?: Link[];
}
export interface CdsResponse {
  cards: Card[];
  systemActions?: Action[];
}

export interface ServiceDefinition {
  hook: SupportedHook;
  id: string;
  title?: string;
  description: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Find values the CDS Hooks JSON rule forbids: null, "", [] and {} anywhere (the top-level cards array excepted). */
export function findEmptyValues(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  if (typeof value === 'string') return value === '' ? [path] : [];
  if (Array.isArray(value)) {
    if (value.length === 0 && path !== '$.cards') return [path];
    return value.flatMap((v, i) => findEmptyValues(v, `${path}[${i}]`));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return [path];
    return entries.flatMap(([k, v]) => (v === undefined ? [] : findEmptyValues(v, `${path}.${k}`)));
  }
  return [];
}

/** Check a service response against the CDS Hooks 2.0 card rules; returns the violations (empty = conformant). */
export function checkCdsResponse(resp: unknown): string[] {
  const errs: string[] = [];
  if (typeof resp !== 'object' || resp === null || !Array.isArray((resp as CdsResponse).cards)) return ['$.cards: missing'];
  errs.push(...findEmptyValues(resp).map((p) => `${p}: empty value`));
  const seen = new Set<string>();
  (resp as CdsResponse).cards.forEach((c, i) => {
    const p = `$.cards[${i}]`;
    if (!c.uuid || !UUID.test(c.uuid)) errs.push(`${p}.uuid: missing or not a UUID`);
    else if (seen.has(c.uuid)) errs.push(`${p}.uuid: duplicate`);
    else seen.add(c.uuid);
    if (typeof c.summary !== 'string' || c.summary.length === 0 || c.summary.length >= 140) errs.push(`${p}.summary: must be 1–139 characters`);
    if (!['info', 'warning', 'critical'].includes(c.indicator)) errs.push(`${p}.indicator: invalid`);
    if (!c.source || typeof c.source.label !== 'string' || !c.source.label) errs.push(`${p}.source.label: required`);
    if (c.suggestions?.length) {
      if (c.selectionBehavior !== 'at-most-one' && c.selectionBehavior !== 'any') errs.push(`${p}.selectionBehavior: required with suggestions`);
      c.suggestions.forEach((s, j) => {
        const sp = `${p}.suggestions[${j}]`;
        if (!s.label) errs.push(`${sp}.label: required`);
        if (!s.uuid || !UUID.test(s.uuid)) errs.push(`${sp}.uuid: missing or not a UUID`);
        else if (seen.has(s.uuid)) errs.push(`${sp}.uuid: duplicate`);
        else seen.add(s.uuid);
        (s.actions ?? []).forEach((a, k) => {
          const ap = `${sp}.actions[${k}]`;
          if (!['create', 'update', 'delete'].includes(a.type)) errs.push(`${ap}.type: invalid`);
          if (!a.description) errs.push(`${ap}.description: required`);
          if ((a.type === 'create' || a.type === 'update') && (!a.resource || typeof a.resource.resourceType !== 'string'))
            errs.push(`${ap}.resource: required for ${a.type}`);
          if (a.type === 'update' && a.resource && !('id' in a.resource && a.resource.id)) errs.push(`${ap}.resource.id: update needs the resource id`);
          if (a.type === 'delete' && !(typeof a.resourceId === 'string' && /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(a.resourceId)))
            errs.push(`${ap}.resourceId: required for delete as Type/id`);
        });
      });
    }
    (c.overrideReasons ?? []).forEach((o, j) => {
      if (!o.code || !o.display) errs.push(`${p}.overrideReasons[${j}]: code and display required`);
    });
    (c.links ?? []).forEach((l, j) => {
      const lp = `${p}.links[${j}]`;
      if (!l.label || !l.url) errs.push(`${lp}: label and url required`);
      if (l.type !== 'absolute' && l.type !== 'smart') errs.push(`${lp}.type: invalid`);
      if (l.appContext !== undefined && l.type !== 'smart') errs.push(`${lp}.appContext: only for smart links`);
    });
  });
  return errs;
}
