"""Independent references shared by several test modules (not a test module itself).

* ``matching_oracle``: 1-D l^p minimisers with the skip term by brute force over matchings of
  neighbouring same-sign slope jumps (every interpolant's data values are a x + c + sum_k g_k
  relu(x - x_k); a neuron sits at one data point, cost |g_k|^p, or merges two neighbouring jumps
  of one sign into a knot between them, cost (|g_k| + |g_k+1|)^p).
* seeded random small rational datasets in 1-D and 2-D.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from sparsest.core.dataset import Dataset


def matching_oracle(xs, ys, p):
    """(min value, set of minimizing knot lists) by brute force over matchings (module docstring).

    Knot lists are sorted tuples of exact (t, slope change)."""
    pts = sorted(zip(map(Fraction, xs), map(Fraction, ys)))
    x = [a for a, _ in pts]
    y = [b for _, b in pts]
    s = [(y[i + 1] - y[i]) / (x[i + 1] - x[i]) for i in range(len(x) - 1)]
    jumps = {k: s[k] - s[k - 1] for k in range(1, len(x) - 1) if s[k] != s[k - 1]}

    def matchings(keys):
        if not keys:
            yield []
            return
        k, rest = keys[0], keys[1:]
        for m in matchings(rest):
            yield [(k,)] + m
        if rest and rest[0] == k + 1 and (jumps[k] > 0) == (jumps[k + 1] > 0):
            for m in matchings(rest[1:]):
                yield [(k, k + 1)] + m

    best, found = None, set()
    for m in matchings(sorted(jumps)):
        knots, cost = [], 0.0
        for group in m:
            g = sum(jumps[k] for k in group)
            t = sum(jumps[k] * x[k] for k in group) / g
            knots.append((t, g))
            cost += float(abs(g)) ** p
        key = tuple(sorted(knots))
        if best is None or cost < best * (1 - 1e-12):
            best, found = cost, {key}
        elif cost <= best * (1 + 1e-12):
            found.add(key)
    return (0.0 if best is None else best), found


def random_1d(rng, n, integer=True):
    x = sorted(rng.choice(np.arange(-20, 21), size=n, replace=False).tolist())
    if integer:
        y = rng.integers(-4, 5, size=n).tolist()
    else:
        y = [Fraction(int(v), 7) for v in rng.integers(-40, 41, size=n)]
    perm = rng.permutation(n)  # the data may come in any order
    return Dataset.from_arrays([x[i] for i in perm], [y[i] for i in perm])


def random_2d(rng, n, skip=False, output_bias=False):
    X = [[Fraction(int(v), 8) for v in row] for row in rng.integers(-8, 9, size=(n, 2))]
    y = [Fraction(int(v), 4) for v in rng.integers(-8, 9, size=n)]
    return Dataset.from_arrays(X, y, skip=skip, output_bias=output_bias)


def distinct_2d(rng, n, **kw):
    while True:
        ds = random_2d(rng, n, **kw)
        if ds.n_points == n:
            return ds
