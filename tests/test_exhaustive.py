"""The M-free certificate (docs/math.md §3): the pruned exhaustive search against plain enumerations."""

import itertools
import math
import time
from itertools import combinations

import numpy as np
import pytest

from sparsest.core.dataset import Dataset
from sparsest.exact import exhaustive
from sparsest.exact.dictionary import BlockDictionary
from sparsest.errors import SparsestError
from sparsest.exact.exhaustive import SearchCache, SPAN_RTOL, _Counter, _Pruner, _Search, search_exhaustive
from sparsest.exact.milp import default_box, solve_milp
from sparsest.exact.closed_form import min_knots
from sparsest.core.recheck import recheck

from sparsest.generators import planted_instance


def _plain_neurons_bound(dictionary, below):
    """Plain enumeration: is every support of exactly ``below`` blocks infeasible? (one LP each)."""
    return not any(dictionary.fit_support(list(s)).feasible
                   for s in combinations(range(dictionary.n_blocks), below))


def _check_certificate(dictionary, result, objective="neurons", count_bias=False):
    """The search's answer is right: its network interpolates with that count, and (plain
    enumeration) no support of one size less is feasible."""
    assert result.status == "optimal"
    assert result.lower_bound == result.upper_bound
    check = recheck(result.network, dictionary.dataset, count_bias=count_bias)
    assert check.interpolates
    count = check.neurons if objective == "neurons" else check.parameters
    assert count == result.upper_bound
    return result.upper_bound


# ---------------------------------------------------------------------- neurons vs plain enumeration
#: (d, N, planted width, seed): optima 1, 2 and 3, with and without zero targets.
PLANTED_CASES = [(2, 6, 3, seed) for seed in range(100, 108)] + [(2, 7, 3, 104)] + \
    [(3, 6, 2, seed) for seed in (100, 104, 106)] + [(3, 7, 2, 105)]


@pytest.mark.slow
def test_pruned_search_equals_plain_enumeration_on_planted_instances():
    optima = []
    for case in PLANTED_CASES:
        dictionary = BlockDictionary(planted_instance(*case))
        result = search_exhaustive(dictionary)
        k = _check_certificate(dictionary, result)
        assert k == 0 or _plain_neurons_bound(dictionary, k - 1), case
        optima.append(k)
    assert set(optima) == {1, 2, 3}


@pytest.mark.parametrize("options", [dict(skip=True), dict(output_bias=True), dict()])
def test_pruned_search_equals_plain_enumeration_on_random_targets(options):
    rng = np.random.default_rng(31)
    for trial in range(4):
        n = 4 + trial % 2
        ds = Dataset.from_arrays(rng.uniform(-1, 1, (n, 2)), rng.normal(size=n), **options)
        dictionary = BlockDictionary(ds)
        result = search_exhaustive(dictionary)
        k = _check_certificate(dictionary, result)
        assert k == 0 or _plain_neurons_bound(dictionary, k - 1)


def test_zero_targets_and_affine_targets():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (6, 2))
    zero = BlockDictionary(Dataset.from_arrays(X, np.zeros(6)))
    result = search_exhaustive(zero)
    assert result.upper_bound == 0 and result.network.width == 0
    # An affine function without the skip term needs two neurons (relu(z) - relu(-z)).
    y = X @ [0.7, -1.3]
    affine = BlockDictionary(Dataset.from_arrays(X, y - y.mean()))
    result = search_exhaustive(affine)
    assert _check_certificate(affine, result) == 2
    assert _plain_neurons_bound(affine, 1)
    # With the skip term it is free.
    assert search_exhaustive(BlockDictionary(Dataset.from_arrays(X, y, skip=True))).upper_bound == 0


