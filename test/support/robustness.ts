// Shared helpers for the robustness suites (test/robustness/): a recording HTTP server (stub FHIR server or a
// hostile "other host"), hook bodies with full prefetch, a JSON writer that can emit duplicate and `__proto__` keys,
// and the invariant every hook response must satisfy.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { WARFARIN_DAILY_BOUNDS } from '../../src/dosing/warfarin/evaluator.js';
import { draftWarfarin, fullPrefetch, syntheticResources } from '../fixtures/synthetic-patients.js';
export { fullPrefetch };

// ---------------------------------------------------------------------------------------------------------------
// Recording HTTP server

export interface RecordingServer {
  url: string;
  /** "METHOD url" of every request received */
  requests: string[];
  close(): Promise<void>;
}

export async function startRecordingServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<RecordingServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const searchset = (resources: FhirResource[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });

/**
 * A minimal, fast FHIR stub over the synthetic cohort: `GET /Patient/{id}` and `GET /{Type}?patient={id}&...`
 * (filtered by type and subject only). Enough for the service's own queries when a prefetch key is dropped.
 */
export interface StubFhirServer extends RecordingServer {
  /** Answer some requests differently (status + raw body text); return undefined for the normal answer. */
  override: ((u: URL) => { status: number; body: string } | undefined) | undefined;
}

