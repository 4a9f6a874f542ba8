"""1-D knot moves for prune-and-refit (docs/math.md §5.4): where the knots of a candidate go.

A 1-D network f(x) = sum_k v_k relu(w_k x + b_k) [+ a x + c] has its knots at t_k = -b_k / w_k
and faces sigma_k = sign(w_k). With the knots held it is linear in (v, a, c), so its best fit to
the data is one least-squares solve on the columns relu(sigma_k (x - t_k)) (plus x and 1 for the
skip term and output bias): the *fixed-knot misfit* sum_i r_i^2. Levenberg-Marquardt moves a knot
only within its data interval before the misfit stops falling; the moves here carry knots across
data points, on the grid of data points and midpoints between neighbours, to where that misfit is
smallest. The finishing phase then refits the moved candidate by LM (nothing here proves anything).
"""

from __future__ import annotations

import numpy as np

from sparsest.core.network import Network

__all__ = ["KnotFit"]


class KnotFit:
    """The fixed-knot least-squares fits of 1-D networks on one data set (x, y).

    ``skip`` / ``bias``: whether the networks have the skip term a x / the output bias c (their
    columns x and 1 are always fitted too).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, *, skip: bool, bias: bool):
        self.x = np.asarray(x, dtype=np.float64).reshape(-1)
        self.y = np.asarray(y, dtype=np.float64).reshape(-1)
        self.skip, self.bias = skip, bias
        xs = np.sort(self.x)
        self.grid = np.sort(np.concatenate([xs, (xs[1:] + xs[:-1]) / 2]))
        self.fixed = [c for c, on in ((self.x[:, None], skip), (np.ones((len(self.x), 1)), bias)) if on]

    def columns(self, knots: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """The design matrix [x, 1, relu(sigma_k (x - t_k))_k] (affine columns as the networks have them)."""
        return np.hstack(self.fixed + [np.maximum(sigma * (self.x[:, None] - knots), 0.0)])

    def fit(self, knots: np.ndarray, sigma: np.ndarray) -> tuple[float, float, np.ndarray]:
        """(misfit sum_i r_i^2, max_i |r_i|, coefficients) of the least-squares fit on these knots."""
        A = self.columns(knots, sigma)
        coef = np.linalg.lstsq(A, self.y, rcond=None)[0]
        r = A @ coef - self.y
        return float(r @ r), float(np.max(np.abs(r), initial=0.0)), coef

    def misfit(self, net: Network) -> float:
        """The fixed-knot misfit of ``net``'s knots (inf when a neuron has w = 0: no knot)."""
        knots_sigma = _knots_of(net)
        return np.inf if knots_sigma is None else self.fit(*knots_sigma)[0]

    def network(self, knots: np.ndarray, sigma: np.ndarray, coef: np.ndarray) -> Network:
        """The network of a fit: w_k = sigma_k, b_k = -sigma_k t_k, v and the affine part from ``coef``."""
        offset = len(self.fixed)
        a = coef[:1].copy() if self.skip else None
        c = float(coef[offset - 1]) if self.bias else None
        return Network(coef[offset:].copy(), sigma[:, None].copy(), -sigma * knots, a, c)

    def slid(self, net: Network, target: float, passes: int) -> Network | None:
        """``net`` with its knots slid: each pass moves the one knot one grid step, left or right,
        that lowers the fixed-knot misfit most, until no move helps, max |r| <= ``target`` or
        ``passes`` passes are done. None when no move helped (or a neuron has no knot)."""
        knots_sigma = _knots_of(net)
        if knots_sigma is None:
            return None
        knots, sigma = knots_sigma
        loss, worst, coef = self.fit(knots, sigma)
        moved = False
        for _ in range(passes):
            if worst <= target:
                break
            best = None
            for k in range(len(knots)):
                left, right = self.grid[self.grid < knots[k]], self.grid[self.grid > knots[k]]
                for spot in (left[-1:], right[:1]):
                    if not spot.size:
                        continue
                    trial = knots.copy()
                    trial[k] = spot[0]
                    result = self.fit(trial, sigma)
                    if result[0] < loss and (best is None or result[0] < best[0][0]):
                        best = (result, trial)
            if best is None:
                break
            (loss, worst, coef), knots, moved = best[0], best[1], True
        return self.network(knots, sigma, coef) if moved else None

    def exchanged(self, net: Network, target: float, passes: int) -> list[Network]:
        """Two neighbouring knots (in the order of t) traded for one: for every such pair, ``net``
        without both plus the one knot that lowers the fixed-knot misfit most (:meth:`_best_place`), then relocated (at most ``passes`` passes): a network
        with one knot fewer wherever the data would rather have one knot between them."""
        knots_sigma = _knots_of(net)
        if knots_sigma is None or len(net.v) < 2:
            return []
        knots, sigma = knots_sigma
        order = np.argsort(knots, kind="stable")
        places = self._places()
        out = []
        for first, second in zip(order[:-1], order[1:]):
            keep = np.ones(len(knots), dtype=bool)
            keep[[first, second]] = False
            place, sense, _ = self._best_place(knots[keep], sigma[keep], places)
            trial_knots = np.append(knots[keep], place)
            trial_sigma = np.append(sigma[keep], sense)
            start = self.network(trial_knots, trial_sigma, self.fit(trial_knots, trial_sigma)[2])
            out.append(self.relocated(start, target, passes) or start)
        return out

    def _places(self):
        """The places a knot may take: every data interval (x_j, x_{j+1}) of the sorted points, in
        either facing when there is no skip term, as (sense, interval j, and the ramp and step
        columns relu(sense (x - m_j)), [sense (x - m_j) > 0] at the interval's midpoint m_j)."""
        xs = self.grid[::2]
        facings = (1.0,) if self.skip else (1.0, -1.0)
        mids = np.concatenate([(xs[1:] + xs[:-1]) / 2] * len(facings))
        senses = np.repeat(facings, len(xs) - 1)
        z = senses * (self.x[:, None] - mids)
        return senses, np.tile(np.arange(len(xs) - 1), len(facings)), np.maximum(z, 0.0), (z > 0).astype(np.float64)

    def _best_place(self, knots: np.ndarray, sigma: np.ndarray, places) -> tuple[float, float, float]:
        """(t, sense, misfit): the one knot that, added to these knots, lowers the fixed-knot misfit
        most, its place within its interval fitted too. On interval j the knot's ramp and step span
        {v sense (x - t) on its activation set : t anywhere}, so with Q an orthonormal basis of the
        other columns, r0 = y - Q Q^T y and a, b the projected ramp and step, the misfit is
        |r0|^2 - g^T G^-1 g (G the Gram matrix of a, b; g = (a . r0, b . r0)), and the knot sits at
        t = m_j - beta / (alpha sense) for the coefficients (alpha, beta) = G^-1 g, kept inside the
        interval (where the misfit is then only a lower estimate: the caller re-fits)."""
        senses, intervals, ramps, steps = places
        Q = _orthonormal_basis(self.columns(knots, sigma))
        r0 = self.y - Q @ (Q.T @ self.y)
        A = ramps - Q @ (Q.T @ ramps)
        B = steps - Q @ (Q.T @ steps)
        aa, ab, bb = (A * A).sum(axis=0), (A * B).sum(axis=0), (B * B).sum(axis=0)
        ga, gb = A.T @ r0, B.T @ r0
        det = aa * bb - ab * ab
        scale = max(float(aa.max(initial=0.0)) * float(bb.max(initial=0.0)), 1e-300)
        both = det > 1e-12 * scale
        safe = np.where(both, det, 1.0)
        alpha = np.where(both, (bb * ga - ab * gb) / safe, np.divide(ga, aa, out=np.zeros_like(ga), where=aa > 0))
        beta = np.where(both, (aa * gb - ab * ga) / safe, 0.0)
        gain = alpha * ga + beta * gb
        spot = int(np.argmax(gain))
        xs = self.grid[::2]
        j, sense = int(intervals[spot]), float(senses[spot])
        mid = (xs[j] + xs[j + 1]) / 2
        t = mid - beta[spot] / (alpha[spot] * sense) if alpha[spot] != 0 else mid
        if sense > 0:  # active set {x > t} = positions >= j + 1: t in [x_j, x_{j+1})
            t = min(max(t, xs[j]), np.nextafter(xs[j + 1], -np.inf))
        else:  # active set {x < t} = positions <= j: t in (x_j, x_{j+1}]
            t = min(max(t, np.nextafter(xs[j], np.inf)), xs[j + 1])
        return float(t), sense, float(r0 @ r0) - float(gain[spot])

    def relocated(self, net: Network, target: float, passes: int) -> Network | None:
        """``net`` with its knots relocated: each pass moves the one knot to the one place (any data
        interval, the place within it fitted, either facing when there is no skip term) that lowers
        the fixed-knot misfit most, until no move helps, max |r| <= ``target`` or ``passes`` passes
        are done (the misfits of every place of knot k come from one projection:
        :meth:`_best_place`). None when no move helped (or a neuron has no knot)."""
        knots_sigma = _knots_of(net)
        if knots_sigma is None:
            return None
        knots, sigma = knots_sigma
        places = self._places()
        loss, worst, coef = self.fit(knots, sigma)
        moved = False
        for _ in range(passes):
            if worst <= target:
                break
            best_loss, best_move = loss * (1 - 1e-9), None
            for k in range(len(knots)):
                place, sense, misfit = self._best_place(np.delete(knots, k), np.delete(sigma, k), places)
                if misfit < best_loss and (place != knots[k] or sense != sigma[k]):
                    best_loss, best_move = misfit, (k, place, sense)
            if best_move is None:
                break
            k, place, sense = best_move
            trial_knots, trial_sigma = knots.copy(), sigma.copy()
            trial_knots[k], trial_sigma[k] = place, sense
            result = self.fit(trial_knots, trial_sigma)
            if result[0] >= loss:  # the projection's rounding promised more than the solve gives
                break
            (loss, worst, coef), knots, sigma, moved = result, trial_knots, trial_sigma, True
        return self.network(knots, sigma, coef) if moved else None


def _orthonormal_basis(A: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the column space of A (rank from the singular values, so that a
    zero or repeated column adds no direction)."""
    if A.shape[1] == 0:
        return np.zeros((A.shape[0], 0))
    U, S, _ = np.linalg.svd(A, full_matrices=False)
    return U[:, S > max(A.shape) * np.finfo(float).eps * max(float(S[0]), 1e-300)]


def _knots_of(net: Network) -> tuple[np.ndarray, np.ndarray] | None:
    """(t_k, sigma_k) of a 1-D network, or None when some neuron has w_k = 0."""
    w = net.W[:, 0]
    if np.any(w == 0):
        return None
    return -net.b / w, np.sign(w)