# ---------------------------------------------------------------------- the filter itself
def test_span_and_cover_filter_keeps_exactly_the_tuples_a_direct_check_keeps():
    rng = np.random.default_rng(8)
    for trial in range(6):
        ds = planted_instance(2, 8, 2, 300 + trial) if trial % 2 else \
            Dataset.from_arrays(rng.uniform(-1, 1, (8, 2)), rng.normal(size=8), output_bias=True)
        dictionary = BlockDictionary(ds)
        pruner = _Pruner(dictionary, free_columns=dictionary.affine_design(), cover=not ds.output_bias)
        for m in (1, 2):
            stats = _Counter()
            kept = {tuple(sorted(t)) for batch in pruner.tuples(m, float("inf"), stats) for t in batch.tolist()}
            expected = set()
            for tup in combinations(range(len(dictionary.patterns)), m):
                union = dictionary.patterns[list(tup)].any(axis=0)
                if not ds.output_bias and np.any(~union & (np.abs(ds.y) > ds.interpolation_tol)):
                    continue
                H = np.hstack([dictionary.affine_design()] + [pruner.designs[p] for p in tup])
                residual = np.linalg.norm(ds.y - H @ np.linalg.lstsq(H, ds.y, rcond=None)[0])
                assert not (SPAN_RTOL * 1e-2 < residual < SPAN_RTOL * 1e2), "ambiguous test instance"
                if residual <= SPAN_RTOL * ds.y_scale:
                    expected.add(tup)
            assert kept >= expected  # sound: nothing a direct check keeps is pruned
            if pruner.span_can_prune(m):
                assert kept == expected  # and as strong as the direct check
            assert stats.tuples == len(list(combinations(range(len(dictionary.patterns)), m)))
            assert stats.tuples - stats.cover_pruned - stats.span_pruned == len(kept)


# ---------------------------------------------------------------------- 1-D: the closed form
def test_one_d_equals_the_closed_form():
    rng = np.random.default_rng(12)
    seen = set()
    for trial in range(12):
        n = int(rng.integers(3, 8))
        x = np.sort(rng.choice(np.arange(-10, 11), size=n, replace=False)).astype(float)
        y = rng.integers(-3, 4, size=n).astype(float)
        ds = Dataset.from_arrays(x, y)
        dictionary = BlockDictionary(ds)
        result = search_exhaustive(dictionary)
        assert _check_certificate(dictionary, result) == min_knots(ds)
        assert search_exhaustive(dictionary, objective="parameters").upper_bound == min_knots(ds)
        seen.add(min_knots(ds))
    assert len(seen) >= 3


# ---------------------------------------------------------------------- parameters
def _plain_parameters_bound(dictionary, below):
    """Plain enumeration over sets of (block, path weight) of size ``below``; the bias is free and
    the constant neuron (all points, bias only) is always offered."""
    d = dictionary.dataset.dim
    everything = int(np.flatnonzero(dictionary.patterns.all(axis=1))[0])
    atoms = [(b, j) for b in range(dictionary.n_blocks) for j in range(d)]
    for chosen in combinations(atoms, below):
        blocks = sorted({b for b, _ in chosen} | {2 * everything, 2 * everything + 1})
        mask = np.zeros((len(blocks), d + 1), dtype=bool)
        mask[:, d] = True
        for b, j in chosen:
            mask[blocks.index(b), j] = True
        if dictionary.fit_support(blocks, coordinates=mask).feasible:
            return False
    return True


def test_parameters_equal_plain_enumeration():
    rng = np.random.default_rng(21)
    values = []
    for trial in range(3):
        ds = Dataset.from_arrays(rng.uniform(-1, 1, (4, 2)), rng.normal(size=4))
        dictionary = BlockDictionary(ds)
        result = search_exhaustive(dictionary, objective="parameters")
        k = _check_certificate(dictionary, result, objective="parameters")
        assert _plain_parameters_bound(dictionary, k - 1)
        neurons = search_exhaustive(dictionary).upper_bound
        assert k >= neurons - 1  # the constant neuron costs no parameter
        values.append(k)
    assert min(values) >= 1


def test_parameters_with_counted_bias_count_the_constant():
    X = np.array([[0.0, 0.0], [1.0, 0.2], [0.3, 1.0], [-0.5, 0.4]])
    dictionary = BlockDictionary(Dataset.from_arrays(X, np.full(4, 2.5)))
    assert search_exhaustive(dictionary, objective="parameters").upper_bound == 0
    counted = search_exhaustive(dictionary, objective="parameters", count_bias=True)
    assert _check_certificate(dictionary, counted, objective="parameters", count_bias=True) == 1


