// A FHIR stand-in for the bench's FHIR-fetch path: a separate process that answers each GET with the upstream FHIR
// server's own answer to that exact request, fetched the first time it is asked and then served from memory (base URLs
// in the answer rewritten to this server's, so paging links come back here). The local test FHIR server (Medplum's
// router, one process) serialises searches at ~100/s, so against it the bench measures that server; against this
// stand-in it measures what the service's own FHIR path costs (token, parallel queries, HTTP client, answer cap,
// parsing, paging). The bearer token is still checked. Usage: node --import tsx bench/fhir-replay.ts <upstream> <token>
import http from 'node:http';

const upstream = process.argv[2]!.replace(/\/+$/, '');
const token = process.argv[3]!;
interface Answer { status: number; type: string; body: Buffer }
const answers = new Map<string, Answer>();
let hits = 0;
let misses = 0;
let self = '';

async function fetchUpstream(url: string, accept: string): Promise<Answer> {
  const r = await fetch(`${upstream}${url}`, { headers: { authorization: `Bearer ${token}`, accept } });
  const text = (await r.text()).split(upstream).join(self);
  return { status: r.status, type: r.headers.get('content-type') ?? 'application/fhir+json', body: Buffer.from(text) };
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits, misses, answers: answers.size }));
    return;
  }
  if (req.method !== 'GET') {
    res.writeHead(405).end();
    return;
  }
  if (req.headers.authorization !== `Bearer ${token}`) {
    res.writeHead(401, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]}');
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
  fetchUpstream(url, String(req.headers.accept ?? 'application/fhir+json')).then(
    (a) => {
      if (a.status === 200) answers.set(url, a);
      send(a);
    },
    () => res.writeHead(502).end(),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  self = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
