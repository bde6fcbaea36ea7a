// The hot-path shortcuts of the sixth performance round (docs/performance.md) give exactly what the code they replaced
// gave: escapeMarkdown's "nothing to escape" test, findControl's walk without path strings, toOrder without spreads
// and seenOrdersOf reusing the orders already read. The reference functions below are the replaced code, verbatim.
import fc from 'fast-check';
import { seenOrdersOf } from '../../src/cds/appliedOrders.js';
import { ordersInScope, toOrder } from '../../src/cds/orders.js';
import { parseHookRequest } from '../../src/cds/protocol.js';
import { escapeMarkdown } from '../../src/cards/markdown.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { findControl, hasControl } from '../../src/domain/text.js';
import { DRAFT_SHAPES } from '../fixtures/draft-shapes.js';

const INLINE_SPECIAL = /[\\`*_[\]<>~|]|&(?=#?[0-9A-Za-z]+;)/g;
const BLOCK_START = /^( ?)([#+=-])/;
const ORDERED_START = /^( ?\d{1,9})([.)])(?=\s|$)/;
function escapeMarkdownBefore(v: unknown): string {
  const s = (typeof v === 'string' ? v : String(v)).replace(/\s+/g, ' ');
  const inline = s.replace(INLINE_SPECIAL, (c) => `\\${c}`);
  return inline.replace(BLOCK_START, '$1\\$2').replace(ORDERED_START, '$1\\$2');
}

function findControlBefore(v: unknown, at = '', depth = 0): string | undefined {
  if (typeof v === 'string') return hasControl(v) ? at || '(body)' : undefined;
  if (v === null || typeof v !== 'object' || depth > 64) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = findControlBefore(v[i], `${at}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const here = at ? `${at}.${hasControl(k) ? '(key)' : k}` : hasControl(k) ? '(key)' : k;
    if (hasControl(k)) return here;
    const p = findControlBefore(x, here, depth + 1);
    if (p) return p;
  }
  return undefined;
}

// the characters that matter to either function, and some that do not
const interesting = fc.constantFrom(...'\\`*_[]<>~|&#;+=-.)0123456789 aZ\t\n\r\u00a0\u2028\u0000\u0007\u001f\u007f'.split(''));
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: interesting, maxLength: 12 }), fc.string({ unit: fc.oneof(interesting, fc.constantFrom('x', 'é', '😀', '\u00ad')), maxLength: 20 }));

describe('escapeMarkdown: the shortcut for values with nothing to escape', () => {
  test.each([
    // values as the cards pass them: doses, units, names, ids, allele text, guideline fragments
    ['5', '5'],
    ['2.5', '2.5'],
    ['17.5 mg/week', '17.5 mg/week'],
    ['MedicationRequest/bench-w', 'MedicationRequest/bench-w'],
    ['CYP2C9*1/*3', 'CYP2C9\\*1/\\*3'],
    ['c.1905+1G>A (*2A)', 'c.1905+1G\\>A (\\*2A)'],
    ['1. take', '1\\. take'],
    [' 12) x', ' 12\\) x'],
    ['- item', '\\- item'],
    ['# heading', '\\# heading'],
    ['a  b\tc\nd', 'a b c d'],
    ['AT&amp;T', 'AT\\&amp;T'],
    ['AT&T', 'AT&T'],
    [' yet', ' yet'],
    [7.5, '7.5'],
  ])('%j → %j (as before)', (v, out) => {
    expect(escapeMarkdown(v)).toBe(out);
    expect(escapeMarkdownBefore(v)).toBe(out);
  });

  test('equals the four-replace form on any text', () => {
    fc.assert(fc.property(text, (s) => escapeMarkdown(s) === escapeMarkdownBefore(s)), { numRuns: 20000 });
    fc.assert(fc.property(fc.double(), (n) => escapeMarkdown(n) === escapeMarkdownBefore(n)));
  });
});

describe('findControl: one walk without path strings, the path only when a control character is there', () => {
  test('equals the path-building walk on any JSON value (keys and strings with and without control characters)', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.constant(null), fc.boolean(), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(text, tie('value'), { maxKeys: 4 }),
    })).value;
    fc.assert(fc.property(json, (v) => findControl(v) === findControlBefore(v)), { numRuns: 5000 });
  });

  test('the depth bound is the same: a control character below 64 levels of nesting is not looked for, at 64 it is', () => {
    const nest = (levels: number, leaf: unknown) => {
      let v = leaf;
      for (let i = 0; i < levels; i++) v = { a: v };
      return v;
    };
    for (const levels of [63, 64, 65, 66]) {
      const v = nest(levels, 'x\u0000');
      expect(findControl(v)).toBe(findControlBefore(v));
      const k = nest(levels, { ['k\u0001']: 1 });
      expect(findControl(k)).toBe(findControlBefore(k));
    }
    expect(findControl(nest(65, 'x\u0000'))).toBe(Array(65).fill('a').join('.'));
    expect(findControl(nest(66, 'x\u0000'))).toBeUndefined();
  });

  test('a key JSON.parse makes own ("__proto__") is walked as before', () => {
    const v = JSON.parse('{"__proto__": {"x": "a\\u0000"}, "b": 1}') as unknown;
    expect(findControl(v)).toBe('__proto__.x');
    expect(findControlBefore(v)).toBe('__proto__.x');
  });
});

describe('toOrder and seenOrdersOf', () => {
  const dict = DrugDictionary.load();
  function toOrderBefore(resource: (typeof DRAFT_SHAPES)[number]['resource']) {
    const o = toOrder(resource, dict);
    return {
      ...(o.ref ? { ref: o.ref } : {}),
      resource: o.resource,
      drugs: o.drugs,
      ...(o.currentDose ? { currentDose: o.currentDose } : {}),
      ...(o.doseProblem ? { doseProblem: o.doseProblem } : {}),
      ...(o.product ? { product: o.product } : {}),
    };
  }

  test.each(DRAFT_SHAPES.map((s) => [s.name, s.resource] as const))('%s: the same fields, in the same order', (_name, resource) => {
    const o = toOrder(resource, dict);
    expect(Object.keys(o)).toEqual(Object.keys(toOrderBefore(resource)));
    expect(JSON.stringify(o)).toBe(JSON.stringify(toOrderBefore(resource)));
  });

  test('the drafts seen are the same whether the orders in scope are handed over or read again', () => {
    const entry = DRAFT_SHAPES.map((s) => ({ resource: s.resource }));
    for (const hook of ['order-select', 'order-sign'] as const) {
      const req = parseHookRequest(
        {
          hook,
          hookInstance: '00000000-0000-4000-8000-000000000001',
          context: { userId: 'Practitioner/1', patientId: 'p1', ...(hook === 'order-select' ? { selections: ['MedicationRequest/s1', 'MedicationRequest/e2', 'MedicationRequest/t4'] } : {}), draftOrders: { resourceType: 'Bundle', type: 'collection', entry } },
        },
        hook,
      );
      const known = ordersInScope(req, dict);
      expect(known.length).toBeGreaterThan(0);
      const seen = seenOrdersOf(req, dict, known);
      expect(seen).toEqual(seenOrdersOf(req, dict));
      expect(seen).toHaveLength(DRAFT_SHAPES.length);
    }
  });
});
