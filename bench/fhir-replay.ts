// A FHIR stand-in for the bench's FHIR paths: a separate process that answers each GET with the upstream FHIR server's
// own answer to that exact request, fetched the first time it is asked and then served from memory (base URLs in the
// answer rewritten to this server's, so paging links come back here). The local test FHIR server (Medplum's router,
// one process) serialises searches at ~100/s, so against it the bench measures that server; against this stand-in it
// measures what the service's own FHIR path costs (token, parallel queries, HTTP client, answer cap, parsing, paging).
// It also takes the notification path's write-back, a FHIR conditional create (POST <type> with If-None-Exist): 201
// and the resource (id and meta added) the first time a given If-None-Exist is seen, 200 and the same resource after,
// kept in memory and listed at /__writes; upstream never sees a write. Bearer tokens are checked: the one given on the
// command line, or one the upstream accepted (checked once per token, on the first request that carries it: the
// service's backend access tokens). Usage: node --import tsx bench/fhir-replay.ts <upstream> <token>
import http from 'node:http';

const upstream = process.argv[2]!.replace(/\/+$/, '');
const token = process.argv[3]!;
interface Answer { status: number; type: string; body: Buffer }
interface Write { type: string; ifNoneExist: string; patient: string | undefined; at: number; status: 201 | 200; resource: Record<string, unknown> }
const answers = new Map<string, Answer>();
const written = new Map<string, Write>(); // by type + If-None-Exist
const writes: Write[] = []; // every conditional create answered, in order (201s and 200s)
const accepted = new Set([`Bearer ${token}`]);
let hits = 0;
let misses = 0;
let authChecks = 0;
let self = '';
let nextId = 0;

async function fetchUpstream(url: string, accept: string, auth: string): Promise<Answer> {
  const r = await fetch(`${upstream}${url}`, { headers: { authorization: auth, accept } });
  const text = (await r.text()).split(upstream).join(self);
  return { status: r.status, type: r.headers.get('content-type') ?? 'application/fhir+json', body: Buffer.from(text) };
}
/** A bearer token not seen before: accepted if the upstream answers a search with it. */
async function authorized(auth: string | undefined): Promise<boolean> {
  if (!auth?.startsWith('Bearer ')) return false;
  if (accepted.has(auth)) return true;
  authChecks++;
  const r = await fetch(`${upstream}/Patient?_count=1`, { headers: { authorization: auth, accept: 'application/fhir+json' } });
  await r.arrayBuffer();
  if (r.status !== 200) return false;
  accepted.add(auth);
  return true;
}
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
const fhirJson = (res: http.ServerResponse, status: number, body: unknown) => {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/fhir+json', 'content-length': b.length }).end(b);
};
const outcome = (code: string, text: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] });

/** POST /<type> with If-None-Exist: the conditional create, answered from this process's own record. */
async function conditionalCreate(req: http.IncomingMessage, res: http.ServerResponse, type: string): Promise<void> {
  const ifNoneExist = req.headers['if-none-exist'];
  if (typeof ifNoneExist !== 'string' || !ifNoneExist) return fhirJson(res, 412, outcome('not-supported', 'this stand-in takes conditional creates only (If-None-Exist)'));
  let resource: Record<string, unknown>;
  try {
    resource = JSON.parse(await readBody(req)) as Record<string, unknown>;
  } catch {
    return fhirJson(res, 400, outcome('invalid', 'body is not JSON'));
  }
  if (resource['resourceType'] !== type) return fhirJson(res, 400, outcome('invalid', `resourceType is not ${type}`));
  const key = `${type} ${ifNoneExist}`;
  const before = written.get(key);
  if (before) {
    writes.push({ ...before, at: Date.now(), status: 200 });
    return fhirJson(res, 200, before.resource);
  }
  const at = Date.now();
  const stored = { ...resource, id: `replay-${++nextId}`, meta: { versionId: '1', lastUpdated: new Date(at).toISOString() } };
  const subject = (resource['patient'] ?? resource['subject']) as { reference?: string } | undefined;
  const w: Write = { type, ifNoneExist, patient: subject?.reference, at, status: 201, resource: stored };
  written.set(key, w);
  writes.push(w);
  res.setHeader('location', `${self}/${type}/${stored.id}/_history/1`);
  fhirJson(res, 201, stored);
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits, misses, answers: answers.size, authChecks, writes: writes.length, created: written.size }));
    return;
  }
  if (url === '/__writes') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(writes.map(({ resource, ...w }) => ({ ...w, id: resource['id'] }))));
    return;
  }
  const auth = req.headers.authorization;
  if (!(await authorized(auth))) return fhirJson(res, 401, outcome('login', 'bearer token refused'));
  const postType = /^\/([A-Z][A-Za-z]+)\/?$/.exec(url)?.[1];
  if (req.method === 'POST' && postType) return conditionalCreate(req, res, postType);
  if (req.method !== 'GET') {
    res.writeHead(405).end();
    return;
  }
  const send = (a: Answer) => res.writeHead(a.status, { 'content-type': a.type, 'content-length': a.body.length }).end(a.body);
  const known = answers.get(url);
  if (known) {
    hits++;
    send(known);
    return;
  }
  misses++;
  const a = await fetchUpstream(url, String(req.headers.accept ?? 'application/fhir+json'), auth!);
  if (a.status === 200) answers.set(url, a);
  send(a);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(502).end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  self = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