# ---------------------------------------------------------------------- upper, box, time limit, errors
def test_upper_stops_the_search_and_a_loose_upper_still_finds_the_optimum():
    ds = planted_instance(2, 8, 3, 7)
    dictionary = BlockDictionary(ds)
    full = search_exhaustive(dictionary)
    k = _check_certificate(dictionary, full)
    trusted = search_exhaustive(dictionary, upper=k)
    assert (trusted.status, trusted.lower_bound, trusted.upper_bound, trusted.network) == ("optimal", k, k, None)
    loose = search_exhaustive(dictionary, upper=k + 2)
    assert loose.upper_bound == k and loose.network is not None
    assert [lv.size for lv in trusted.levels] == list(range(k))


def test_time_limit_reports_honest_bounds():
    ds = planted_instance(2, 20, 4, 1)
    result = search_exhaustive(BlockDictionary(ds), time_limit=0.5)
    assert result.status == "time_limit"
    assert result.upper_bound is None and result.network is None
    assert 0 <= result.lower_bound <= 4
    assert result.seconds < 5


def test_box():
    ds = planted_instance(2, 6, 2, 5)
    dictionary = BlockDictionary(ds)
    assert search_exhaustive(dictionary, box=100.0).upper_bound == search_exhaustive(dictionary).upper_bound
    tiny = search_exhaustive(dictionary, box=1e-6, time_limit=1.0)
    assert tiny.status == "time_limit" and tiny.upper_bound is None
    # In 1-D (2N - 2 blocks) every size is searched: a box below every interpolant is refused.
    line = BlockDictionary(Dataset.from_arrays([0.0, 1.0, 2.0, 3.0], [0.0, 5.0, 0.0, 5.0]))
    with pytest.raises(SparsestError, match="box"):
        search_exhaustive(line, box=1e-3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(objective="weights"), "objective"),
    (dict(time_limit=0), "time limit"),
    (dict(upper=-1), "upper"),
    (dict(upper=2.5), "upper"),
    (dict(box=-1.0), "box"),
])
def test_bad_options_raise_one_line_errors(kwargs, match):
    dictionary = BlockDictionary(planted_instance(2, 5, 2, 1))
    with pytest.raises(SparsestError, match=match) as err:
        search_exhaustive(dictionary, **kwargs)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------- the probe never changes the answer
def test_probe_finds_the_same_optimum_and_is_seeded(monkeypatch):
    cases = [planted_instance(*case) for case in PLANTED_CASES[:6]]
    rng = np.random.default_rng(41)
    X = rng.uniform(-1, 1, (6, 2))
    cases += [Dataset.from_arrays(X, np.abs(X).sum(axis=1) - 0.8, skip=True),
              Dataset.from_arrays(X, np.maximum(X[:, 0], 0) - np.maximum(X[:, 1] - 0.2, 0), output_bias=True)]
    plain = [search_exhaustive(BlockDictionary(ds)) for ds in cases]
    monkeypatch.setattr("sparsest.exact.exhaustive.PROBE_ABOVE", 0)
    monkeypatch.setattr("sparsest.exact.exhaustive.PROBE_RESTARTS", 1024)
    probed = [search_exhaustive(BlockDictionary(ds)) for ds in cases]
    for ds, a, b in zip(cases, plain, probed):
        assert a.upper_bound == b.upper_bound, ds.name
        _check_certificate(BlockDictionary(ds), b)
    assert {b.found_by for b in probed} == {"probe", "enumeration"}
    again = search_exhaustive(BlockDictionary(cases[0]))
    assert again.blocks == probed[0].blocks
    assert np.array_equal(again.network.W, probed[0].network.W)


# ---------------------------------------------------------------------- classes {A, complement}
def _span_residual(ds, columns):
    H = np.hstack(columns)
    return float(np.linalg.norm(ds.y - H @ np.linalg.lstsq(H, ds.y, rcond=None)[0])) if H.shape[1] else \
        float(np.linalg.norm(ds.y))


