"""From trained weights to the network that is reported: prune, merge, polish (the continuous side).

Three steps, each reported separately (docs/math.md §2, §3, §6):

1. **Prune.** A neuron is *active* when its contribution |v_k relu(w_k . x_i + b_k)| exceeds the
   counting tolerance at some data point (``Network.active_mask``); the others are dropped.
2. **Merge (exact on the data).** On the data a neuron acts only through its block (A, s): the
   activation set A = {i : x~_i . u > 0} and s = sign(v), with u = |v| (w, b) in the cone C_A.
   With the affine skip term a neuron whose set contains the anchor point (the lexicographically
   smallest x_i, see :mod:`sparsest.exact.patterns`) is first rewritten with relu(z) = z + relu(-z): its
   affine part goes into (a, c) and it becomes the neuron |v| relu(-z) with the same sign s on the
   other side. Neurons with the same (A, s) are then replaced by ONE neuron with u = sum of their
   u's: the sum lies in C_A with the same strict set A, so the network is unchanged on every data
   point (off the data the kinks move: in 1-D the merged knot lies between the same two points).
3. **Polish (exact LP on the trained support).** Each merged neuron is mapped to a block of the
   dictionary and :meth:`BlockDictionary.fit_support` solves for an exact interpolant on those
   blocks only. Because training leaves hyperplanes *near* data points (sparse interpolants put
   their kinks through data points), the block is taken from the *snapped* set
   A_snap = {i : dist_i > snap}, dist_i = x~_i . u / ||u_w|| the signed distance of x_i to the
   neuron's hyperplane: points within ``snap`` of the hyperplane are left to the LP (the closed
   cone lets it put the hyperplane through them). Several snapping distances are tried, and the
   sparsest exact interpolant is kept; each distinct block appears once, so the polished count
   never exceeds the merged count. If no snapping gives a feasible LP, the polish says so.

Every count and residual reported here comes from :func:`sparsest.core.recheck.recheck` on the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.core.network import Network
from sparsest.exact.patterns import anchor_point
from sparsest.core.recheck import Recheck, recheck

#: Snapping distances of the polish, relative to the data's diameter, tried in this order.
DEFAULT_SNAPS = (1e-2, 1e-3, 0.0)

__all__ = [
    "DEFAULT_SNAPS",
    "Extraction",
    "Polish",
    "data_diameter",
    "extract",
    "merge_neurons",
    "neuron_blocks",
    "polish",
]


@dataclass(frozen=True)
class Extraction:
    """A trained network, pruned and merged, with the re-check of each (docs/math.md §6).

    raw : the trained network with its inactive neurons removed (same function everywhere).
    merged : one neuron per block (A, s); equal to ``raw`` on every data point.
    raw_check, merged_check : :func:`recheck` of each (counts, residuals, tolerances).
    """

    raw: Network
    merged: Network
    raw_check: Recheck
    merged_check: Recheck


@dataclass(frozen=True)
class Polish:
    """The exact LP on the trained support.

    feasible : whether some snapping distance gave an interpolating LP solution.
    network : that interpolant (None when infeasible); check : its :func:`recheck`.
    blocks : the support handed to the LP, as (sorted activation set, sign) pairs.
    snap : the snapping distance (absolute) that produced ``network``, or None.
    attempts : (snap, blocks, "pattern" | "free", LP status, neurons, parameters) for every LP.
    """

    feasible: bool
    network: Network | None
    check: Recheck | None
    blocks: tuple[tuple[tuple[int, ...], int], ...]
    snap: float | None
    attempts: tuple[tuple[float, int, str, str, int | None, int | None], ...]

    def to_json(self) -> dict:
        """The ``polished`` object of the train contract (counts, residual, interpolates, network)."""
        out = {
            "feasible": self.feasible,
            "snap": self.snap,
            "attempts": [{"snap": s, "blocks": n, "weights": kind, "status": st, "neurons": k, "parameters": q}
                         for s, n, kind, st, k, q in self.attempts],
            "blocks": [{"set": list(A), "sign": s} for A, s in self.blocks],
        }
        if self.check is None:
            out.update({"neurons": None, "parameters": None, "interpolates": False,
                        "max_abs_residual": None, "network": None})
        else:
            out.update({
                "neurons": self.check.neurons,
                "parameters": self.check.parameters,
                "interpolates": self.check.interpolates,
                "max_abs_residual": self.check.max_abs_residual,
                "max_abs_residual_exact": self.check.max_abs_residual_exact,
                "tolerance": self.check.tolerance,
                "count_tol": self.check.count_tol,
                "network": self.network.to_json(),
            })
        return out


# ---------------------------------------------------------------------- merging
def _block_weights(network: Network, dataset: Dataset, count_tol: float):
    """Active neurons as (u, s) rows, u = |v| (w, b), with the skip-term flip applied.

    Returns (U, signs, a, c): U is (K', d+1), signs (K',), and the affine part updated by the
    flips (a, c are None when the network has no such term).
    """
    active = network.active_mask(dataset.X, count_tol)
    v, W, b = network.v[active], network.W[active], network.b[active]
    U = np.abs(v)[:, None] * np.hstack([W, b[:, None]])
    signs = np.sign(v)
    a = None if network.a is None else network.a.copy()
    c = network.c
    if dataset.skip:
        if a is None:
            a, c = np.zeros(dataset.dim), 0.0 if c is None else c
        anchor = anchor_point(dataset)
        flip = (dataset.X_tilde[anchor] @ U.T) > 0.0
        # s |v| relu(z) = s |v| z + s |v| relu(-z): move the affine part, keep the sign.
        path = (signs[flip, None] * U[flip])
        a = a + path[:, :-1].sum(axis=0)
        c = (0.0 if c is None else c) + float(path[:, -1].sum())
        U[flip] = -U[flip]
    return U, signs, a, c


def merge_neurons(network: Network, dataset: Dataset, *, count_tol: float | None = None) -> Network:
    """One neuron per block (A, s) (docs/math.md §3), equal to ``network`` on every data point.

    Each merged neuron has v = s and (w, b) = the sum of the u = |v| (w, b) of its group (the
    block convention of :mod:`sparsest.exact.dictionary`). Neurons that are zero on the data (at
    ``count_tol``, default the dataset's) are dropped, and so is a flipped neuron whose new set is
    empty (it was affine on the data: the skip term took it).
    """
    count_tol = dataset.count_tol if count_tol is None else float(count_tol)
    U, signs, a, c = _block_weights(network, dataset, count_tol)
    if network.a is None and not dataset.skip:
        a = None
    sets = (dataset.X_tilde @ U.T > 0.0).T  # (K', N)
    groups: dict[tuple[bytes, float], int] = {}
    merged_u, merged_s = [], []
    for row, s, u in zip(sets, signs, U):
        if not row.any():
            continue
        key = (np.packbits(row).tobytes(), float(s))
        if key in groups:
            merged_u[groups[key]] = merged_u[groups[key]] + u
        else:
            groups[key] = len(merged_u)
            merged_u.append(u.copy())
            merged_s.append(s)
    d = dataset.dim
    U = np.array(merged_u).reshape(len(merged_u), d + 1)
    return Network(np.array(merged_s, dtype=np.float64), U[:, :d], U[:, d], a, c)


def extract(network: Network, dataset: Dataset, *, tolerance: float | None = None,
            count_tol: float | None = None, count_bias: bool = False) -> Extraction:
    """Prune and merge a trained network; re-check both (interpolation ``tolerance`` and
    ``count_tol`` default to the dataset's, docs/math.md §6)."""
    count_tol = dataset.count_tol if count_tol is None else float(count_tol)
    raw = network.pruned(dataset.X, count_tol)
    merged = merge_neurons(raw, dataset, count_tol=count_tol)
    options = dict(tolerance=tolerance, count_tol=count_tol, count_bias=count_bias)
    return Extraction(raw, merged, recheck(raw, dataset, **options), recheck(merged, dataset, **options))


# ---------------------------------------------------------------------- polish
def data_diameter(dataset: Dataset) -> float:
    """||max_i x_i - min_i x_i||_2 (coordinatewise ranges), the length scale of the snapping distance;
    1 for a single point."""
    spread = float(np.linalg.norm(np.ptp(dataset.X, axis=0)))
    return spread if spread > 0 else 1.0


def _snapped_neurons(network: Network, dataset: Dataset, snap: float, count_tol: float):
    """Per active neuron: (A_snap as sorted indices, sign, zero pattern of u = |v| (w, b)).

    A_snap = {i : dist_i > snap}, dist_i = x~_i . u / ||u_w||_2 the signed distance of x_i to the
    neuron's hyperplane (after the skip-term flip; a neuron with w = 0 uses ||u||). The zero
    pattern marks the coordinates with |u_j| <= count_tol.
    """
    U, signs, _, _ = _block_weights(network, dataset, count_tol)
    norms = np.linalg.norm(U[:, :-1], axis=1)
    norms = np.where(norms > 0, norms, np.linalg.norm(U, axis=1))
    dist = (dataset.X_tilde @ U.T) / np.where(norms > 0, norms, 1.0)
    return [(tuple(int(i) for i in np.flatnonzero(column > snap)), int(s), np.abs(u) <= count_tol)
            for column, s, u in zip(dist.T, signs, U)]


def neuron_blocks(network: Network, dataset: Dataset, *, snap: float = 0.0,
                  count_tol: float | None = None) -> list[tuple[tuple[int, ...], int]]:
    """The distinct blocks (A_snap, s) of the active neurons, in order of first appearance.

    A_snap = {i : dist_i > snap} with dist_i the signed distance of x_i to the neuron's hyperplane
    (after the skip-term flip; see :func:`merge_neurons`). Neurons whose snapped set is empty are
    left out. With ``snap = 0`` these are the blocks of :func:`merge_neurons`.
    """
    count_tol = dataset.count_tol if count_tol is None else float(count_tol)
    blocks: list[tuple[tuple[int, ...], int]] = []
    for members, sign, _ in _snapped_neurons(network, dataset, snap, count_tol):
        if members and (members, sign) not in blocks:
            blocks.append((members, sign))
    return blocks


def _fit_blocks(dataset: Dataset, blocks: Sequence[tuple[tuple[int, ...], int]], box: float | None,
                coordinates: np.ndarray | None = None):
    """fit_support on exactly these blocks (a dictionary of their sets only: no enumeration), with
    u_bj held at 0 where ``coordinates`` (len(blocks), d+1) is False; returns (network or None, status)."""
    patterns = np.zeros((len(blocks), dataset.n_points), dtype=bool)
    for row, (members, _) in zip(patterns, blocks):
        row[list(members)] = True
    dictionary = BlockDictionary(dataset, patterns=patterns)
    chosen = [dictionary.block_of(p, s) for p, (_, s) in enumerate(blocks)]
    fit = dictionary.fit_support(chosen, box=box, coordinates=coordinates)
    return fit.network, fit.status


def polish(network: Network, dataset: Dataset, *, snaps: Sequence[float] = DEFAULT_SNAPS,
           tolerance: float | None = None, count_tol: float | None = None,
           count_bias: bool = False, box: float | None = None, objective: str = "neurons") -> Polish:
    """The sparsest exact interpolant found by fixed-support LPs on the blocks of ``network``.

    ``snaps`` are snapping distances relative to :func:`data_diameter` (see the module docstring).
    For each, on the distinct snapped blocks: when some trained path weight of a block is 0 (d > 1;
    the bias too when ``count_bias``), first :meth:`BlockDictionary.fit_support` (its LP, l1
    objective on the path weights) with those weights held at 0, so the parameter count cannot
    grow either, then the same LP with every weight of the blocks free. ``box``: |u_j| <= R.
    An answer counts only if :func:`recheck` says it interpolates at ``tolerance``; the one with
    the fewest neurons, then parameters (``objective="parameters"``: the other way round), then
    the smallest residual is kept. Never more neurons
    than distinct blocks, hence never more than the merged network of :func:`merge_neurons`.
    """
    if objective not in ("neurons", "parameters"):
        raise SparsestError(f"unknown objective {objective!r}; choose neurons or parameters")
    count_tol = dataset.count_tol if count_tol is None else float(count_tol)
    scale = data_diameter(dataset)
    best, attempts, tried = None, [], []
    for relative in snaps:
        snap = float(relative) * scale
        patterns: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
        for members, sign, zero in _snapped_neurons(network, dataset, snap, count_tol):
            if members:
                patterns[(members, sign)] = patterns.get((members, sign), zero) & zero
        blocks = list(patterns)
        zero = np.array([patterns[block] for block in blocks]).reshape(len(blocks), dataset.dim + 1)
        if not count_bias:
            zero[:, -1] = False  # the bias is not a parameter: free
        if blocks in tried:
            continue
        tried.append(blocks)
        fits = []
        if zero.any():
            fits.append(("pattern", *_fit_blocks(dataset, blocks, box, coordinates=~zero)))
        # An empty support is still an LP: the affine part alone (or zero) may interpolate.
        fits.append(("free", *_fit_blocks(dataset, blocks, box)))
        for kind, fitted, status in fits:
            neurons = parameters = None
            if fitted is not None:
                fitted = fitted.pruned(dataset.X, count_tol)
                check = recheck(fitted, dataset, tolerance=tolerance, count_tol=count_tol, count_bias=count_bias)
                if not check.interpolates:
                    status = "lp solution does not interpolate at the tolerance"
                else:
                    neurons, parameters = check.neurons, check.parameters
                    counts = (neurons, parameters) if objective == "neurons" else (parameters, neurons)
                    key = (*counts, check.max_abs_residual)
                    if best is None or key < best[0]:
                        best = (key, fitted, check, snap, blocks)
            attempts.append((snap, len(blocks), kind, status, neurons, parameters))
    if best is None:
        return Polish(False, None, None, (), None, tuple(attempts))
    _, fitted, check, snap, blocks = best
    return Polish(True, fitted, check, tuple(blocks), snap, tuple(attempts))
