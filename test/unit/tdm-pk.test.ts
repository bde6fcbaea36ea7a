// Vancomycin PK: reference CHECK VALUES (../shared/reference/dosing-formulas.md, "Vancomycin — AUC-guided Bayesian
// dosing") and analytic properties of the two-compartment infusion model.
import { loadPkModels } from '../../src/dosing/tdm/load.js';
import {
  etaNames,
  findModel,
  individualParams,
  modelCovariates,
  omegaSquared,
  typicalParams,
  validatePkModels,
  type PkParams,
} from '../../src/dosing/tdm/pkModel.js';
import {
  aucBetween,
  concentration,
  oneCompartmentInfusionConc,
  oneCompartmentSteadyStateAuc24,
  regimenInfusions,
  steadyStateAuc24,
  steadyStateConcentration,
} from '../../src/dosing/tdm/twoCompartment.js';

const models = loadPkModels();
const goti = findModel(models, 'goti2018');
const man70 = { ageYears: 40, sex: 'male' as const, weightKg: 70, scrMgDl: 0.9, onHemodialysis: false };

describe('pk-models.json', () => {
  test('validates; Goti 2018 and Thomson 2009 present with citations', () => {
    expect(models.models.map((m) => m.id)).toEqual(['goti2018', 'thomson2009']);
    expect(goti.citation).toMatch(/Ther Drug Monit 2018;40:212-221/);
    expect(etaNames(goti)).toEqual(['CL', 'Vc', 'Vp']);
    expect(omegaSquared(goti)[0]).toBeCloseTo(Math.log(1 + 0.398 ** 2), 12);
  });
  test('rejects malformed data', () => {
    expect(() => validatePkModels({ provenance: {}, models: [] })).toThrow(/no models/);
    const bad = structuredClone(models);
    bad.models[0]!.parameters.CL.typical = -1;
    expect(() => validatePkModels(bad)).toThrow(/CL: typical/);
  });
});

describe('Goti 2018 typical parameters (check values)', () => {
  test('70 kg, 40 y man, Scr 0.9 → CG CrCl 108.0 → CL 4.137 L/h', () => {
    const c = modelCovariates(goti, man70);
    expect(Number(c.crcl.toFixed(1))).toBe(108.0);
    const p = typicalParams(goti, c);
    expect(Number(p.CL.toFixed(3))).toBe(4.137);
    expect(p.Vc).toBeCloseTo(58.4, 10);
    expect(p.Vp).toBe(38.4);
    expect(p.Q).toBe(6.5);
  });
  test('CrCl capped at 150 mL/min', () => {
    const c = modelCovariates(goti, { ...man70, ageYears: 20, scrMgDl: 0.5 });
    expect(c.crclUncapped).toBeGreaterThan(150);
    expect(c.crcl).toBe(150);
    expect(typicalParams(goti, c).CL).toBeCloseTo(4.5 * (150 / 120) ** 0.8, 10);
  });
  test('haemodialysis: CL × 0.7, Vc × 0.5', () => {
    const base = typicalParams(goti, modelCovariates(goti, man70));
    const hd = typicalParams(goti, modelCovariates(goti, { ...man70, onHemodialysis: true }));
    expect(hd.CL / base.CL).toBeCloseTo(0.7, 12);
    expect(hd.Vc / base.Vc).toBeCloseTo(0.5, 12);
    expect(hd.Vp).toBe(base.Vp);
  });
  test('Thomson 2009: CL = 2.99 × (1 + 0.0154 × (CrCl − 66)); V1 = 0.675 L/kg', () => {
    const th = findModel(models, 'thomson2009');
    const p = typicalParams(th, modelCovariates(th, man70));
    expect(p.CL).toBeCloseTo(2.99 * (1 + 0.0154 * (108.0247 - 66)), 3);
    expect(p.Vc).toBeCloseTo(0.675 * 70, 10);
    expect(p.Vp).toBeCloseTo(0.732 * 70, 10);
  });
  test('individual parameters: TV × exp(η)', () => {
    const tv = typicalParams(goti, modelCovariates(goti, man70));
    const p = individualParams(goti, tv, [0.1, -0.2, 0.3]);
    expect(p.CL).toBeCloseTo(tv.CL * Math.exp(0.1), 12);
    expect(p.Vc).toBeCloseTo(tv.Vc * Math.exp(-0.2), 12);
    expect(p.Vp).toBeCloseTo(tv.Vp * Math.exp(0.3), 12);
    expect(p.Q).toBe(tv.Q);
  });
});

