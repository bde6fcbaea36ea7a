// The admin endpoints of the test FHIR server (app.ts), under /__admin/ (not FHIR, never behind the token check):
// fault injection, the request log, seeding, the notifications sent, a reset and the accepted tokens.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from '@medplum/core';
import type { ServerContext } from './context.js';
import { parseFault } from './faults.js';
import { HttpError, isRecord, outcomeOf, PLAIN_JSON, readBody, send } from './http.js';

export const ADMIN_PREFIX = '/__admin/';

export async function handleAdmin(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const { state, delivery } = ctx;
  const method = req.method ?? 'GET';
  const json = async (): Promise<unknown> => {
    const text = await readBody(req);
    if (!text.trim()) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, badRequest('Body is not valid JSON'));
    }
  };
  const ok = (body: unknown, status = 200): void => send(res, status, body, PLAIN_JSON);
  switch (`${method} ${path}`) {
    case 'GET /__admin/fault':
      return ok(state.fault);
    case 'POST /__admin/fault':
      state.fault = parseFault(await json());
      return ok(state.fault);
    case 'GET /__admin/requests':
      return ok(state.log);
    case 'DELETE /__admin/requests':
      state.log = [];
      return ok({ cleared: true });
    case 'POST /__admin/seed': {
      const n = await ctx.seed(await json());
      return ok({ seeded: n });
    }
    case 'GET /__admin/deliveries':
      if (!delivery) throw new HttpError(404, outcomeOf('error', 'not-found', 'notification delivery is off (deliverNotifications)'));
      await delivery.settled();
      return ok(delivery.deliveries());
    case 'POST /__admin/reset':
      ctx.repo.clear();
      delivery?.reset();
      await ctx.defineTopics();
      state.log = [];
      state.fault = { mode: 'none' };
      return ok({ reset: true });
    case 'PUT /__admin/tokens': {
      const b = await json();
      const t = isRecord(b) ? b['tokens'] : undefined;
      if (!Array.isArray(t) || !t.every((x) => typeof x === 'string')) throw new HttpError(400, badRequest('tokens must be an array of strings'));
      state.tokens = (t as string[]).filter((x) => x !== '');
      return ok({ tokens: state.tokens.length });
    }
    default:
      throw new HttpError(404, outcomeOf('error', 'not-found', `Unknown admin route: ${method} ${path}`));
  }
}
