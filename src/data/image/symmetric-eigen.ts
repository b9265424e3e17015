import { ConvkitError } from '../../tensor/errors.js';

/**
 * Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method: repeated plane
 * rotations, each zeroing one off-diagonal pair, until the off-diagonal part vanishes. It is
 * slow for large matrices (O(n^3) per sweep) but simple, robust, and exact to rounding for the
 * small covariance matrices PCA meets here (channels, or small flattened images).
 */

export interface Eigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as rows (row k, length n, belongs to values[k]), unit length. */
  vectors: Float64Array;
}

/** Eigenvalues and eigenvectors of the symmetric n x n matrix `a` (row-major; not modified). */
export function symmetricEigen(a: ArrayLike<number>, n: number, opts: { maxSweeps?: number } = {}): Eigen {
  if (a.length !== n * n) throw new ConvkitError(`symmetricEigen: a ${n} x ${n} matrix needs ${n * n} values, got ${a.length}`);
  const m = Float64Array.from(a);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = Math.abs(m[i * n + j]! - m[j * n + i]!);
      if (d > 1e-9 * (Math.abs(m[i * n + j]!) + Math.abs(m[j * n + i]!) + 1e-300)) {
        throw new ConvkitError(`symmetricEigen: the matrix is not symmetric: a[${i}][${j}] = ${m[i * n + j]} but a[${j}][${i}] = ${m[j * n + i]}`);
      }
    }
  }
  // v holds the accumulated rotations; its columns become the eigenvectors.
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const maxSweeps = opts.maxSweeps ?? 100;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += m[i]! * m[i]!;
  const tiny = 1e-30 * Math.max(scale, 1e-300);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! * m[p * n + q]!;
    if (off <= tiny) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        // The rotation angle that zeroes a[p][q] (Numerical Recipes' stable form).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p]!;
          const akq = m[k * n + q]!;
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!;
          const aqk = m[q * n + k]!;
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j]! - m[i * n + i]!);
  const values = Float64Array.from(order, (i) => m[i * n + i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((col, k) => {
    // A sign convention, so results do not flip between runs or platforms: largest component positive.
    let big = 0;
    for (let r = 0; r < n; r++) if (Math.abs(v[r * n + col]!) > Math.abs(big)) big = v[r * n + col]!;
    const sign = big < 0 ? -1 : 1;
    for (let r = 0; r < n; r++) vectors[k * n + r] = sign * v[r * n + col]!;
  });
  return { values, vectors };
}