describe('two-compartment infusion model', () => {
  const p: PkParams = { CL: 4.137, Vc: 58.4, Vp: 38.4, Q: 6.5 };
  const reg = { doseMg: 1000, intervalH: 12, infusionH: 1 };

  test('one-compartment check: ke 0.058 h⁻¹, V 50 L, 750 mg q12h → AUC24 ≈ 517', () => {
    expect(Math.round(oneCompartmentSteadyStateAuc24(0.058, 50, 750, 12))).toBe(517);
    // the two-compartment model with a negligible peripheral compartment degenerates to it
    const deg: PkParams = { CL: 0.058 * 50, Vc: 50, Vp: 1, Q: 1e-9 };
    const r = { doseMg: 750, intervalH: 12, infusionH: 1 };
    expect(steadyStateAuc24(deg, r)).toBeCloseTo(oneCompartmentSteadyStateAuc24(0.058, 50, 750, 12), 6);
    const doses = regimenInfusions(r, 40);
    const a = aucBetween(deg, doses, 38 * 12, 40 * 12);
    expect(a).toBeCloseTo(517.24, 0);
    for (const t of [0.5, 1, 5, 11.9]) {
      expect(concentration(deg, [doses[0]!], t)).toBeCloseTo(oneCompartmentInfusionConc(0.058, 50, doses[0]!, t), 6);
    }
  });

  test('steady state: numerical integral over τ of the analytic curve = dose / CL (within 0.5%)', () => {
    for (const r of [reg, { doseMg: 1500, intervalH: 24, infusionH: 1.5 }, { doseMg: 750, intervalH: 8, infusionH: 1 }]) {
      const n = 2400;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const t0 = (r.intervalH * i) / n;
        const t1 = (r.intervalH * (i + 1)) / n;
        s += ((steadyStateConcentration(p, r, t0) + steadyStateConcentration(p, r, t1 === r.intervalH ? r.intervalH - 1e-12 : t1)) / 2) * (t1 - t0);
      }
      expect(Math.abs(s / (r.doseMg / p.CL) - 1)).toBeLessThan(0.005);
      expect(steadyStateAuc24(p, r)).toBeCloseTo((r.doseMg * 24) / r.intervalH / p.CL, 10);
    }
  });

  test('analytic AUC of a single infusion to ∞ = dose / CL; matches the trapezoid', () => {
    const d = [{ startH: 0, endH: 1, amountMg: 1000 }];
    expect(aucBetween(p, d, 0, 2000)).toBeCloseTo(1000 / p.CL, 6);
    let s = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) s += ((concentration(p, d, (i * 24) / n) + concentration(p, d, ((i + 1) * 24) / n)) / 2) * (24 / n);
    expect(aucBetween(p, d, 0, 24) / s).toBeCloseTo(1, 4);
  });

  test('superposition: concentrations after many doses approach the analytic steady state', () => {
    const doses = regimenInfusions(reg, 40);
    for (const t of [0.5, 1, 3, 6, 11.99]) {
      const c = concentration(p, doses, 39 * 12 + t);
      expect(c / steadyStateConcentration(p, reg, t)).toBeCloseTo(1, 3);
    }
    // after 10 doses: within 10% (accumulation still approaching, β half-life ~ 23 h)
    const ten = regimenInfusions(reg, 10);
    const r10 = concentration(p, ten, 9 * 12 + 11.99) / steadyStateConcentration(p, reg, 11.99);
    expect(r10).toBeGreaterThan(0.9);
    expect(r10).toBeLessThanOrEqual(1);
  });

  test('continuity at the infusion end and at the start', () => {
    const d = [{ startH: 2, endH: 3.5, amountMg: 1500 }];
    const e = 1e-9;
    expect(concentration(p, d, 3.5 - e)).toBeCloseTo(concentration(p, d, 3.5 + e), 6);
    expect(concentration(p, d, 2 + e)).toBeCloseTo(0, 6);
    expect(concentration(p, d, 2)).toBe(0);
    // peak at the end of the infusion
    expect(concentration(p, d, 3.5)).toBeGreaterThan(concentration(p, d, 3.4));
    expect(concentration(p, d, 3.5)).toBeGreaterThan(concentration(p, d, 3.6));
    // steady-state curve continuous at τ → 0
    expect(steadyStateConcentration(p, reg, 12 - e)).toBeCloseTo(steadyStateConcentration(p, reg, 0), 6);
  });
});
