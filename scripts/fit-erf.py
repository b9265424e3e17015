"""The Chebyshev coefficients of erf in src/ops/pointwise/table.ts (ERF_CHEB).

erf a = a S(a^2) for |a| < 2; S(t) = erf(sqrt t) / sqrt t is interpolated at 30 Chebyshev points
of u = t / 2 - 1 in [-1, 1] (glibc's erf through Python's math.erf), and the series cut where its
coefficients reach float64 noise (degree 15). Prints the coefficients and the relative errors of
erf on [0, 2] and of 1 - erf on [1, 2] against math.erf / math.erfc on 400,001 points.

  python3 scripts/fit-erf.py     (needs numpy)
"""
import math

import numpy as np
from numpy.polynomial import chebyshev as C

N, DEGREE = 30, 15


def s(u):
    t = 2 * (u + 1)
    return math.erf(math.sqrt(t)) / math.sqrt(t) if t > 0 else 2 / math.sqrt(math.pi)


k = np.arange(N)
nodes = np.cos(np.pi * (k + 0.5) / N)
values = np.array([s(u) for u in nodes])
coef = np.array([2.0 / N * np.sum(values * np.cos(np.pi * j * (k + 0.5) / N)) for j in range(N)])
coef[0] /= 2
coef = coef[:DEGREE + 1]

a = np.linspace(1e-4, 2, 400001)
approx = a * C.chebval(a * a / 2 - 1, coef)
erf = np.array([math.erf(x) for x in a])
print('erf relative error', np.max(np.abs(approx - erf) / erf))
big = a > 1
erfc = np.array([math.erfc(x) for x in a[big]])
print('1 - erf relative error on [1, 2]', np.max(np.abs(1 - approx[big] - erfc) / erfc))
print(',\n'.join(repr(float(v)) for v in coef))
