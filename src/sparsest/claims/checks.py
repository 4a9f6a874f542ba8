"""The theorem's claims (docs/math.md §4, §5; issue 6), checked on one instance by exact methods.

Settings.
* 1-D claims (C1-C4, C6) are about f(x) = a x + c + sum_k v_k relu(w_k x + b_k) with the affine
  skip term free and unpenalised, the neuron count of docs/math.md §2 and the l^p path norm
  sum_k |v_k w_k|^p (biases free). They are checked in that setting, whatever the instance file
  says about the skip term (a file without it is checked with it, and the evidence says so).
* C5 is about d >= 2 in the instance's own setting (skip term / output bias as in the file), the
  box R of docs/math.md §3 (``box``; default :func:`sparsest.exact.milp.default_box`), the parameter count (nonzero
  path weights v_k w_kj, biases not counted) and the l^p norm of the path weights.

Every l^p minimiser comes from the exact search of :mod:`sparsest.claims.lp_minimizers` (all ties). The sparsest
counts come from the certificates: the closed form of docs/math.md §4 (:mod:`sparsest.exact.closed_form`), the
MILP (:mod:`sparsest.exact.milp`) and the M-free exhaustive search (:mod:`sparsest.exact.exhaustive`).

Verdicts: ``True`` / ``False``; ``"not applicable"`` (wrong dimension, or a precondition such as
general position fails); ``"undecided"`` (a certificate hit its time limit, or the box binds at
the l^p minimiser so the boxed minimum is not computed). A ``False`` is never softened: the
evidence shows the instance's counterexample.

p*. For a sweep ``p_grid`` of exponents in (0, 1): the largest p such that the claim "every l^p
minimiser is a sparsest network" holds at every grid point up to p; the change point between the
last good and the first bad grid point is then located by bisection (to 1e-6). When no grid
point fails, the estimate is the largest grid point (p* is at least that).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

from sparsest.core.dataset import Dataset
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.exact.exhaustive import search_exhaustive
from sparsest.claims.lp_minimizers import (
    BoxBindsError,
    LpVertex,
    VertexCatalogue,
    check_small,
    describe_setting,
    exact_minimizers,
    minimize_lp,
    vertex_catalogue,
)
from sparsest.exact.milp import default_box, solve_milp
from sparsest.exact.problem import check_box
from sparsest.exact.patterns import in_general_position
from sparsest.exact.closed_form import min_knots

__all__ = ["ClaimResult", "ClaimsReport", "DEFAULT_P_GRID", "check_claims"]

#: The default sweep: p = 0.01, 0.02, ..., 0.99.
DEFAULT_P_GRID = tuple(round(0.01 * i, 2) for i in range(1, 100))
#: Bisection stops when the bracket is narrower than this.
BISECTION_TOL = 1e-6
#: Relative tolerance under which an l^p minimiser's l^1 cost counts as the l^1 minimum.
L1_RTOL = 1e-9

NOT_APPLICABLE = "not applicable"
UNDECIDED = "undecided"

STATEMENTS = {
    "C1": "1-D: the sparsest neuron count is the same by the closed form, the MILP and the exhaustive "
          "search, and it is at most N-2",
    "C2": "1-D: for p small enough every exact l^p minimiser is a sparsest network (p* estimated)",
    "C3": "1-D: every l^p minimiser with 0 < p < 1 is also l^1-optimal and has at most N-2 neurons",
    "C4": "1-D: the l^p minimiser is unique except at isolated values of p",
    "C5": "d >= 2, general position, box R: the sparsest parameter count is at most N, and for small p "
          "the exact l^p minimiser has the sparsest parameter count",
    "C6": "1-D: the set of l^1 minimisers contains a sparsest network (and shows whether it also "
          "contains a non-sparsest one)",
}


@dataclass(frozen=True)
class ClaimResult:
    """One claim on one instance: ``holds`` is True, False, "not applicable" or "undecided";
    ``summary`` is one line for the table; ``evidence`` is a JSON-ready dict."""

    id: str
    statement: str
    setting: str
    holds: bool | str
    summary: str
    evidence: dict

    def to_json(self) -> dict:
        return {"id": self.id, "statement": self.statement, "setting": self.setting, "holds": self.holds,
                "summary": self.summary, "evidence": self.evidence}


@dataclass(frozen=True)
class ClaimsReport:
    """All claims on one instance.

    sparsest : the certified sparsest neuron count (1-D: the closed form; d >= 2: the exhaustive
        search with the box), None when no certificate finished.
    sparsest_parameters : d >= 2 only, the certified sparsest parameter count with the box.
    p_star_estimate : the p* of C2 (1-D) or C5 (d >= 2), None when not computed.
    p_grid : the sweep used. box : R for d >= 2 (None in 1-D).
    """

    instance: str
    n_points: int
    dim: int
    sparsest: int | None
    sparsest_parameters: int | None
    p_star_estimate: float | None
    p_grid: tuple[float, ...]
    box: float | None
    claims: tuple[ClaimResult, ...]

    @property
    def failed(self) -> tuple[str, ...]:
        """Ids of the claims that do not hold (``holds is False``)."""
        return tuple(c.id for c in self.claims if c.holds is False)

    def to_json(self) -> dict:
        return {
            "instance": self.instance, "N": self.n_points, "d": self.dim, "sparsest": self.sparsest,
            "sparsest_parameters": self.sparsest_parameters, "p_star_estimate": self.p_star_estimate,
            "p_grid": {"min": self.p_grid[0], "max": self.p_grid[-1], "points": len(self.p_grid)},
            "box": self.box, "claims": [c.to_json() for c in self.claims],
        }


# ====================================================================== entry point
def check_claims(dataset: Dataset, *, p_grid: Sequence[float] | None = None, box: float | None = None,
                 time_limit: float = 60.0) -> ClaimsReport:
    """Check C1-C6 on ``dataset`` (module docstring); the claims of the other dimension are "not
    applicable". ``p_grid``: exponents in (0, 1) (default :data:`DEFAULT_P_GRID`). ``box``: R for
    d >= 2 (default :func:`sparsest.exact.milp.default_box`; refused in 1-D, whose claims have no box).
    ``time_limit``: seconds for each certificate (MILP, exhaustive search)."""
    check_small(dataset, "the claims need the exact l^p minimisers, which are")
    grid = _checked_grid(DEFAULT_P_GRID if p_grid is None else p_grid)
    if not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise SparsestError(f"the time limit must be a positive number of seconds, got {time_limit!r}")
    if dataset.dim == 1:
        if box is not None:
            raise SparsestError("the 1-D claims have no box (the slope bound of docs/math.md §3 is proven); drop --box")
        return _claims_1d(dataset, grid, float(time_limit))
    box = check_box(box)
    return _claims_multi(dataset, grid, default_box(dataset) if box is None else float(box), float(time_limit))


def _checked_grid(values: Sequence[float]) -> tuple[float, ...]:
    try:
        grid = sorted({round(float(v), 12) for v in values})
    except (TypeError, ValueError):
        raise SparsestError("the p grid must be a list of numbers") from None
    if not grid:
        raise SparsestError("the p grid is empty")
    bad = [v for v in grid if not (0 < v < 1)]
    if bad:
        raise SparsestError(f"every p of the grid must satisfy 0 < p < 1 (p = 1 is the l^1 case of C3/C6), got {bad[0]}")
    return tuple(grid)


# ====================================================================== 1-D
_SETTING_1D = ("d=1 with the free affine skip term a x + c; l^p path norm sum_k |v_k w_k|^p (biases free); "
               "neurons counted as in docs/math.md §2")


def _claims_1d(dataset: Dataset, grid: tuple[float, ...], time_limit: float) -> ClaimsReport:
    ds = dataset if dataset.skip else dataset.with_options(skip=True)
    note = {} if dataset.skip else {"note": "the instance file has no skip term; the 1-D claims are about "
                                            "the setting with it and are checked there"}
    catalogue = vertex_catalogue(ds)
    sweep = _Sweep(catalogue)
    sparsest = min_knots(ds)
    c1 = _c1(ds, sparsest, time_limit)
    c2, p_star = _c2(sweep, sparsest, grid)
    l1_min = sweep.minimizers(1.0)[0].cost(1.0)
    claims = [c1, c2, _c3(ds, sweep, grid, l1_min), _c4(sweep, grid), _not_applicable("C5", "needs d >= 2"),
              _c6(sweep, sparsest, l1_min)]
    claims = [_with_note(c, note) for c in claims]
    return ClaimsReport(dataset.name, ds.n_points, 1, sparsest, None, p_star, grid, None, tuple(claims))


def _c1(ds: Dataset, closed: int, time_limit: float) -> ClaimResult:
    bound = max(ds.n_points - 2, 0)
    milp = solve_milp(BlockDictionary(ds), objective="neurons", time_limit=time_limit)
    exhaustive = search_exhaustive(BlockDictionary(ds), objective="neurons", time_limit=time_limit)
    evidence = {
        "closed_form": closed,
        "milp": {"status": milp.status, "value": milp.upper_bound, "lower_bound": milp.lower_bound},
        "exhaustive": {"status": exhaustive.status, "value": exhaustive.upper_bound,
                       "lower_bound": exhaustive.lower_bound, "lps": exhaustive.n_lps},
        "N_minus_2": bound,
    }
    if milp.status != "optimal" or exhaustive.status != "optimal":
        holds: bool | str = UNDECIDED
        summary = f"closed form {closed}; MILP {milp.status}, exhaustive {exhaustive.status}"
    else:
        holds = closed == milp.upper_bound == exhaustive.upper_bound and closed <= bound
        summary = (f"closed form {closed}, MILP {milp.upper_bound}, exhaustive {exhaustive.upper_bound}; "
                   f"N-2 = {bound}")
    return ClaimResult("C1", STATEMENTS["C1"], _SETTING_1D, holds, summary, evidence)


def _c2(sweep: "_Sweep", sparsest: int, grid) -> tuple[ClaimResult, float | None]:
    def good(p: float) -> bool:
        return all(m.n_neurons == sparsest for m in sweep.minimizers(p))

    fewest = int(sweep.catalogue.neurons.min())
    p_star, scan = _p_star(good, grid)
    first = sweep.minimizers(grid[0])
    evidence = {
        "fewest_neurons_at_a_vertex": fewest,
        "sparsest": sparsest,
        "p_star_estimate": p_star,
        "grid_failures": scan["failures"],
        "first_failure": scan["first_failure"],
        f"minimiser_at_p={grid[0]:g}": [_describe(m) for m in first],
    }
    if scan["first_failure"] is not None:
        worse = sweep.minimizers(scan["first_failure"])
        evidence["minimiser_at_first_failure"] = [_describe(m) for m in worse]
    # "for p small enough": as p -> 0, F_p -> the neuron count (one path weight per neuron), so the
    # minimisers for small p are the vertex candidates with the fewest neurons.
    holds = fewest == sparsest
    summary = (f"p -> 0 limit has {fewest} neurons (sparsest {sparsest}); "
               + (f"p* ~ {p_star:.6g}" if scan["first_failure"] is not None else f"no failure on the grid, p* >= {p_star:g}"))
    return ClaimResult("C2", STATEMENTS["C2"], _SETTING_1D, holds, summary, evidence), p_star


def _c3(ds: Dataset, sweep: "_Sweep", grid, l1_min: float) -> ClaimResult:
    bound = max(ds.n_points - 2, 0)
    not_l1, too_many, most = [], [], 0
    for p in grid:
        for m in sweep.minimizers(p):
            if m.cost(1.0) > l1_min * (1 + L1_RTOL) + 1e-300:
                not_l1.append({"p": p, "minimiser": _describe(m), "l1": m.cost(1.0)})
            if m.n_neurons > bound:
                too_many.append({"p": p, "minimiser": _describe(m)})
            most = max(most, m.n_neurons)
    evidence = {"l1_minimum": l1_min, "N_minus_2": bound, "most_neurons_of_a_minimiser": most,
                "not_l1_optimal": not_l1[:5], "over_N_minus_2": too_many[:5], "grid_points": len(grid)}
    holds = not not_l1 and not too_many
    summary = (f"all minimisers on {len(grid)} grid points l1-optimal (l1 min {l1_min:.6g}), at most {most} "
               f"<= {bound} neurons" if holds else
               f"{len(not_l1)} not l1-optimal, {len(too_many)} over N-2")
    return ClaimResult("C3", STATEMENTS["C3"], _SETTING_1D, holds, summary, evidence)


def _c4(sweep: "_Sweep", grid) -> ClaimResult:
    tied_points, persistent = [], None
    for p in grid:
        found = sweep.minimizers(p)
        if len(found) > 1:
            tied_points.append(p)
            same = _identically_tied(found) if persistent is None else None
            if same is not None and _tied_nearby(sweep, p, same):
                persistent = {"p": p, "minimisers": [_describe(m) for m in same],
                              "magnitudes": [str(v) for v in same[0].magnitudes]}
    changes = []
    for left, right in zip(grid, grid[1:]):
        if sweep.keys(left) != sweep.keys(right):
            at = _bisect(lambda q, left=left: sweep.keys(q) == sweep.keys(left), left, right)
            changes.append(round(at, 7))
    evidence = {"ties_on_grid": tied_points, "changes_of_minimiser_at_p": changes,
                "identically_tied": persistent}
    if persistent is not None:
        holds: bool | str = False
        summary = (f"{len(persistent['minimisers'])} different minimisers with the same magnitudes "
                   f"{persistent['magnitudes']}: tied on an interval of p around {persistent['p']:g}")
    else:
        holds = True
        summary = (f"unique on the grid except {len(tied_points)} point(s); minimiser changes at "
                   f"{changes if changes else 'no p'}")
    return ClaimResult("C4", STATEMENTS["C4"], _SETTING_1D, holds, summary, evidence)


def _tied_nearby(sweep: "_Sweep", p: float, same: Sequence[LpVertex]) -> bool:
    """The identically tied minimisers are still minimisers at p -+ 1e-4: a tie on an interval."""
    keys = {m.key() for m in same}
    return all(keys <= sweep.keys(q) for q in (p - 1e-4, p + 1e-4) if 0 < q < 1)


def _identically_tied(found: Sequence[LpVertex]) -> list[LpVertex] | None:
    """Two or more minimisers whose path-weight magnitudes are the same multiset: their costs are
    equal at every p, so the tie is not isolated."""
    by_magnitudes: dict[tuple, list[LpVertex]] = {}
    for m in found:
        by_magnitudes.setdefault(m.magnitudes, []).append(m)
    groups = [g for g in by_magnitudes.values() if len(g) > 1]
    return groups[0] if groups else None


def _c6(sweep: "_Sweep", sparsest: int, l1_min: float) -> ClaimResult:
    l1_minimisers = sweep.minimizers(1.0)
    sparse = [m for m in l1_minimisers if m.n_neurons == sparsest]
    other = [m for m in l1_minimisers if m.n_neurons != sparsest]
    evidence = {"l1_minimum": l1_min, "l1_minimisers_listed": len(l1_minimisers),
                "sparsest_l1_minimiser": _describe(sparse[0]) if sparse else None,
                "non_sparsest_l1_minimiser": _describe(max(other, key=lambda m: m.n_neurons)) if other else None}
    holds = bool(sparse)
    if holds and other:
        summary = (f"l1 minimisers include a sparsest one ({sparsest} neurons) and one with "
                   f"{max(m.n_neurons for m in other)}: l1 alone does not decide")
    elif holds:
        summary = f"every l1 minimiser found is sparsest ({sparsest} neurons)"
    else:
        summary = f"no l1 minimiser has {sparsest} neurons"
    return ClaimResult("C6", STATEMENTS["C6"], _SETTING_1D, holds, summary, evidence)


# ====================================================================== d >= 2
def _claims_multi(dataset: Dataset, grid: tuple[float, ...], box: float, time_limit: float) -> ClaimsReport:
    setting = describe_setting(dataset, False, box) + "; parameters = nonzero path weights v_k w_kj"
    neurons = search_exhaustive(BlockDictionary(dataset), objective="neurons", box=box, time_limit=time_limit)
    sparsest = neurons.upper_bound if neurons.status == "optimal" else None
    c5, p_star, params = _c5(dataset, grid, box, time_limit, setting)
    one_d = "a 1-D claim; the instance has d = %d" % dataset.dim
    claims = [_not_applicable(i, one_d) for i in ("C1", "C2", "C3", "C4")] + [c5, _not_applicable("C6", one_d)]
    return ClaimsReport(dataset.name, dataset.n_points, dataset.dim, sparsest, params, p_star, grid, box,
                        tuple(claims))


def _c5(ds: Dataset, grid, box: float, time_limit: float, setting: str):
    general = in_general_position(ds.X_tilde)
    if general is False:
        return _not_applicable("C5", "the points are not in general position", setting), None, None
    catalogue = vertex_catalogue(ds)
    small = grid[0]
    try:
        at_small = minimize_lp(ds, small, box=box, catalogue=catalogue)
    except BoxBindsError as err:
        result = ClaimResult("C5", STATEMENTS["C5"], setting, UNDECIDED,
                             f"the box R={box:g} binds at the l^p minimiser for p={small:g}; raise --box",
                             {"reason": str(err), "box": box, "general_position": general})
        return result, None, None
    certificate = search_exhaustive(BlockDictionary(ds), objective="parameters", box=box, time_limit=time_limit)
    if certificate.status != "optimal":
        result = ClaimResult("C5", STATEMENTS["C5"], setting, UNDECIDED,
                             f"exhaustive search: {certificate.status}",
                             {"exhaustive": {"status": certificate.status, "lower_bound": certificate.lower_bound}})
        return result, None, None
    sparsest = certificate.upper_bound
    box_binds: list[float] = []

    def good(p: float) -> bool:
        try:
            found = minimize_lp(ds, p, box=box, catalogue=catalogue).minimizers
        except BoxBindsError:
            box_binds.append(p)
            return False
        return all(m.n_parameters == sparsest for m in found)

    p_star, scan = _p_star(good, grid)
    small_ok = all(m.n_parameters == sparsest for m in at_small.minimizers)
    evidence = {
        "sparsest_parameters": sparsest, "N": ds.n_points, "box": box, "general_position": general,
        "fewest_parameters_at_a_vertex_without_box": int(catalogue.parameters.min()), "p_star_estimate": p_star,
        "first_failure": scan["first_failure"], "box_binds_at_p": box_binds[:5],
        "exhaustive": {"status": certificate.status, "lps": certificate.n_lps},
        f"minimiser_at_p={small:g}": [_describe(m) for m in at_small.minimizers[:3]],
    }
    holds = sparsest <= ds.n_points and small_ok
    summary = (f"sparsest {sparsest} parameters (N={ds.n_points}); at p={small:g} the l^p minimiser has "
               f"{at_small.parameters}; p* ~ {p_star:.6g}")
    return ClaimResult("C5", STATEMENTS["C5"], setting, holds, summary, evidence), p_star, sparsest


# ====================================================================== shared helpers
class _Sweep:
    """Exact l^p minimisers of one catalogue, cached per p."""

    def __init__(self, catalogue: VertexCatalogue):
        self.catalogue = catalogue
        self._cache: dict[float, list[LpVertex]] = {}

    def minimizers(self, p: float) -> list[LpVertex]:
        if p not in self._cache:
            found = exact_minimizers(self.catalogue, p)
            self._cache[p] = sorted(found, key=lambda m: (m.n_neurons, m.n_parameters))
        return self._cache[p]

    def keys(self, p: float) -> frozenset:
        return frozenset(m.key() for m in self.minimizers(p))


def _p_star(good: Callable[[float], bool], grid) -> tuple[float, dict]:
    """The p* estimate of the module docstring and the scan's record."""
    last_good, first_bad = 0.0, None
    failures = 0
    for p in grid:
        if good(p):
            if first_bad is None:
                last_good = p
        else:
            failures += 1
            if first_bad is None:
                first_bad = p
    if first_bad is None:
        return grid[-1], {"failures": 0, "first_failure": None}
    lo = last_good if last_good > 0 else first_bad / 2 ** 20
    if last_good == 0.0 and not good(lo):
        return 0.0, {"failures": failures, "first_failure": first_bad}
    return _bisect(good, lo, first_bad), {"failures": failures, "first_failure": first_bad}


