// Weighted ridge least squares (intercept unpenalised), solved with Gaussian elimination with partial pivoting.

export function fitRidge(
  X: ArrayLike<number>[],
  y: ArrayLike<number>,
  w: ArrayLike<number>,
  columns: number[],
  lambda: number,
): { intercept: number; coef: number[] } {
  const p = columns.length + 1;
  const A: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const bvec = new Array<number>(p).fill(0);
  const z = new Array<number>(p).fill(0);
  for (let i = 0; i < X.length; i++) {
    const x = X[i]!;
    z[0] = 1;
    for (let c = 0; c < columns.length; c++) z[c + 1] = x[columns[c]!]!;
    const wi = w[i]!;
    for (let a = 0; a < p; a++) {
      const za = z[a]! * wi;
      bvec[a]! += za * y[i]!;
      const row = A[a]!;
      for (let b = 0; b < p; b++) row[b]! += za * z[b]!;
    }
  }
  for (let a = 1; a < p; a++) A[a]![a]! += lambda;
  // Gaussian elimination
  for (let col = 0; col < p; col++) {
    let piv = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[piv]![col]!)) piv = r;
    [A[col], A[piv]] = [A[piv]!, A[col]!];
    [bvec[col], bvec[piv]] = [bvec[piv]!, bvec[col]!];
    const d = A[col]![col]!;
    if (Math.abs(d) < 1e-12) continue;
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const f = A[r]![col]! / d;
      if (f === 0) continue;
      for (let c = col; c < p; c++) A[r]![c]! -= f * A[col]![c]!;
      bvec[r]! -= f * bvec[col]!;
    }
  }
  const beta = bvec.map((v, i) => (Math.abs(A[i]![i]!) < 1e-12 ? 0 : v / A[i]![i]!));
  return { intercept: beta[0]!, coef: beta.slice(1) };
}
