// HTTP plumbing of the test FHIR server (app.ts): errors carried as OperationOutcomes, request bodies read once,
// query records, and JSON responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
export const PLAIN_JSON = 'application/json; charset=utf-8';
const MAX_BODY = 20 * 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    message?: string,
  ) {
    super(message ?? outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`);
  }
}

export function outcomeOf(severity: 'error' | 'fatal', code: string, text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code: code as 'processing', details: { text } }] };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type BodyRequest = IncomingMessage & { cachedBody?: string };

/** Reads the whole body once; later calls return the cached text. */
export async function readBody(req: BodyRequest): Promise<string> {
  if (req.cachedBody !== undefined) return req.cachedBody;
  req.cachedBody = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, outcomeOf('error', 'too-costly', 'Request body too large')));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
  return req.cachedBody;
}

export function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function toSearchParams(q: Record<string, string | string[]>): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p;
}

export function parseNonNegInt(v: string | string[] | undefined, name: string): number | undefined {
  const s = Array.isArray(v) ? v.at(-1) : v;
  if (s === undefined || s === '') return undefined;
  if (!/^\d+$/.test(s)) throw new HttpError(400, badRequest(`Invalid ${name}: ${s}`, name));
  return Number(s);
}

/** `Type/_search` or the system-level `/_search`. */
export function isSearchPostPath(segments: string[]): boolean {
  return (segments.length === 2 && segments[1] === '_search') || (segments.length === 1 && segments[0] === '_search');
}

export function send(res: ServerResponse, status: number, body: unknown, contentType = FHIR_JSON, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendOutcome(res: ServerResponse, status: number, outcome: OperationOutcome, headers: Record<string, string> = {}): void {
  send(res, status, outcome, FHIR_JSON, headers);
}
