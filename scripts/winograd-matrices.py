#!/usr/bin/env python3
"""Derives and checks the Winograd matrices of the wasm kernels (assembly/winograd-f43.ts,
assembly/winograd-f25.ts, assembly/winograd-f45.ts). 6x6 tiles: the
interpolation points 0, 1, -1, 1/2, -2 and infinity give B^T (6x6, shared), A^T (2 or 4 rows)
and G (3 or 5 columns); G is solved from B^T and A^T so that A^T [(G g) . (B^T d)] is the
correlation of d with g. 8x8 tiles (F(4x4,5x5)): the points 0, 1, -1, 2, -2, 1/2, -1/2 and
infinity give A^T and G by the Toom-Cook (Lagrange) construction, and B^T is solved from them.
Every transform (forward F(4x4,3x3), F(2x2,5x5), F(4x4,5x5), and the F(2x2,5x5) filter gradient
G^T [(A dy A^T) . (B^T x B)] G) is checked against direct sums, and the float32 errors of the 5x5
ones are measured.
Needs numpy. Usage: python3 scripts/winograd-matrices.py"""
from fractions import Fraction

import numpy as np

BT = np.array([[1, -1.5, -2, 1.5, 1, 0], [0, -1, .5, 2.5, 1, 0], [0, 1, -2.5, .5, 1, 0],
               [0, -2, -1, 2, 1, 0], [0, .5, -1, -.5, 1, 0], [0, 1, -1.5, -2, 1.5, 1]])
AT4 = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, .5, -2, 0], [0, 1, 1, .25, 4, 0], [0, 1, -1, .125, -8, 1]])
AT2 = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, .5, -2, 1]])


def solve_g(at, r):
    """G (6 x r) with sum_j AT[i,j] G[j,k] BT[j,l] = [l == i + k] for every i, k, l."""
    m, n = at.shape[0], 6
    rows, rhs = [], []
    for i in range(m):
        for k in range(r):
            for l in range(n):
                row = np.zeros((n, r))
                for j in range(n):
                    row[j, k] = at[i, j] * BT[j, l]
                rows.append(row.ravel())
                rhs.append(1.0 if l == i + k else 0.0)
    a, b = np.array(rows), np.array(rhs)
    g = np.linalg.lstsq(a, b, rcond=None)[0]
    assert np.abs(a @ g - b).max() < 1e-12, 'no exact G for these points'
    return g.reshape(n, r)


def toom_cook(points, m, r):
    """A^T (m x n) and G (n x r) from the points (and infinity), then B^T solved (n = m + r - 1)."""
    n = m + r - 1
    at, g = np.zeros((m, n)), np.zeros((n, r))
    for j, a in enumerate(points):
        f = np.prod([a - b for b in points if b != a])
        at[:, j] = [a ** i for i in range(m)]
        g[j] = [a ** k / f for k in range(r)]
    at[m - 1, n - 1], g[n - 1, r - 1] = 1, 1
    rows, rhs = [], []
    for i in range(m):
        for k in range(r):
            for l in range(n):
                row = np.zeros((n, n))
                row[:, l] = at[i] * g[:, k]
                rows.append(row.ravel())
                rhs.append(1.0 if l == i + k else 0.0)
    a, b = np.array(rows), np.array(rhs)
    bt = np.linalg.lstsq(a, b, rcond=None)[0]
    assert np.abs(a @ bt - b).max() < 1e-12, 'no exact B^T for these points'
    return at, g, bt.reshape(n, n)


def show(name, mat):
    print(name, '= [' + '; '.join(' '.join(str(Fraction(v).limit_denominator(1000)) for v in row) for row in mat) + ']')


rng = np.random.default_rng(1)
G3, G5 = solve_g(AT4, 3), solve_g(AT2, 5)
show('G (F(4x4,3x3))', G3)
show('G (F(2x2,5x5))', G5)
AT45, G45, BT45 = toom_cook([0, 1, -1, 2, -2, .5, -.5], 4, 5)
show('B^T (F(4x4,5x5))', BT45)
show('G (F(4x4,5x5))', G45)
show('A^T (F(4x4,5x5))', AT45)

for at, g, bt, r in ((AT4, G3, BT, 3), (AT2, G5, BT, 5), (AT45, G45, BT45, 5)):
    m, n = at.shape
    d, w = rng.standard_normal((n, n)), rng.standard_normal((r, r))
    y = at @ ((g @ w @ g.T) * (bt @ d @ bt.T)) @ at.T
    ref = np.array([[(d[i:i + r, j:j + r] * w).sum() for j in range(m)] for i in range(m)])
    print(f'forward F({m}x{m},{r}x{r}) max error {np.abs(y - ref).max():.1e}')

