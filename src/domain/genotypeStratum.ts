// Genotype availability strata of warfarin dosing: which of the two IWPC genotypes (CYP2C9, VKORC1 rs9923231) is on
// file. The dose model is evaluated, its interval calibrated, and model-vs-equation chosen per stratum (issue 16).

export type GenotypeStratum = 'both' | 'vkorc1Only' | 'cyp2c9Only' | 'none';

export const GENOTYPE_STRATA: readonly GenotypeStratum[] = ['both', 'vkorc1Only', 'cyp2c9Only', 'none'];

/** How the card names the stratum: "genotype on file: …". */
export const STRATUM_LABELS: Record<GenotypeStratum, string> = {
  both: 'CYP2C9 and VKORC1',
  vkorc1Only: 'VKORC1 only',
  cyp2c9Only: 'CYP2C9 only',
  none: 'none',
};

/** Which method serves a stratum: the dose model, or the IWPC equation when the model did not beat it in CV. */
export type StratumServedBy = 'model' | 'equation';

/** The IWPC equation a stratum gets without the model (pharmacogenetic needs a VKORC1 genotype; see iwpcForStratum). */
export type StratumEquation = 'pharmacogenetic' | 'clinical';

export const STRATUM_EQUATION: Record<GenotypeStratum, StratumEquation> = {
  both: 'pharmacogenetic',
  vkorc1Only: 'pharmacogenetic',
  cyp2c9Only: 'clinical',
  none: 'clinical',
};

export function genotypeStratum(g: { vkorc1?: unknown; cyp2c9?: unknown }): GenotypeStratum {
  const vk = g.vkorc1 !== undefined;
  const cyp = g.cyp2c9 !== undefined;
  return vk && cyp ? 'both' : vk ? 'vkorc1Only' : cyp ? 'cyp2c9Only' : 'none';
}

/** The same patient with the genotypes the stratum does not have removed (undefined = that gene unknown). */
export function maskToStratum<T extends { vkorc1?: unknown; cyp2c9?: unknown }>(x: T, s: GenotypeStratum): T {
  const out = { ...x };
  if (s === 'cyp2c9Only' || s === 'none') delete out.vkorc1;
  if (s === 'vkorc1Only' || s === 'none') delete out.cyp2c9;
  return out;
}
