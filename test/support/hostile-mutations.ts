// Hostile mutations of a valid hook call, for the hostile-input suites (test/robustness/hostile-*.test.ts): every path
// in a call, hostile values (huge, deep, prototype keys, absurd numbers), fast-check arbitraries of deletions,
// replacements, duplicated and prototype keys, applying them to a body, the same call for the other hooks.
import fc from 'fast-check';
import { deepArray, deepObject, JsonPairs, RawJson, writeJson } from './robustness.js';


type Path = (string | number)[];

/** Every path in a JSON tree (objects and arrays), root excluded. */
export function pathsOf(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([...prefix, i]), pathsOf(x, [...prefix, i], out)));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k]), pathsOf(x, [...prefix, k], out);
  return out;
}

/** The same call for the other two hooks (order-sign: every draft; medication-prescribe: context.medications). */
export function asHook(b: Record<string, unknown>, hook: keyof typeof HOOKS): Record<string, unknown> {
  if (hook === 'order-select') return b;
  const ctx = { ...(b['context'] as Record<string, unknown>) };
  delete ctx['selections'];
  if (hook === 'patient-view') {
    // the draft becomes one of the patient's active orders, which the monitoring service re-checks
    const drafts = (ctx['draftOrders'] as { entry: { resource: Record<string, unknown> }[] }).entry.map((e) => ({ resource: { ...e.resource, status: 'active' } }));
    delete ctx['draftOrders'];
    const prefetch = b['prefetch'] as Record<string, unknown> | undefined;
    return { ...b, hook, context: ctx, ...(prefetch ? { prefetch: { ...prefetch, medicationRequests: { resourceType: 'Bundle', type: 'searchset', entry: drafts } } } : {}) };
  }
  if (hook === 'medication-prescribe') {
    ctx['medications'] = ctx['draftOrders'];
    delete ctx['draftOrders'];
  }
  return { ...b, hook, context: ctx };
}
export const HOOKS = {
  'order-select': '/cds-services/dosing-order-select',
  'order-sign': '/cds-services/dosing-order-sign',
  'medication-prescribe': '/cds-services/dosing-medication-prescribe',
  'patient-view': '/cds-services/dosing-monitor',
} as const;

/** Paths into a template call, and the paths to its objects (where keys can be duplicated or added). */
export function pathSets(template: Record<string, unknown>): { all: Path[]; objects: Path[] } {
  const all = pathsOf(template);
  const objects: Path[] = [[], ...all.filter((p) => {
    const v = p.reduce<any>((n, k) => n?.[k], template);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  })];
  return { all, objects };
}

export const HUGE = new RawJson(JSON.stringify('x'.repeat(300_000)));
export const HUGE_UNICODE = new RawJson(JSON.stringify('💊\u202e\u0000é'.repeat(30_000)));

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, '', 0, -0, -1, 1e308, -1e308, 5e-324, true, false, [], {}, 'NaN', 'Infinity', '-1e999', '80', '5 mg', 'null', '{}', '\u0000', '\u202e', '💊', 'Patient/pgx-1', 'MedicationRequest/mr-1', 'http://127.0.0.1:1/'),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom<unknown>(HUGE, HUGE_UNICODE),
  fc.constantFrom<unknown>(deepArray(10_000), deepObject(10_000), deepArray(100_000)),
  fc.constantFrom<unknown>(
    new JsonPairs([['__proto__', { polluted: true, resourceType: 'Patient', selections: ['MedicationRequest/mr-1'] }]]),
    new JsonPairs([['constructor', { prototype: { polluted: true } }]]),
    { resourceType: 'Bundle', entry: 'x' },
    { resourceType: 'Bundle', entry: [null, 1, 'x', { resource: null }] },
    { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception' }] },
    { resourceType: 'Observation' },
    { resourceType: 'MedicationRequest', id: 'mr-1', medicationCodeableConcept: { text: 'warfarin' } },
  ),
  fc.anything({ maxDepth: 3, maxKeys: 5, withNullPrototype: true, withBigInt: false }),
);

export type Mutation =
  | { kind: 'delete'; path: Path }
  | { kind: 'replace'; path: Path; value: unknown }
  | { kind: 'duplicateKey'; path: Path; key: string; value: unknown; first: boolean }
  | { kind: 'protoKey'; path: Path; key: '__proto__' | 'constructor' | 'prototype'; value: unknown };

export function mutationOf(template: Record<string, unknown>): fc.Arbitrary<Mutation> {
  const { all, objects } = pathSets(template);
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...all) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), path: fc.constantFrom(...all), value: hostileValue }) },
    {
      weight: 1,
      arbitrary: fc
        .record({ path: fc.constantFrom(...objects), value: hostileValue, first: fc.boolean(), pick: fc.nat() })
        .map(({ path, value, first, pick }) => {
          const keys = Object.keys(path.reduce<any>((n, k) => n?.[k], template) ?? {});
          return { kind: 'duplicateKey' as const, path, key: keys[pick % Math.max(1, keys.length)] ?? 'x', value, first };
        }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('protoKey' as const),
        path: fc.constantFrom(...objects),
        key: fc.constantFrom('__proto__' as const, 'constructor' as const, 'prototype' as const),
        value: hostileValue,
      }),
    },
  );
}

export function applyMutations(body: Record<string, unknown>, ms: Mutation[]): unknown {
  let root: unknown = body;
  for (const m of ms) {
    const parentPath = m.kind === 'delete' || m.kind === 'replace' ? m.path.slice(0, -1) : m.path;
    const parent = parentPath.reduce<any>((n, k) => (n !== null && typeof n === 'object' && !(n instanceof RawJson) && !(n instanceof JsonPairs) ? n[k] : undefined), root);
    if (parent === null || typeof parent !== 'object' || parent instanceof RawJson || parent instanceof JsonPairs) continue; // an earlier mutation removed it
    const last = m.path[m.path.length - 1]!;
    switch (m.kind) {
      case 'delete':
        if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
        else delete parent[last];
        break;
      case 'replace':
        parent[last] = m.value;
        break;
      case 'duplicateKey':
      case 'protoKey': {
        const pairs: [string, unknown][] = Array.isArray(parent) ? parent.map((x, i) => [String(i), x]) : Object.entries(parent);
        const extra: [string, unknown] = [m.key, m.value];
        const replaced = new JsonPairs(m.kind === 'duplicateKey' && m.first ? [extra, ...pairs] : [...pairs, extra]);
        if (m.path.length === 0) root = replaced;
        else {
          const gp = m.path.slice(0, -1).reduce<any>((n, k) => n[k], root);
          gp[last] = replaced;
        }
        break;
      }
    }
  }
  return root;
}

export const describeMutation = (m: Mutation): string => {
  const v = 'value' in m ? m.value : undefined;
  const shown = v instanceof RawJson ? `<raw ${v.text.length} chars>` : typeof v === 'string' && v.length > 80 ? `<string ${v.length}>` : v instanceof JsonPairs ? `<pairs ${v.pairs.map((p) => p[0]).join(',')}>` : writeJson(v).slice(0, 80);
  return `${m.kind} ${m.path.join('.')}${'key' in m ? ` key=${m.key}` : ''}${'value' in m ? ` = ${shown}` : ''}`;
};
