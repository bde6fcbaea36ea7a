// Fault injection of the test FHIR server (app.ts), set with POST /__admin/fault: a delay, an error status, a garbage
// body or a closed connection, optionally only for matching URLs or one method, and only the next N times.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from '@medplum/core';
import type { ServerState } from './context.js';
import { FHIR_JSON, HttpError, isRecord, outcomeOf, sendOutcome } from './http.js';
import type { RequestLogEntry } from './request-log.js';

export type FaultMode = 'none' | 'delay' | 'error500' | 'garbage' | 'close';

export interface FaultConfig {
  mode: FaultMode;
  /** For `delay`: milliseconds to wait before handling the request normally. Default 1000. */
  delayMs?: number;
  /** For `error500`: the HTTP status to send instead of 500 (e.g. 503, 429). */
  status?: number;
  /** Only requests whose URL (path + query) contains this substring are affected. */
  match?: string;
  /** Only requests with this method (e.g. POST: a refused write, while reads still work). */
  method?: string;
  /** Only the next N affected requests get the fault; afterwards the mode falls back to `none`. */
  times?: number;
}

/** The body of POST /__admin/fault as a FaultConfig; HttpError(400) when it is not one. */
export function parseFault(b: unknown): FaultConfig {
  const modes: FaultMode[] = ['none', 'delay', 'error500', 'garbage', 'close'];
  if (!isRecord(b) || !modes.includes(b['mode'] as FaultMode)) {
    throw new HttpError(400, badRequest(`mode must be one of ${modes.join(', ')}`));
  }
  const num = (k: string): number | undefined => {
    const v = b[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new HttpError(400, badRequest(`${k} must be a non-negative number`));
    return v;
  };
  const match = b['match'];
  if (match !== undefined && typeof match !== 'string') throw new HttpError(400, badRequest('match must be a string'));
  const method = b['method'];
  if (method !== undefined && typeof method !== 'string') throw new HttpError(400, badRequest('method must be a string'));
  const delayMs = num('delayMs');
  const status = num('status');
  const times = num('times');
  return { mode: b['mode'] as FaultMode, ...(delayMs !== undefined ? { delayMs } : {}), ...(status !== undefined ? { status } : {}), ...(match !== undefined ? { match } : {}), ...(method !== undefined ? { method: method.toUpperCase() } : {}), ...(times !== undefined ? { times } : {}) };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Applies the configured fault to a request (and counts down `times`). Returns true when the fault has answered or
 * dropped the request, false when it is to be handled normally (no fault, or after a delay).
 */
export async function applyFault(state: ServerState, req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry): Promise<boolean> {
  const f = state.fault;
  if (f.mode === 'none' || (f.match && !entry.url.includes(f.match)) || (f.method && entry.method !== f.method)) return false;
  if (f.times !== undefined) {
    const left = f.times - 1;
    state.fault = left > 0 ? { ...f, times: left } : { mode: 'none' };
  }
  entry.fault = f.mode;
  switch (f.mode) {
    case 'delay':
      await delay(f.delayMs ?? 1000);
      return res.destroyed;
    case 'error500':
      sendOutcome(res, f.status ?? 500, outcomeOf('error', 'exception', 'Injected fault: server error'));
      return true;
    case 'garbage': {
      const text = '<html><body>502 Bad Gateway</body></html>\n{"resourceType": "Bund';
      res.writeHead(200, { 'content-type': FHIR_JSON, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return true;
    }
    case 'close':
      req.socket.destroy();
      return true;
  }
}
