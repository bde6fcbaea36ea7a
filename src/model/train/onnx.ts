// Writes a WarfarinModelSpec as an ONNX model (opset 17 + ai.onnx.ml 3) with onnx-proto.
// Graph: features[N,F] (float32, NaN = missing)
//   linear  = MatMul(Where(IsNaN(x), fill, x), W) + b
//   trees   = ai.onnx.ml.TreeEnsembleRegressor(x)            (NaN follows nodes_missing_value_tracks_true)
//   sqrt_dose = linear + trees;  dose_mg_week = Relu(sqrt_dose)²
//   lo/hi offsets = piecewise linear in sqrt_dose, one curve per genotype stratum chosen by the 0/1 "unknown"
//                   columns (MatMul, Sub, Mul, Concat, Min, Relu, Add)
//   interval_low = Relu(sqrt_dose − lo)², interval_high = Relu(sqrt_dose + hi)²
// The spec itself is stored in metadata_props["pgx.warfarin.spec"] (read back by the serving code for explanations).
import onnxProto from 'onnx-proto';
import { GENOTYPE_STRATA } from '../../domain/genotypeStratum.js';
import { CYP2C9_UNKNOWN_COLUMN, VKORC1_UNKNOWN_COLUMN } from '../features.js';
import type { WarfarinModelSpec } from '../spec.js';

const { onnx } = onnxProto;
type IAttr = InstanceType<typeof onnx.AttributeProto> | Record<string, unknown>;

export const SPEC_METADATA_KEY = 'pgx.warfarin.spec';

const enc = new TextEncoder();
const A = onnx.AttributeProto.AttributeType;

function attrInt(name: string, i: number): IAttr {
  return { name, type: A.INT, i };
}
function attrInts(name: string, ints: number[]): IAttr {
  return { name, type: A.INTS, ints };
}
function attrFloats(name: string, floats: number[]): IAttr {
  return { name, type: A.FLOATS, floats };
}
function attrString(name: string, s: string): IAttr {
  return { name, type: A.STRING, s: enc.encode(s) };
}
function attrStrings(name: string, ss: string[]): IAttr {
  return { name, type: A.STRINGS, strings: ss.map((s) => enc.encode(s)) };
}
function tensor(name: string, dims: number[], data: number[]): Record<string, unknown> {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: data };
}
function node(op: string, inputs: string[], outputs: string[], attribute: IAttr[] = [], domain = ''): Record<string, unknown> {
  return { opType: op, input: inputs, output: outputs, name: `${op}_${outputs[0]}`, attribute, domain };
}
function valueInfo(name: string, cols: number): Record<string, unknown> {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: cols }] } } },
  };
}

