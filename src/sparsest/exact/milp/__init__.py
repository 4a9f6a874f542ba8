"""The big-M MILP of docs/math.md §3 over the blocks of a :class:`~sparsest.exact.dictionary.BlockDictionary`.

Variables: one u_b in R^{d+1} per block b = (A, s) (path weights u_b[:d], bias u_b[d]), the free
affine part (skip term a, c or output bias c, when the problem has one), and binaries. Rows:

* interpolation   sum_b s_b D_{A_b} X~ u_b [+ affine] = y                        (N rows)
* cones           G_{A_b} u_b >= 0                                              (N rows per block)
* big-M links     lo_c z <= u_c <= hi_c z  for every coordinate c a binary z controls
* covering cuts   valid inequalities that only remove fractional points (see :func:`_covering_groups`)

Objectives (docs/math.md §2), the cost of a binary is 1 unless said otherwise:

* ``"neurons"``: one z_b per block, controlling every coordinate of u_b.
* ``"parameters"``: a block indicator y_b (cost 0) and one z_bj <= y_b per path weight (j < d),
  with sum_j z_bj >= k_min(A_b) y_b (:func:`min_weights`); with ``count_bias`` one more binary per
  bias, else y_b controls the bias. A block whose set is not all points has b = 0 when w = 0 (some
  point is in A and some is not), so its bias is nonzero only if a weight is; the all-points block
  with w = 0 is a constant neuron, which :func:`sparsest.core.recheck.recheck` counts as zero parameters
  (and so does the exhaustive search): without ``count_bias`` it is free.

The parameter MILP is much slower than the neuron MILP (its LP bound is weak: a free constant
voids the covering cuts, and |u|/R is small); the exhaustive search is usually the faster proof.

Validity of the big-M (docs/math.md §3), see :func:`big_m`:

* ``"slope"`` (d = 1 with the skip term, no box, objective neurons or parameters without bias):
  the closed form of docs/math.md §4 is a sparsest interpolant whose slope changes are differences of data
  slopes, so |u_b0| <= M = max_i s_i - min_i s_i. Its knots lie inside the data range, so the bias
  b = -w t obeys the cone bounds of :meth:`BlockDictionary.bias_bounds` with R = M (b >= -w x_i on
  A, b <= -w x_i off A). No assumption is added.
* ``"box"`` (everything else): the box |u_bj| <= R on the path weights is part of the problem. The
  bias of a block is then bounded by its cone (:meth:`BlockDictionary.bias_bounds`: b >= -R ||x_i||_1
  on A, b <= R ||x_i||_1 off A), except on the set of all points, whose bias the cone leaves free:
  there the dictionary's stated assumption b <= R (1 + max_i ||x_i||_1) is part of the box problem
  (the same one the exhaustive search and every support fit use, so their bounds combine).

HiGHS runs with relative gap 0 and absolute gap 0.999 (the objective is an integer), so "optimal"
means ceil(dual bound) == incumbent. The lower bound reported is ceil(dual bound - 1e-6), never less
than the LP relaxation's. The network returned is rebuilt from the blocks the incumbent selects,
re-checked with :func:`sparsest.core.recheck.recheck`, and re-fitted on its support with tight LP
tolerances when the solver's own values miss the interpolation tolerance. Counts are always the
re-check's, never the solver's objective.
"""

from sparsest.exact.milp.backends import run_cbc, run_highs
from sparsest.exact.milp.bounds import BigM, big_m, default_box, slope_bound
from sparsest.exact.milp.formulation import Formulation, build_formulation, min_weights, with_floor
from sparsest.exact.milp.heuristics import FIT_SEED, HIGHS_RANDOM_SEED, PRUNE_TRIES, start_support
from sparsest.exact.milp.solve import FIT_SECONDS, HEURISTIC_SHARE, POLISH_SECONDS, SOLVERS, MilpResult, solve_milp
from sparsest.exact.problem import BOX_TOUCH_RTOL

__all__ = ["BOX_TOUCH_RTOL", "FIT_SECONDS", "FIT_SEED", "HEURISTIC_SHARE", "HIGHS_RANDOM_SEED", "POLISH_SECONDS",
           "PRUNE_TRIES", "SOLVERS", "BigM", "Formulation", "MilpResult", "big_m", "build_formulation",
           "default_box", "min_weights", "run_cbc", "run_highs", "slope_bound", "solve_milp", "start_support",
           "with_floor"]
