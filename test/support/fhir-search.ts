// Reading what a test wrote on a (test) FHIR server: the resources of a search with a bearer token, and polling for
// what is written asynchronously (a notification's DetectedIssue).

/** The resources of a search (`Type?query` against the base URL) made with a bearer token; throws unless 200. */
export async function searchResources(baseUrl: string, token: string, query: string): Promise<any[]> {
  const res = await fetch(`${baseUrl}/${query}`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${query}: HTTP ${res.status} ${await res.text()}`);
  return (((await res.json()) as { entry?: { resource: unknown }[] }).entry ?? []).map((e) => e.resource);
}

/** Repeats a search until it finds at least n resources or the time is up; returns what it found last. */
export async function waitForResources(search: () => Promise<any[]>, n = 1, timeoutMs = 15000): Promise<any[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const list = await search();
    if (list.length >= n || Date.now() > until) return list;
    await new Promise((r) => setTimeout(r, 100));
  }
}