export function specToOnnx(spec: WarfarinModelSpec, extraMetadata: Record<string, string> = {}): Uint8Array {
  const F = spec.featureNames.length;
  // --- tree ensemble attributes
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featIds: number[] = [];
  const values: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missTrue: number[] = [];
  const tTree: number[] = [];
  const tNode: number[] = [];
  const tIds: number[] = [];
  const tW: number[] = [];
  spec.trees.forEach((t, ti) => {
    for (let k = 0; k < t.feature.length; k++) {
      const f = t.feature[k]!;
      treeIds.push(ti);
      nodeIds.push(k);
      if (f < 0) {
        featIds.push(0);
        values.push(0);
        modes.push('LEAF');
        trueIds.push(0);
        falseIds.push(0);
        missTrue.push(0);
        tTree.push(ti);
        tNode.push(k);
        tIds.push(0);
        tW.push(t.value[k]!);
      } else {
        featIds.push(f);
        values.push(t.threshold[k]!);
        modes.push('BRANCH_LEQ');
        trueIds.push(t.left[k]!);
        falseIds.push(t.right[k]!);
        missTrue.push(t.missingLeft[k]!);
      }
    }
  });
  // --- interval: piecewise-linear offsets, one curve per genotype stratum. Each stratum's segments are laid side by
  // side (T segments in all); the stratum weights W [N,4] (from the 0/1 "unknown" columns) pick its segments (W·E)
  // and its base offsets (W·lo0).
  const starts: number[] = [];
  const widths: number[] = [];
  const slopesLo: number[] = [];
  const slopesHi: number[] = [];
  const owner: number[] = [];
  const lo0: number[] = [];
  const hi0: number[] = [];
  GENOTYPE_STRATA.forEach((st, si) => {
    let { knots, low, high } = spec.interval.strata[st];
    if (knots.length < 2) {
      knots = [knots[0] ?? 0, (knots[0] ?? 0) + 1];
      low = [low[0] ?? 0, low[0] ?? 0];
      high = [high[0] ?? 0, high[0] ?? 0];
    }
    for (let k = 0; k + 1 < knots.length; k++) {
      const w = knots[k + 1]! - knots[k]!;
      starts.push(knots[k]!);
      widths.push(w);
      slopesLo.push((low[k + 1]! - low[k]!) / w);
      slopesHi.push((high[k + 1]! - high[k]!) / w);
      owner.push(si);
    }
    lo0.push(low[0]!);
    hi0.push(high[0]!);
  });
  const T = starts.length;
  const S = GENOTYPE_STRATA.length;
  const expand: number[] = [];
  for (let si = 0; si < S; si++) for (let t = 0; t < T; t++) expand.push(owner[t] === si ? 1 : 0);
  const select = (col: number): number[] => Array.from({ length: F }, (_, j) => (j === col ? 1 : 0));

  const nodes = [
    node('IsNaN', ['features'], ['is_nan']),
    node('Where', ['is_nan', 'fill', 'features'], ['imputed']),
    node('MatMul', ['imputed', 'lin_w'], ['lin_mm']),
    node('Add', ['lin_mm', 'lin_b'], ['linear']),
    node(
      'TreeEnsembleRegressor',
      ['features'],
      ['trees'],
      [
        attrInt('n_targets', 1),
        attrInts('nodes_treeids', treeIds),
        attrInts('nodes_nodeids', nodeIds),
        attrInts('nodes_featureids', featIds),
        attrFloats('nodes_values', values),
        attrStrings('nodes_modes', modes),
        attrInts('nodes_truenodeids', trueIds),
        attrInts('nodes_falsenodeids', falseIds),
        attrInts('nodes_missing_value_tracks_true', missTrue),
        attrInts('target_treeids', tTree),
        attrInts('target_nodeids', tNode),
        attrInts('target_ids', tIds),
        attrFloats('target_weights', tW),
        attrString('aggregate_function', 'SUM'),
        attrString('post_transform', 'NONE'),
        attrFloats('base_values', [0]),
      ],
      'ai.onnx.ml',
    ),
    node('Add', ['linear', 'trees'], ['sqrt_dose']),
    node('Relu', ['sqrt_dose'], ['sqrt_pos']),
    node('Mul', ['sqrt_pos', 'sqrt_pos'], ['dose_mg_week']),
    node('MatMul', ['imputed', 'sel_vk_unknown'], ['vk_unknown']),
    node('MatMul', ['imputed', 'sel_cyp_unknown'], ['cyp_unknown']),
    node('Sub', ['one', 'vk_unknown'], ['vk_known']),
    node('Sub', ['one', 'cyp_unknown'], ['cyp_known']),
    node('Mul', ['vk_known', 'cyp_known'], ['w_both']),
    node('Mul', ['vk_known', 'cyp_unknown'], ['w_vkorc1_only']),
    node('Mul', ['vk_unknown', 'cyp_known'], ['w_cyp2c9_only']),
    node('Mul', ['vk_unknown', 'cyp_unknown'], ['w_none']),
    node('Concat', ['w_both', 'w_vkorc1_only', 'w_cyp2c9_only', 'w_none'], ['stratum_w'], [attrInt('axis', 1)]),
    node('MatMul', ['stratum_w', 'stratum_expand'], ['seg_mask']),
    node('Sub', ['sqrt_dose', 'knot_starts'], ['knot_diff']),
    node('Min', ['knot_diff', 'knot_widths'], ['knot_min']),
    node('Relu', ['knot_min'], ['knot_seg_all']),
    node('Mul', ['knot_seg_all', 'seg_mask'], ['knot_seg']),
    node('MatMul', ['knot_seg', 'slopes_lo'], ['lo_mm']),
    node('MatMul', ['stratum_w', 'lo_0'], ['lo_base']),
    node('Add', ['lo_mm', 'lo_base'], ['lo_off']),
    node('MatMul', ['knot_seg', 'slopes_hi'], ['hi_mm']),
    node('MatMul', ['stratum_w', 'hi_0'], ['hi_base']),
    node('Add', ['hi_mm', 'hi_base'], ['hi_off']),
    node('Sub', ['sqrt_dose', 'lo_off'], ['low_s']),
    node('Relu', ['low_s'], ['low_pos']),
    node('Mul', ['low_pos', 'low_pos'], ['interval_low']),
    node('Add', ['sqrt_dose', 'hi_off'], ['high_s']),
    node('Relu', ['high_s'], ['high_pos']),
    node('Mul', ['high_pos', 'high_pos'], ['interval_high']),
  ];
  const initializer = [
    tensor('fill', [F], spec.linear.fill),
    tensor('lin_w', [F, 1], spec.linear.weights),
    tensor('lin_b', [1], [spec.linear.intercept]),
    tensor('sel_vk_unknown', [F, 1], select(VKORC1_UNKNOWN_COLUMN)),
    tensor('sel_cyp_unknown', [F, 1], select(CYP2C9_UNKNOWN_COLUMN)),
    tensor('one', [1], [1]),
    tensor('stratum_expand', [S, T], expand),
    tensor('knot_starts', [T], starts),
    tensor('knot_widths', [T], widths),
    tensor('slopes_lo', [T, 1], slopesLo),
    tensor('slopes_hi', [T, 1], slopesHi),
    tensor('lo_0', [S, 1], lo0),
    tensor('hi_0', [S, 1], hi0),
  ];
  const graph = {
    name: 'warfarin_dose',
    node: nodes,
    initializer,
    input: [valueInfo('features', F)],
    output: ['sqrt_dose', 'dose_mg_week', 'interval_low', 'interval_high'].map((n) => valueInfo(n, 1)),
  };
  const metadata = { [SPEC_METADATA_KEY]: JSON.stringify(spec), ...extraMetadata };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'pgx-dosing-cds train-warfarin',
    producerVersion: spec.version,
    modelVersion: 1,
    docString: 'Warfarin weekly dose (mg/week) with an 80% prediction interval; trained on IWPC data (CC BY-SA 4.0).',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    graph: graph as never,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}