@pytest.mark.parametrize("seed", range(6))
def test_the_class_span_test_never_removes_a_pattern_set_the_direct_span_check_keeps(seed):
    """Every class set the sieve drops: the span of X~ and its sets' designs misses y, and so does
    the span of every pattern set spelt from it (one or both patterns of each class)."""
    rng = np.random.default_rng(600 + seed)
    ds = planted_instance(2, 11, 3, 600 + seed) if seed % 2 else \
        Dataset.from_arrays(rng.uniform(-1, 1, (11, 2)), rng.normal(size=11), output_bias=bool(seed % 4))
    dictionary = BlockDictionary(ds)
    search = _Search(dictionary, "neurons", False, None, 0)
    splits, sieve = search.splits, search.splits.sieve
    assert sieve is not None
    free = dictionary.affine_design()
    threshold = SPAN_RTOL * ds.y_scale
    dropped_any = False
    for m in (1, 2):  # (3 classes and X~ span 12 dimensions: more than R^11 leaves to prune)
        every = list(combinations(range(splits.n_classes), m))
        kept = {tuple(row) for row in sieve(np.array([c[:-1] for c in every], dtype=np.intp).reshape(len(every), m - 1),
                                            [[c[-1]] for c in every]).tolist()}
        for classes in every:
            if classes in kept:
                continue
            dropped_any = True
            reps = [splits.members[c][0] for c in classes]
            assert _span_residual(ds, [free, ds.X_tilde] + [search.pruner.designs[p] for p in reps]) > threshold
            for picks in itertools.product(*[[(p,) for p in splits.members[c]] + ([tuple(splits.members[c])]
                                               if len(splits.members[c]) == 2 else []) for c in classes]):
                chosen = [p for part in picks for p in part]
                assert _span_residual(ds, [free] + [search.pruner.designs[p] for p in chosen]) > threshold, \
                    (seed, classes, chosen)
    assert dropped_any


@pytest.mark.parametrize("case", [(2, 8, 3, 700), (2, 9, 3, 701), (3, 7, 3, 702), (2, 8, 4, 703),
                                  (3, 8, 3, 704)])
def test_the_search_over_classes_agrees_with_the_milp(case):
    """The exhaustive search (classes, vectorized split search, class span test) and the big-M MILP
    of the same box reach the same optimum on planted instances without the skip term."""
    ds = planted_instance(*case)
    dictionary = BlockDictionary(ds)
    R = default_box(ds)
    search = search_exhaustive(dictionary, box=R, time_limit=120)
    milp = solve_milp(dictionary, box=R, time_limit=120)
    assert search.status == "optimal" and milp.status == "optimal", case
    assert search.upper_bound == milp.upper_bound, case
    assert recheck(search.network, ds).neurons == search.upper_bound


@pytest.mark.parametrize("case", [(3, 15, 4, 8102), (3, 20, 4, 8101)])
def test_the_split_search_keeps_the_time_limit(case):
    """3-D levels whose split search meets millions of class sets (N=15: the class span test
    cannot prune, every set is spelt out; N=20: it can) stop at the limit + 5% + 1 s."""
    dictionary = BlockDictionary(planted_instance(*case))
    started = time.monotonic()
    result = search_exhaustive(dictionary, box=default_box(dictionary.dataset), time_limit=3.0, probe=False)
    assert time.monotonic() - started <= 3.0 * 1.05 + 1.0
    assert result.status == "time_limit" and result.lower_bound <= 4


@pytest.mark.parametrize("seed, objective", [(11, "neurons"), (8, "parameters"), (9, "neurons"), (12, "parameters")])
def test_a_known_lower_bound_meets_the_same_supports_in_the_same_order(seed, objective):
    """Starting at ``known_lower`` = the optimum must give the full search's certificate, support
    and network included: the supports of that size built from fewer sets (a doubled set, a neuron
    with several weights) come from the sizes below, which the search then never ran (on seeds 11
    and 8 it used to return another support, and could have missed the only one)."""
    rng = np.random.default_rng(seed)
    ds = Dataset.from_arrays(rng.uniform(-1, 1, size=(7, 2)), rng.normal(size=7), skip=seed % 2 == 0)
    dictionary = BlockDictionary(ds)
    full = search_exhaustive(dictionary, objective=objective, time_limit=60)
    k = _check_certificate(dictionary, full, objective=objective)
    started = search_exhaustive(dictionary, objective=objective, time_limit=60, known_lower=k)
    assert (started.status, started.lower_bound, started.upper_bound, started.blocks) == ("optimal", k, k, full.blocks)
    assert np.allclose(started.network(ds.X), full.network(ds.X))


