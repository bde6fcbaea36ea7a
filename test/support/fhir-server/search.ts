// Searches on the test FHIR server (app.ts): GET Type?…, GET /?_type=…, POST Type/_search and POST /_search, with the
// paging the memory repository does not do itself (a default _count, a maximum, _offset) and Bundles finished with
// fullUrls and self/next/previous/first/last links.
import type { ServerResponse } from 'node:http';
import type { Bundle, BundleLink } from '@medplum/fhirtypes';
import type { ServerContext } from './context.js';
import { parseNonNegInt, send, toSearchParams } from './http.js';

/** Adds fullUrl to every entry and self/next/previous links to a searchset. */
export function finishBundle(bundle: Bundle, base: string, path: string, query: Record<string, string | string[]>, count: number, offset: number): void {
  for (const e of bundle.entry ?? []) {
    if (e.resource?.id && !e.fullUrl) e.fullUrl = `${base}/${e.resource.resourceType}/${e.resource.id}`;
  }
  if (bundle.type !== 'searchset') return;
  const page = (o: number): string => {
    const q = { ...query, _count: String(count), _offset: String(o) };
    return `${base}${path === '' ? '/' : path}?${toSearchParams(q).toString()}`;
  };
  const links: BundleLink[] = [{ relation: 'self', url: page(offset) }];
  const summaryCount = query['_summary'] === 'count';
  const total = bundle.total;
  if (!summaryCount && count > 0) {
    const matches = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').length;
    const hasNext = total !== undefined ? offset + count < total : matches >= count;
    if (hasNext) links.push({ relation: 'next', url: page(offset + count) });
    if (offset > 0) links.push({ relation: 'previous', url: page(Math.max(0, offset - count)) });
    if (total !== undefined) {
      links.push({ relation: 'first', url: page(0) });
      links.push({ relation: 'last', url: page(Math.max(0, Math.floor((Math.max(total, 1) - 1) / count) * count)) });
    }
  }
  bundle.link = links;
}

/** GET `Type?…` (not an `$operation`) or the system-level GET `/?_type=…`. */
export function isSearchGet(method: string, segments: string[], url: URL): boolean {
  return method === 'GET' && ((segments.length === 1 && !segments[0]!.startsWith('$')) || (segments.length === 0 && url.searchParams.has('_type')));
}

export interface SearchRequest {
  /** The path without trailing slash ('/' for the base). */
  path: string;
  segments: string[];
  /** POST `Type/_search` or `/_search` (the form parameters are in `query`). */
  post: boolean;
  base: string;
  /** The search parameters as logged: URL query and POST form. */
  query: Record<string, string | string[]>;
}

/** Runs a search with our paging (the memory repository returns no links and no default page size) and sends it. */
export async function search(ctx: ServerContext, res: ServerResponse, s: SearchRequest): Promise<void> {
  const { path, segments, post, base } = s;
  const systemPost = post && segments.length === 1;
  const query = { ...s.query };
  delete query['_format'];
  delete query['_pretty'];
  const requested = parseNonNegInt(query['_count'], '_count');
  const count = Math.min(requested ?? ctx.defaultCount, ctx.maxCount);
  const offset = parseNonNegInt(query['_offset'], '_offset') ?? 0;
  // _summary=count: only the total (the repository would otherwise return entries when given a _count).
  const summaryCount = query['_summary'] === 'count';
  const routed = { ...query, _count: summaryCount ? '0' : String(count), _offset: String(offset) };
  const searchPath = systemPost || path === '/' ? '' : post ? `/${segments[0]}` : path;
  const { status, resource } =
    post && !systemPost
      ? await ctx.fhir('POST', `${segments[0]}/_search`, routed)
      : await ctx.fhir('GET', `${searchPath.replace(/^\//, '')}?${toSearchParams(routed).toString()}`, undefined);
  if (status >= 400 || resource.resourceType !== 'Bundle') return send(res, status, resource);
  finishBundle(resource as Bundle, base, searchPath, query, count, offset);
  return send(res, status, resource);
}
