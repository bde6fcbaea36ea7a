// Heart valves, mitral stenosis and the anticoagulation indications on the problem list (knowledge/anticoagulation.json):
// used for the target INR of a warfarin dose and for the DOAC valve rules. Pure.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConditionFact } from '../../domain/facts.js';
import type { ConditionCodeSet } from '../../knowledge/renal.js';
import { findCondition } from '../conditions.js';

export interface TargetInrRow {
  id: string;
  when: string;
  range: [number, number];
  goal: number;
  source: string;
}

export interface AnticoagulationKnowledge {
  provenance: { source: string; version: string; curated: string; note: string };
  conditions: Record<'mechanicalValve' | 'bioprostheticValve' | 'mitralStenosis' | 'atrialFibrillation' | 'venousThromboembolism', ConditionCodeSet>;
  targetInr: TargetInrRow[];
  equationTargetNote: string;
}

let cached: AnticoagulationKnowledge | undefined;
export function anticoagulationKnowledge(file = path.resolve(process.cwd(), 'knowledge/anticoagulation.json')): AnticoagulationKnowledge {
  if (!cached) cached = JSON.parse(readFileSync(file, 'utf8')) as AnticoagulationKnowledge;
  return cached;
}

/** What the problem list says about the heart valves. */
export interface ValveFinding {
  /** mechanical, or a prosthesis whose type is not stated (treated as mechanical where safety depends on it) */
  kind: 'mechanical' | 'prosthetic-unstated' | 'bioprosthetic';
  position?: 'mitral' | 'aortic';
  condition: ConditionFact;
}

function textOf(c: ConditionFact): string {
  return [c.text, ...c.codes.map((x) => x.display ?? '')].join(' | ').toLowerCase().slice(0, 500);
}

/**
 * The valve prosthesis on file, mechanical first (the finding that restricts most): "mechanical" in the text, or
 * ICD-10-CM Z95.2 (prosthetic, not xenogenic) → mechanical; a bioprosthesis only when nothing mechanical is on file.
 */
export function valveFinding(conditions: ConditionFact[], k = anticoagulationKnowledge()): ValveFinding | undefined {
  const position = (c: ConditionFact): ValveFinding['position'] => {
    const t = textOf(c);
    return /\bmitral\b/.test(t) ? 'mitral' : /\baortic\b/.test(t) ? 'aortic' : undefined;
  };
  const bio = conditions.filter((c) => findCondition([c], k.conditions.bioprostheticValve));
  const mech = conditions.filter((c) => !bio.includes(c) && findCondition([c], k.conditions.mechanicalValve));
  const explicit = mech.find((c) => /mechanical/.test(textOf(c)) || c.codes.some((x) => /icd-?10/i.test(x.system ?? '') && /^Z95\.?2/i.test(x.code ?? '')));
  const m = explicit ?? mech[0];
  if (m) {
    const p = position(m);
    return { kind: explicit ? 'mechanical' : 'prosthetic-unstated', ...(p ? { position: p } : {}), condition: m };
  }
  const b = bio[0];
  if (b) {
    const p = position(b);
    return { kind: 'bioprosthetic', ...(p ? { position: p } : {}), condition: b };
  }
  return undefined;
}

export function mitralStenosis(conditions: ConditionFact[], k = anticoagulationKnowledge()): ConditionFact | undefined {
  return findCondition(conditions, k.conditions.mitralStenosis);
}

export interface TargetInr {
  row: TargetInrRow;
  /** the Conditions the target was read from */
  because: ConditionFact[];
}

/** The target INR the chart's indications call for (the highest-risk indication wins). */
export function targetInr(conditions: ConditionFact[], k = anticoagulationKnowledge()): TargetInr {
  const row = (id: string) => k.targetInr.find((r) => r.id === id)!;
  const af = findCondition(conditions, k.conditions.atrialFibrillation);
  const valve = valveFinding(conditions, k);
  if (valve && valve.kind !== 'bioprosthetic') {
    if (valve.kind === 'mechanical' && valve.position === 'mitral') return { row: row('mechanical-mitral'), because: [valve.condition] };
    if (valve.kind === 'mechanical' && valve.position === 'aortic') return af ? { row: row('mechanical-aortic-risk'), because: [valve.condition, af] } : { row: row('mechanical-aortic'), because: [valve.condition] };
    return { row: row('mechanical-unknown'), because: [valve.condition] };
  }
  if (valve) return { row: row('bioprosthetic'), because: [valve.condition] };
  if (af) return { row: row('atrial-fibrillation'), because: [af] };
  const vte = findCondition(conditions, k.conditions.venousThromboembolism);
  if (vte) return { row: row('venous-thromboembolism'), because: [vte] };
  return { row: row('not-on-file'), because: [] };
}