def _bisect(stays: Callable[[float], bool], lo: float, hi: float) -> float:
    """The change point of ``stays`` (True at lo, False at hi), to :data:`BISECTION_TOL`."""
    while hi - lo > BISECTION_TOL:
        mid = (lo + hi) / 2
        if stays(mid):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _describe(m: LpVertex) -> dict:
    """A network for the evidence: counts and, in 1-D, its knots (exact) and slope changes."""
    out: dict = {"neurons": m.n_neurons, "parameters": m.n_parameters}
    if m.network.dim == 1:
        out["knots"] = [[_num(t), _num(delta)] for t, delta in m.knots()]
    else:
        out["neurons_su"] = [[s, [_num(v) for v in u]] for s, u in m.neurons]
    return out


def _num(value: Fraction):
    """An exact rational for JSON: an int, or a string "p/q" with its float beside it."""
    if value.denominator == 1:
        return int(value)
    return f"{value} (~{float(value):.6g})"


def _not_applicable(claim: str, reason: str, setting: str = "") -> ClaimResult:
    if not setting:
        setting = _SETTING_1D if claim != "C5" else "d >= 2, the instance's own affine part, box R"
    return ClaimResult(claim, STATEMENTS[claim], setting, NOT_APPLICABLE, reason, {"reason": reason})


def _with_note(claim: ClaimResult, note: dict) -> ClaimResult:
    if not note:
        return claim
    return ClaimResult(claim.id, claim.statement, claim.setting, claim.holds, claim.summary,
                       {**note, **claim.evidence})