def test_interleaved_probes_never_change_the_bounds():
    """interleave=True (probe batches in turns with the enumeration at every size) must give the
    plain search's bounds on every case; the probe finds some optima first, the enumeration others."""
    cases = [planted_instance(*case) for case in PLANTED_CASES[:8]] + [planted_instance(2, 12, 4, 3)]
    found_by = set()
    for ds in cases:
        dictionary = BlockDictionary(ds)
        plain = search_exhaustive(dictionary, time_limit=120)
        mixed = search_exhaustive(dictionary, time_limit=120, interleave=True)
        assert (mixed.status, mixed.lower_bound, mixed.upper_bound) == (plain.status, plain.lower_bound,
                                                                       plain.upper_bound), ds.name
        _check_certificate(dictionary, mixed)
        found_by.add(mixed.found_by)
    assert found_by == {"probe", "enumeration"}


def test_the_split_search_pulses_while_its_sieve_keeps_nothing():
    """groups(pulse=True) meets what groups() meets, plus a None after every sieve batch that kept
    nothing (on 2-D N=20 w5 s13 every class set of size 4 is sieved out: only pulses)."""
    for case, m, pulses in (((2, 12, 4, 3), 3, False), ((2, 20, 5, 13), 4, True)):
        dictionary = BlockDictionary(planted_instance(*case))
        plain = [(p, list(last)) for p, last in _Search(dictionary, "neurons", False, None, 0).splits.groups(m, np.inf)]
        pulsed = list(_Search(dictionary, "neurons", False, None, 0).splits.groups(m, np.inf, pulse=True))
        assert [(p, list(last)) for p, last in (g for g in pulsed if g is not None)] == plain, case
        assert (None in pulsed) == pulses, case


def test_the_probe_takes_turns_while_the_split_search_meets_nothing(monkeypatch):
    """The interleaved probe used to get a turn only when the split search handed out tuples; at a
    size where its sieve empties every batch it never ran (a 2-D N=30 size of 90 s with no probe)."""
    from sparsest.exact import exhaustive

    monkeypatch.setattr(exhaustive, "PROBE_BATCH_GUESS", 0.0)  # a turn at the first chance
    dictionary = BlockDictionary(planted_instance(2, 20, 5, 13))
    result = search_exhaustive(dictionary, time_limit=120, known_lower=4, interleave=True)
    level = result.levels[0]
    assert level.size == 4 and level.tuples == 0 and level.probe_seconds > 0
    plain = search_exhaustive(dictionary, time_limit=120, known_lower=4)
    assert (result.status, result.lower_bound, result.upper_bound) == (plain.status, plain.lower_bound,
                                                                       plain.upper_bound)


def test_the_parameter_search_reads_the_clock_between_coordinate_masks():
    """At d = 50 one set of blocks has ~10^5 coordinate masks, nearly all span-pruned without an
    LP; the clock used to be read only before LPs, and a 1 s search took 7 s."""
    from pathlib import Path

    from sparsest.core.dataset import load_dataset

    data = load_dataset(Path(__file__).resolve().parent.parent / "instances" / "paper_multivariate.json")
    started = time.monotonic()
    result = search_exhaustive(BlockDictionary(data), objective="parameters", time_limit=1.0, known_lower=3)
    assert result.status == "time_limit" and result.lower_bound == 3
    assert time.monotonic() - started < 5.0  # generous: a loaded machine, not the 7 s of the old code


# ---------------------------------------------------------------------- parameters: maximal column sets
def _unions_near(pruner, patterns, k, n_counted, count_bias):
    """Plain check of the column-set test: is y within the span threshold of the free columns and
    some union of columns (a nonempty subset of counted coordinates on each set, k in all at most)?
    One least-squares solve per union."""
    d = pruner.width - 1
    subsets = [J for size in range(1, n_counted + 1) for J in combinations(range(n_counted), size)]
    for choice in itertools.product(subsets, repeat=len(patterns)):
        if sum(len(J) for J in choice) > k:
            continue
        columns = [pruner.free]
        for p, J in zip(patterns, choice):
            columns.append(pruner.designs[p][:, sorted(set(J) | (set() if count_bias else {d}))])
        H = np.hstack(columns)
        residual = pruner.y - H @ np.linalg.lstsq(H, pruner.y, rcond=None)[0]
        if np.linalg.norm(residual) <= pruner.threshold:
            return True
    return False