export async function startStubFhirServer(resources: FhirResource[] = syntheticResources()): Promise<StubFhirServer> {
  const stub: { override: StubFhirServer['override'] } = { override: undefined };
  const server = await startRecordingServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://stub');
    const o = stub.override?.(u);
    if (o) return void res.writeHead(o.status, { 'content-type': 'application/fhir+json' }).end(o.body);
    const parts = u.pathname.split('/').filter(Boolean);
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(body));
    if (parts.length === 2) {
      const r = resources.find((x) => x.resourceType === parts[0] && x.id === decodeURIComponent(parts[1]!));
      return r ? send(200, r) : send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    }
    if (parts.length === 1) {
      const pid = u.searchParams.get('patient') ?? '';
      return send(200, searchset(resources.filter((x) => x.resourceType === parts[0] && (x as { subject?: { reference?: string } }).subject?.reference === `Patient/${pid}`)));
    }
    return send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
  });
  return Object.assign(server, {
    get override() {
      return stub.override;
    },
    set override(f: StubFhirServer['override']) {
      stub.override = f;
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Hook bodies

export const FHIR_TOKEN = 'robustness-access-token';


/** A valid order-select call for a warfarin draft, with full prefetch unless `prefetch` is given (undefined = none). */
export function orderSelectBody(
  fhirServer: string,
  opts: { patientId?: string; draft?: MedicationRequest; prefetch?: Record<string, unknown> | null } = {},
): Record<string, unknown> {
  const patientId = opts.patientId ?? 'pgx-1';
  const draft = opts.draft ?? draftWarfarin('mr-1', patientId, 5);
  const prefetch = opts.prefetch === undefined ? fullPrefetch(patientId) : opts.prefetch;
  return {
    hook: 'order-select',
    hookInstance: randomUUID(),
    fhirServer,
    fhirAuthorization: { access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: patientId },
    context: {
      userId: 'Practitioner/example',
      patientId,
      selections: [`MedicationRequest/${draft.id}`],
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] },
    },
    ...(prefetch !== null ? { prefetch } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// JSON text with what JSON.stringify cannot write: duplicate keys, "__proto__" keys, raw fragments

/** Raw JSON text, inserted verbatim. */
export class RawJson {
  constructor(readonly text: string) {}
  /** short form in fast-check counterexamples */
  [fc.toStringMethod](): string {
    return this.text.length > 60 ? `RawJson(${this.text.slice(0, 24)}… ${this.text.length} chars)` : `RawJson(${this.text})`;
  }
}
/** An object written as these key/value pairs, in order, duplicates and "__proto__" included. */
export class JsonPairs {
  constructor(readonly pairs: [string, unknown][]) {}
  [fc.toStringMethod](): string {
    return `JsonPairs(${this.pairs.map(([k]) => JSON.stringify(k)).join(',')})`;
  }
}

/** Serialize iteratively-enough for our bodies (depth of the *value* tree is small; deep parts are RawJson). */
export function writeJson(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (v instanceof JsonPairs) return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : writeJson(x))).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x)}`)
      .join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
  return JSON.stringify(v) ?? 'null';
}

export const deepArray = (depth: number): RawJson => new RawJson('['.repeat(depth) + ']'.repeat(depth));
export const deepObject = (depth: number): RawJson => new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

// ---------------------------------------------------------------------------------------------------------------
// The invariant

export interface HookResponse {
  status: number;
  json: any;
  text: string;
  ms: number;
}

/** Daily mg of the first dosage instruction of a MedicationRequest (dose × frequency / period, daily-based timing). */
function dailyMgOf(di: any): { value: unknown; perDay: number | undefined; unit: unknown }[] {
  const out: { value: unknown; perDay: number | undefined; unit: unknown }[] = [];
  const rep = di?.timing?.repeat ?? {};
  const perUnit: Record<string, number> = { h: 24, d: 1, wk: 1 / 7 };
  const freq = typeof rep.frequency === 'number' ? rep.frequency : 1;
  const period = typeof rep.period === 'number' ? rep.period : 1;
  const f = perUnit[String(rep.periodUnit ?? 'd')];
  for (const dr of Array.isArray(di?.doseAndRate) ? di.doseAndRate : []) {
    const q = dr?.doseQuantity;
    if (q === undefined) continue;
    const v = q?.value;
    out.push({ value: v, unit: q?.code ?? q?.unit, perDay: typeof v === 'number' && f !== undefined && period > 0 ? (v * freq * f) / period : undefined });
  }
  return out;
}

/**
 * Every hook response must be: a 4xx JSON body with an `error` string, or a 200 that passes checkCdsResponse and whose
 * proposed warfarin doses (every create/update MedicationRequest in every suggestion) are within 0.5–15 mg/day.
 * Returns the violations (empty = fine) so property tests can report them with the input.
 */
export function invariantViolations(r: HookResponse, maxMs: number, opts: { tolerateEmptyValuesEchoedFromDraft?: boolean } = {}): string[] {
  const errs: string[] = [];
  if (r.ms > maxMs) errs.push(`answered in ${Math.round(r.ms)} ms (limit ${maxMs} ms)`);
  if (r.status >= 400 && r.status < 500) {
    if (typeof r.json !== 'object' || r.json === null || typeof r.json.error !== 'string' || r.json.error.length === 0) errs.push(`${r.status} without a JSON {"error": string} body: ${r.text.slice(0, 200)}`);
    if (/at .*\.(ts|js):\d+/.test(r.text)) errs.push('stack trace in the body');
    return errs;
  }
  if (r.status !== 200) {
    errs.push(`status ${r.status}: ${r.text.slice(0, 300)}`);
    return errs;
  }
  const conformance = checkCdsResponse(r.json).filter((e) => !(opts.tolerateEmptyValuesEchoedFromDraft && /\.actions\[\d+\]\.resource\.[^:]*: empty value$/.test(e)));
  if (conformance.length > 0) errs.push(`non-conformant 200: ${conformance.slice(0, 5).join('; ')}`);
  for (const card of Array.isArray(r.json?.cards) ? r.json.cards : []) {
    for (const s of card?.suggestions ?? []) {
      for (const a of s?.actions ?? []) {
        if ((a?.type !== 'update' && a?.type !== 'create') || a?.resource?.resourceType !== 'MedicationRequest') continue;
        const dis = Array.isArray(a.resource.dosageInstruction) ? a.resource.dosageInstruction : [];
        // warfarin: 0.5–15 mg/day; other drugs (CPIC guidance cards): any dose written must at least be a positive number
        const warfarin = /warfarin/i.test(JSON.stringify(a.resource.medicationCodeableConcept ?? a.resource.medicationReference ?? ''));
        if (warfarin && a.type === 'update' && dis.length === 0) errs.push('warfarin update action without a dose');
        dis.forEach((di: unknown, i: number) => {
          for (const d of dailyMgOf(di)) {
            if (typeof d.value !== 'number' || !Number.isFinite(d.value) || d.value <= 0) errs.push(`dosageInstruction[${i}] dose ${String(d.value)} is not a positive number`);
            else if (!warfarin) continue;
            else if (d.unit !== 'mg') errs.push(`dosageInstruction[${i}] dose unit ${String(d.unit)}`);
            else if (d.perDay === undefined || d.perDay < WARFARIN_DAILY_BOUNDS.min - 1e-9 || d.perDay > WARFARIN_DAILY_BOUNDS.max + 1e-9)
              errs.push(`dosageInstruction[${i}] proposes ${d.value} mg (${d.perDay ?? '?'} mg/day), outside ${WARFARIN_DAILY_BOUNDS.min}–${WARFARIN_DAILY_BOUNDS.max} mg/day`);
          }
        });
      }
    }
  }
  return errs;
}

/** The dose cards of a response (cards with an update suggestion), as { summary, daily mg } */
export function proposedDoses(json: any): number[] {
  const out: number[] = [];
  for (const card of Array.isArray(json?.cards) ? json.cards : [])
    for (const s of card?.suggestions ?? [])
      for (const a of s?.actions ?? []) {
        const v = a?.resource?.dosageInstruction?.[0]?.doseAndRate?.[0]?.doseQuantity?.value;
        if (typeof v === 'number') out.push(v);
      }
  return out;
}
