// The FHIR API of the test FHIR server (app.ts): /metadata and the SMART configuration, the bearer-token check, body
// parsing and validation of what will be stored, searches (search.ts), and the other interactions through Medplum's
// router — transaction/batch Bundles at the base, conditional create (If-None-Exist), ETag/Last-Modified/Location
// headers — with a notification to subscribers after a create or update (delivery.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, isOperationOutcome } from '@medplum/core';
import type { HttpMethod } from '@medplum/fhir-router';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { checkBearer } from './auth.js';
import { buildCapabilityStatement, smartConfiguration } from './capability.js';
import type { ServerContext } from './context.js';
import { FHIR_JSON, HttpError, isRecord, isSearchPostPath, outcomeOf, PLAIN_JSON, queryRecord, readBody, send } from './http.js';
import type { RequestLogEntry } from './request-log.js';
import { finishBundle, isSearchGet, search } from './search.js';
import { validateOrThrow } from './validation.js';

/** The request body: a form (POST _search) as a query record, otherwise JSON; undefined for GET and DELETE. */
async function parseBody(req: IncomingMessage, method: string, isSearchPost: boolean): Promise<unknown> {
  if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH') return undefined;
  const text = await readBody(req);
  const ctype = (req.headers['content-type'] ?? '').toLowerCase();
  if (isSearchPost) {
    if (text.trim() && !ctype.includes('application/x-www-form-urlencoded')) {
      throw new HttpError(415, outcomeOf('error', 'not-supported', 'POST _search requires application/x-www-form-urlencoded'));
    }
    return queryRecord(new URLSearchParams(text));
  }
  if (!text.trim()) throw new HttpError(400, badRequest('Missing request body'));
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, badRequest('Request body is not valid JSON'));
  }
}

/** Validates what will be stored: the resource of a create or update, or every resource of a transaction/batch. */
function validateWrite(method: string, path: string, segments: string[], isSearchPost: boolean, body: unknown): void {
  if ((method === 'POST' && segments.length === 1 && !isSearchPost) || (method === 'PUT' && segments.length === 2)) {
    const r = validateOrThrow(body, `${method} ${path}`);
    if (r.resourceType !== segments[0]) {
      throw new HttpError(400, badRequest(`resourceType ${r.resourceType} does not match URL type ${segments[0]}`));
    }
    if (method === 'PUT' && r.id !== segments[1]) throw new HttpError(400, badRequest('Resource id must match the URL id'));
  }
  if (method === 'POST' && segments.length === 0) {
    const b = body as Bundle;
    if (!isRecord(b) || b.resourceType !== 'Bundle' || (b.type !== 'transaction' && b.type !== 'batch')) {
      throw new HttpError(400, badRequest('POST to the base URL takes a transaction or batch Bundle'));
    }
    (b.entry ?? []).forEach((e: BundleEntry, i) => {
      if (e.resource) validateOrThrow(e.resource, `Bundle.entry[${i}].resource`);
    });
  }
}

export async function handleFhir(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry): Promise<void> {
  const { opts, delivery } = ctx;
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const base = ctx.baseUrl(req);

  if (method === 'GET' && path === '/metadata') return send(res, 200, buildCapabilityStatement(opts.smart, opts.subscriptionTopics));
  if (method === 'GET' && path === '/.well-known/smart-configuration') {
    if (!opts.smart) throw new HttpError(404, outcomeOf('error', 'not-found', 'SMART is not configured on this server'));
    return send(res, 200, smartConfiguration(opts.smart), PLAIN_JSON);
  }

  await checkBearer(req, path, entry, ctx.state.tokens, ctx.jwks);

  if (!['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].includes(method)) {
    throw new HttpError(405, outcomeOf('error', 'not-supported', `Method ${method} not supported`));
  }

  const segments = path.split('/').filter(Boolean);
  const isSearchPost = method === 'POST' && isSearchPostPath(segments);
  const body = await parseBody(req, method, isSearchPost);
  validateWrite(method, path, segments, isSearchPost, body);

  if (isSearchGet(method, segments, url) || isSearchPost) return search(ctx, res, { path, segments, post: isSearchPost, base, query: entry.query });

  const routeUrl = path.replace(/^\//, '') + (url.search || '');
  // conditional create (FHIR R4 http.html#ccreate): the If-None-Exist header reaches the router
  const ifNoneExist = req.headers['if-none-exist'];
  const { status, resource } = await ctx.fhir(method as HttpMethod, path === '/' ? '' : routeUrl, body, typeof ifNoneExist === 'string' && method === 'POST' ? { 'if-none-exist': ifNoneExist } : undefined);
  const headers: Record<string, string> = {};
  if (!isOperationOutcome(resource) && resource.id) {
    const vid = resource.meta?.versionId;
    if (vid) headers['etag'] = `W/"${vid}"`;
    if (resource.meta?.lastUpdated) headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    if (status === 201) headers['location'] = `${base}/${resource.resourceType}/${resource.id}${vid ? `/_history/${vid}` : ''}`;
  }
  if (resource.resourceType === 'Bundle') finishBundle(resource as Bundle, base, path, entry.query, 0, 0);
  send(res, status, resource, FHIR_JSON, headers);
  // a create (201; a conditional create that found one is 200: nothing written) or an update notifies subscribers
  const wrote = (method === 'POST' && segments.length === 1 && status === 201) || (method === 'PUT' && segments.length === 2 && (status === 200 || status === 201));
  if (delivery && wrote && !isOperationOutcome(resource)) delivery.written(resource, method === 'POST' || status === 201 ? 'create' : 'update', base);
}