@pytest.mark.parametrize("count_bias", [True, False])
def test_the_column_set_test_agrees_with_least_squares_on_every_union(count_bias):
    """Random data, and data planted from two neurons of one weight each (then the tuples holding
    both of their sets reach y with 4 counted weights, or 2 with free biases)."""
    rng = np.random.default_rng(808)
    decided = {True: 0, False: 0}
    for trial in range(6):
        n = int(rng.integers(5, 8))
        X = rng.uniform(-1, 1, (n, 2))
        first, second = X[:, 0] - 0.2 > 0, -X[:, 1] + 0.1 > 0
        planted = 1.3 * np.maximum(X[:, 0] - 0.2, 0) - 0.7 * np.maximum(-X[:, 1] + 0.1, 0)
        y = planted if trial % 2 else rng.uniform(-1, 1, n)
        dictionary = BlockDictionary(Dataset.from_arrays(X, y))
        search = _Search(dictionary, "parameters", count_bias, None, seed=0)
        P = len(dictionary.patterns)
        index = {row.tobytes(): p for p, row in enumerate(dictionary.patterns)}
        ends = [index[first.tobytes()], index[second.tobytes()]]
        for m in (1, 2, 3):
            for k in range(m, n):
                chosen = search._maximal_column_sets(m, k)
                if chosen is None:
                    continue
                drawn = {tuple(sorted(rng.choice(P, m, replace=False))) for _ in range(12)}
                if m >= 2:
                    drawn |= {tuple(sorted(set(ends) | set(rng.choice(P, m - 2, replace=False)))) for _ in range(4)}
                tuples = np.array(sorted(t for t in drawn if len(set(t)) == m))
                near = search.pruner.columns_reach(tuples, chosen, _Counter())
                for row, patterns in enumerate(tuples.tolist()):
                    expected = _unions_near(search.pruner, patterns, k, search.n_counted, count_bias)
                    assert near[row] == expected, (trial, m, k, patterns)
                    decided[expected] += 1
    assert decided[True] >= 2 and decided[False] > 10  # both verdicts are exercised


@pytest.mark.parametrize("count_bias", [True, False])
def test_the_column_set_test_changes_no_parameter_certificate(count_bias, monkeypatch):
    """The search with the column-set test against the same search without it (MAX_COLUMN_SETS
    = 0 turns it off), on random instances with and without an output bias or skip term."""
    import sparsest.exact.exhaustive as exhaustive

    rng = np.random.default_rng(809)
    pruned = []
    original = _Pruner.columns_reach

    def counting(self, tuples, chosen, stats, deadline=math.inf):
        near = original(self, tuples, chosen, stats, deadline)
        pruned.append(int((~near).sum()))
        return near

    monkeypatch.setattr(_Pruner, "columns_reach", counting)
    cases = [(4, dict()), (5, dict(output_bias=True)), (4, dict(skip=True)), (4, dict(output_bias=True)),
             (5, dict(skip=True))] + ([] if count_bias else [(5, dict())])  # (without the test: 20 s)
    for trial, (n, options) in enumerate(cases):
        ds = Dataset.from_arrays(rng.uniform(-1, 1, (n, 2)), rng.uniform(-1, 1, n), **options)
        dictionary = BlockDictionary(ds)
        box = default_box(ds)
        fast = search_exhaustive(dictionary, objective="parameters", count_bias=count_bias, box=box)
        with monkeypatch.context() as off:
            off.setattr(exhaustive, "MAX_COLUMN_SETS", 0)
            slow = search_exhaustive(dictionary, objective="parameters", count_bias=count_bias, box=box)
        assert (fast.status, fast.lower_bound, fast.upper_bound, fast.n_lps) == \
            (slow.status, slow.lower_bound, slow.upper_bound, slow.n_lps), trial
        _check_certificate(dictionary, fast, objective="parameters", count_bias=count_bias)
    assert sum(pruned) > 0


def test_generic_data_need_one_counted_weight_per_point():
    """With biases counted and no skip or output bias, y is in the span of k design columns only
    by accident when k < N: the optimum of generic data is N. The peer's own N = 5 data
    (changwon22/Maximizing-Sparsity-in-NN-with-MIP) is proven at 5 by the column-set test,
    with few LPs."""
    np.random.seed(0)
    X = np.random.uniform(-1, 1, size=(5, 2)).astype(np.float32).astype(np.float64)
    y = np.random.uniform(-1, 1, size=(5, 1)).astype(np.float32).astype(np.float64).ravel()
    ds = Dataset.from_arrays(X, y)
    dictionary = BlockDictionary(ds)
    result = search_exhaustive(dictionary, objective="parameters", count_bias=True, box=default_box(ds))
    assert _check_certificate(dictionary, result, objective="parameters", count_bias=True) == 5
    assert result.n_lps < 2000