# The F(2x2,5x5) filter gradient: dW = G^T [sum over 2x2 tiles of (A dy A^T) . (B^T x B)] G.
x, dy = rng.standard_normal((10, 10)), rng.standard_normal((6, 6))
acc = np.zeros((6, 6))
for ty in range(3):
    for tx in range(3):
        acc += (AT2.T @ dy[2 * ty:2 * ty + 2, 2 * tx:2 * tx + 2] @ AT2) * (BT @ x[2 * ty:2 * ty + 6, 2 * tx:2 * tx + 6] @ BT.T)
ref = np.array([[(dy * x[u:u + 6, v:v + 6]).sum() for v in range(5)] for u in range(5)])
print(f'filter gradient F(2x2,5x5) max error {np.abs(G5.T @ acc @ G5 - ref).max():.1e}')

# float32 errors over 20 channels, relative to the output's scale.
f = np.float32
for name, at, g, bt in (('F(2x2,5x5)', AT2, G5, BT), ('F(4x4,5x5)', AT45, G45, BT45)):
    m, n = at.shape
    worst = 0.0
    for _ in range(100):
        d, w = rng.standard_normal((20, n, n)), rng.standard_normal((20, 5, 5)) * 0.1
        acc = np.zeros((n, n), f)
        for c in range(20):
            u = (g.astype(f) @ w[c].astype(f) @ g.T.astype(f)).astype(f)
            v = (bt.astype(f) @ d[c].astype(f) @ bt.T.astype(f)).astype(f)
            acc = (acc + u * v).astype(f)
        y = at.astype(f) @ acc @ at.T.astype(f)
        ref = np.array([[sum((d[c, i:i + 5, j:j + 5] * w[c]).sum() for c in range(20)) for j in range(m)] for i in range(m)])
        worst = max(worst, np.abs(y - ref).max() / np.sqrt((w ** 2).sum()))
    print(f'float32 {name}, 20 channels: {worst:.1e} of the output scale')

# The 3x3 filter gradients, F(2x2,3x3) (Lavin & Gray's points 0, 1, -1, infinity) and F(4x4,3x3):
# dW = G^T [sum over tiles of (A dy A^T) . (B^T x B)] G, checked against direct sums, then their
# float32 error with the sum run in float32 in tile order, as the kernel's GEMM does (a 16x16 image
# of 64 channels, batch 16: 4096 products per tap), against the float64 sum, relative to the
# largest dW; a plain float32 sum of the same products for comparison.
BT2 = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
AT23 = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)
G23 = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
for name, at, g, bt, m, t in (('F(2x2,3x3)', AT23, G23, BT2, 2, 4), ('F(4x4,3x3)', AT4, G3, BT, 4, 6)):
    x, dy = rng.standard_normal((4 * m + 2, 4 * m + 2)), rng.standard_normal((4 * m, 4 * m))
    acc = np.zeros((t, t))
    for ty in range(4):
        for tx in range(4):
            acc += (at.T @ dy[m * ty:m * ty + m, m * tx:m * tx + m] @ at) * (bt @ x[m * ty:m * ty + t, m * tx:m * tx + t] @ bt.T)
    ref = np.array([[(dy * x[u:u + 4 * m, v:v + 4 * m]).sum() for v in range(3)] for u in range(3)])
    print(f'filter gradient {name} max error {np.abs(g.T @ acc @ g - ref).max():.1e}')
    n, hw = 16, 16
    worst = plain = 0.0
    for _ in range(3):
        xs = rng.uniform(-1, 1, (n, hw + 2, hw + 2))
        dys = rng.uniform(-1, 1, (n, hw, hw))
        prods = []
        for i in range(n):
            for ty in range(hw // m):
                for tx in range(hw // m):
                    a = (at.T.astype(f) @ dys[i, m * ty:m * ty + m, m * tx:m * tx + m].astype(f) @ at.astype(f)).astype(f)
                    b = (bt.astype(f) @ xs[i, m * ty:m * ty + t, m * tx:m * tx + t].astype(f) @ bt.T.astype(f)).astype(f)
                    prods.append(a * b)
        acc = np.cumsum(np.array(prods, f), axis=0, dtype=f)[-1]
        got = g.T.astype(f) @ acc @ g.astype(f)
        ref = np.array([[(dys * xs[:, u:u + hw, v:v + hw]).sum() for v in range(3)] for u in range(3)])
        direct = np.array([[np.cumsum((dys * xs[:, u:u + hw, v:v + hw]).astype(f).ravel(), dtype=f)[-1] for v in range(3)] for u in range(3)])
        worst = max(worst, np.abs(got - ref).max() / np.abs(ref).max())
        plain = max(plain, np.abs(direct - ref).max() / np.abs(ref).max())
    print(f'float32 {name} filter gradient, {n * hw * hw} products per tap: {worst:.1e} of the largest dW (plain float32 sum {plain:.1e})')
