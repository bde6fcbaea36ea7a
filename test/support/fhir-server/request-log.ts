// The request log of the test FHIR server (app.ts), read at GET /__admin/requests: one entry a request, with the
// search parameters (URL query and POST _search form), whether a bearer token came and which configured one matched
// (never the token itself), the fault applied and the response status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerState } from './context.js';
import type { FaultMode } from './faults.js';
import { isSearchPostPath, queryRecord, readBody } from './http.js';

const MAX_LOG = 5000;

export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  /** Path and query exactly as received. */
  url: string;
  path: string;
  /** Search parameters: the URL query, merged with the form body of POST `Type/_search`. */
  query: Record<string, string | string[]>;
  /** An `Authorization: Bearer ...` header was present (the token itself is never logged). */
  bearer: boolean;
  /** Index of the configured token that matched, or null (no match / no tokens configured). */
  tokenIndex: number | null;
  /** Fault applied to this request, if any. */
  fault?: FaultMode;
  /** Response status (0 if the connection was closed without a response, undefined while in flight). */
  status?: number;
}

/** The token of an `Authorization: Bearer ...` header, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  return m ? m[1]!.trim() : undefined;
}

/** Logs a request (the oldest entries go past MAX_LOG); its status is filled in when the response ends. */
export async function logRequest(state: ServerState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<RequestLogEntry> {
  const token = bearerToken(req);
  const idx = token !== undefined ? state.tokens.indexOf(token) : -1;
  const entry: RequestLogEntry = {
    seq: ++state.seq,
    time: new Date().toISOString(),
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    path: url.pathname,
    query: queryRecord(url.searchParams),
    bearer: token !== undefined,
    tokenIndex: idx >= 0 ? idx : null,
  };
  state.log.push(entry);
  if (state.log.length > MAX_LOG) state.log.splice(0, state.log.length - MAX_LOG);
  res.on('finish', () => (entry.status = res.statusCode));
  res.on('close', () => {
    if (entry.status === undefined) entry.status = res.writableFinished ? res.statusCode : 0;
  });

  // POST Type/_search: log the form parameters with the URL query.
  if (req.method === 'POST' && isSearchPostPath(url.pathname.split('/').filter(Boolean))) {
    const text = await readBody(req);
    const form = queryRecord(new URLSearchParams(text));
    for (const [k, v] of Object.entries(form)) {
      const prev = entry.query[k];
      entry.query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(v) ? v : [v])];
    }
  }
  return entry;
}