def test_a_batch_ruled_out_whole_still_reads_the_clock():
    """The column-set test can rule out every tuple of a batch with no LP; the cached batches of
    a size are then replayed with no other clock read (a 30 s search had taken 42 s)."""
    from sparsest.exact.highs import OutOfTime

    rng = np.random.default_rng(5)
    ds = Dataset.from_arrays(rng.uniform(-1, 1, (6, 2)), rng.uniform(-1, 1, 6))
    search = _Search(BlockDictionary(ds), "parameters", True, None, seed=0)
    batch = np.array([[0, 1, 2], [1, 2, 3]])
    assert not search.pruner.columns_reach(batch, search._maximal_column_sets(3, 4), _Counter()).any()
    assert search._try(batch, 4, math.inf, _Counter()) is None
    with pytest.raises(OutOfTime):
        search._try(batch, 4, time.monotonic() - 1.0, _Counter())
    with pytest.raises(OutOfTime):  # one call can meet thousands of column sets (d = 50)
        search.pruner.columns_reach(batch, search._maximal_column_sets(3, 4), _Counter(), time.monotonic() - 1.0)


@pytest.mark.parametrize("case", [(2, 12, 4, 3), (3, 10, 3, 603), (2, 14, 4, 21)])
def test_a_search_cache_carries_the_set_up_and_changes_no_bound(case):
    """A first pass stopped early (at a size, or by its clock inside one), then a search from its
    lower bound on the same cache: the same search object, and the bounds and per-size tuples of
    one search from scratch."""
    dictionary = BlockDictionary(planted_instance(*case))
    fresh = search_exhaustive(dictionary, time_limit=120)
    for first_pass in ({"upper": 2}, {"time_limit": 0.05}):
        cache = SearchCache()
        first = search_exhaustive(dictionary, cache=cache, **first_pass)
        built = cache._search
        main = search_exhaustive(dictionary, time_limit=120, known_lower=first.lower_bound, cache=cache)
        assert cache._search is built
        assert (main.status, main.lower_bound, main.upper_bound) == \
            (fresh.status, fresh.lower_bound, fresh.upper_bound), (case, first_pass)
        again = fresh.levels[main.levels[0].size:-1]
        assert [(level.tuples, level.span_pruned) for level in main.levels[:-1]] == \
            [(level.tuples, level.span_pruned) for level in again]
        # (the probe does not decide again a support it decided in the first pass)
        assert all(ours.lps <= theirs.lps for ours, theirs in zip(main.levels, again))
    search_exhaustive(dictionary, objective="parameters", upper=1, cache=cache)
    assert cache._search is not built  # other settings: a search of their own


def test_an_lp_doubted_in_a_first_pass_is_doubted_again_on_its_cache(monkeypatch):
    real = exhaustive._FeasibilityLP.feasible

    def doubtful(self, blocks, mask):
        return "undecided" if len(blocks) == 2 and sum(blocks) % 3 == 0 else real(self, blocks, mask)

    monkeypatch.setattr(exhaustive._FeasibilityLP, "feasible", doubtful)
    dictionary = BlockDictionary(planted_instance(3, 10, 3, 603))  # optimum 3, doubts at size 2
    cache = SearchCache()
    first = search_exhaustive(dictionary, upper=3, cache=cache)
    assert first.lower_bound == 2 and first.status != "optimal"
    main = search_exhaustive(dictionary, time_limit=120, known_lower=first.lower_bound, cache=cache)
    assert main.status == "undecided" and main.lower_bound == 2 and main.upper_bound == 3


def test_the_search_runs_on_one_blas_thread(monkeypatch):
    """Two searches side by side must not each spin BLAS threads on every core (see BLAS_THREADS)."""
    from threadpoolctl import threadpool_info

    seen = []
    real = _Search.level

    def level(self, *args, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_Search, "level", level)
    search_exhaustive(BlockDictionary(planted_instance(2, 10, 3, 5)), time_limit=60)
    assert seen and set(seen) == {exhaustive.BLAS_THREADS}
