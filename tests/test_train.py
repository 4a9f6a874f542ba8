"""The l^p trainer: the step's math against autograd / torch.optim, the proximal step on hand-made
tensors, exact merging, determinism, honest failure reports, option checks."""

import math

import numpy as np
import pytest
import torch

from sparsest.core.dataset import Dataset, load_dataset
from sparsest.errors import SparsestError
from sparsest.training.trainer import (
    LpTrainer,
    adam_update_,
    merge_duplicates_,
    mse_gradients,
    proximal_step,
    rebalance,
)

torch.set_default_dtype(torch.float64)
PEAK = Dataset.from_arrays([-2, -1, 0, 1, 2, 3], [0, 0, 1, 1, 0, 0], name="peak_plateau")


def tensors(rng, K, d):
    return [torch.tensor(rng.normal(size=shape)) for shape in ((K, d), (K,), (K,), (d,), (1,))]


def forward(X, W, b, v, a=None, c=None):
    out = torch.relu(X @ W.T + b) @ v
    if a is not None:
        out = out + X @ a
    if c is not None:
        out = out + c
    return out


@pytest.mark.parametrize("skip", [True, False])
def test_hand_written_gradients_match_autograd(skip):
    rng = np.random.default_rng(int(skip))
    for _ in range(10):
        N, K, d = 7, 5, 3
        X, y = torch.tensor(rng.normal(size=(N, d))), torch.tensor(rng.normal(size=N))
        W, b, v, a, c = tensors(rng, K, d)
        if not skip:
            a = c = None
        r, *grads = mse_gradients(X, y, W, b, v, a, c)
        leaves = [t.clone().requires_grad_(True) for t in (W, b, v) + ((a, c) if skip else ())]
        loss = ((forward(X, *leaves) - y) ** 2).mean()
        loss.backward()
        assert torch.allclose(r, forward(X, W, b, v, a, c) - y)
        for mine, leaf in zip(grads, leaves):
            assert torch.allclose(mine, leaf.grad, atol=1e-12)


def test_adam_update_matches_torch_optim_adam():
    rng = np.random.default_rng(2)
    theta = torch.tensor(rng.normal(size=9))
    reference = theta.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([reference], lr=0.01)
    m, s = torch.zeros(9), torch.zeros(9)
    for step in range(1, 30):
        grad = torch.tensor(rng.normal(size=9))
        adam_update_(theta, grad, m, s, step, 0.01)
        reference.grad = grad.clone()
        optimiser.step()
        assert torch.allclose(theta, reference.detach(), atol=1e-15)


def test_proximal_step_thresholds_path_weights_by_the_reweighted_rule():
    v = torch.tensor([2.0, -1.0, 0.5])
    W = torch.tensor([[1.5], [2.0], [0.1]])
    b = torch.tensor([1.0, -2.0, 3.0])
    previous = torch.tensor([[3.0], [-2.0], [0.05]])
    lam_lr, p = 0.1, 0.5
    u = proximal_step(v.clone(), W.clone(), b.clone(), previous, threshold=lam_lr, p=p)
    C = lam_lr * p * previous.abs() ** (p - 1)
    expected = torch.sign(v[:, None] * W) * torch.clamp((v[:, None] * W).abs() - C, min=0)
    assert torch.allclose(u, expected)
    assert u[2, 0] == 0.0  # |u| = 0.05 < C = 0.1 * 0.5 / sqrt(0.05)
    # p = 1: C = lambda * lr, whatever u_prev is
    u1 = proximal_step(v.clone(), W.clone(), b.clone(), previous, threshold=lam_lr, p=1.0)
    assert torch.allclose(u1, torch.sign(v[:, None] * W) * torch.clamp((v[:, None] * W).abs() - lam_lr, min=0))


def test_a_path_weight_that_reached_zero_stays_zero_and_kills_the_neuron():
    v, W, b = torch.tensor([1.0, 1.0]), torch.tensor([[5.0, 0.3], [0.2, 0.1]]), torch.tensor([0.0, 1.0])
    previous = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # zeros: weights that already died
    u = proximal_step(v, W, b, previous, threshold=1e-6, p=0.4)
    assert u[0, 1] == 0.0 and W[0, 1] == 0.0 and u[0, 0] != 0.0
    assert v[1] == 0.0 and torch.all(W[1] == 0.0)  # all its path weights died: v = 0 too


def test_proximal_step_with_bias_path_weights():
    v, W, b = torch.tensor([2.0]), torch.tensor([[1.0, -1.0]]), torch.tensor([0.01])
    previous = torch.tensor([[2.0, -2.0, 0.02]])
    u = proximal_step(v, W, b, previous, threshold=0.01, p=0.5, count_bias=True)
    assert u[0, 2] == 0.0 and b[0] == 0.0  # the bias path weight v b = 0.02 fell under its threshold
    assert torch.isclose(v[0].abs(), torch.linalg.vector_norm(W[0]))


def test_rebalancing_preserves_the_function_and_balances():
    rng = np.random.default_rng(4)
    X = torch.tensor(rng.normal(size=(20, 3)))
    for count_bias in (False, True):
        W, b, v, _, _ = tensors(rng, 12, 3)
        v[3] = 0.0
        W[5], b[5] = 0.0, -1.0  # w = 0, zero output: dead unless its bias path weight counts
        before = forward(X, W, b, v)
        rebalance(v, W, b, count_bias=count_bias)
        assert torch.allclose(forward(X, W, b, v), before, rtol=0, atol=1e-13)
        norms = torch.linalg.vector_norm(torch.hstack([W, b[:, None]]) if count_bias else W, dim=1)
        live = (torch.arange(12) != 5) & (torch.arange(12) != 3)
        assert torch.allclose(v.abs()[live], norms[live])
        assert v[3] == 0.0 and (v[5] == 0.0) == (not count_bias)


def test_rebalancing_is_exact_on_live_neurons():
    rng = np.random.default_rng(8)
    X = torch.tensor(rng.normal(size=(15, 2)))
    W, b, v, _, _ = tensors(rng, 9, 2)
    before = forward(X, W, b, v)
    rebalance(v, W, b)
    assert torch.allclose(forward(X, W, b, v), before, rtol=0, atol=1e-13)


@pytest.mark.parametrize("skip", [True, False])
def test_merging_in_training_is_exact_on_the_data_and_never_raises_the_penalty(skip):
    rng = np.random.default_rng(10 + skip)
    for _ in range(20):
        N, d, K = 6, int(rng.integers(1, 3)), 25
        X = torch.tensor(rng.normal(size=(N, d)))
        X_tilde = torch.hstack([X, torch.ones(N, 1)])
        W, b, v, a, c = tensors(rng, K, d)
        scales = torch.tensor(rng.uniform(0.5, 2.0, size=K // 2))
        b[0] = -float((X @ W[0]).median())  # neuron 0 splits the data
        W[: K // 2], b[: K // 2] = scales[:, None] * W[0], scales * b[0]  # positive multiples of it
        if not skip:
            a = c = None
        anchor = int(np.lexsort(X.numpy().T[::-1])[0]) if skip else None
        before, penalty = forward(X, W, b, v, a, c), (v[:, None] * W).abs().pow(0.4).sum()
        gone = merge_duplicates_(v, W, b, a, c, X_tilde, anchor)
        assert gone > 0
        assert torch.allclose(forward(X, W, b, v, a, c), before, atol=1e-10)
        assert (v[:, None] * W).abs().pow(0.4).sum() <= penalty + 1e-12


def test_same_seed_same_numbers_and_different_seeds_differ():
    def run(seed, schedule):
        out = LpTrainer(width=12, steps=600, seed=seed, schedule=schedule, history_every=100).fit(PEAK).result_.to_json()
        out.pop("seconds"), out.pop("cpu_seconds"), out.pop("polish_seconds")
        return out

    for schedule in ("paper", "continuation"):
        first, again = run(3, schedule), run(3, schedule)
        assert first == again
        assert first["network"] != run(4, schedule)["network"]
        assert len(first["history"]) >= 5


def test_a_run_that_does_not_fit_is_reported_as_a_failure():
    # The published scheme after 10 steps (the default schedule's finishing phase would interpolate).
    result = LpTrainer(steps=10, width=10, polish=False, schedule="paper").fit(PEAK).result_
    assert not result.interpolates and result.fit in ("failed", "collapsed") and not result.fits
    assert result.max_abs_residual > result.tolerances["fit"]
    assert result.polished is None and result.to_json()["polished"] is None


def test_continuation_reaches_the_certified_optimum_on_the_paper_example():
    for seed in (0, 1):
        trainer = LpTrainer(p=0.4, schedule="continuation", seed=seed).fit(PEAK)
        result = trainer.result_
        assert result.fits and result.neurons == 3 and result.neurons_raw == 3
        assert result.polished.feasible and result.polished.check.interpolates
        assert result.polished.check.neurons == 3
        assert trainer.network_.count_neurons(PEAK.X, PEAK.count_tol) == 3
        assert np.max(np.abs(trainer.polished_network_(PEAK.X) - PEAK.y)) <= PEAK.interpolation_tol


def test_every_method_runs_and_reports_consistent_counts():
    data = load_dataset("instances/square_corners_2d.json")
    for method in ("lp", "lp-smooth", "weight-decay", "l1-path", "none"):
        result = LpTrainer(method=method, width=16, steps=400, count_bias=True).fit(data).result_
        assert result.method == method and result.steps <= 400
        assert result.neurons <= result.neurons_raw <= 16
        assert result.parameters <= 3 * result.neurons  # 2 path weights + 1 bias per neuron
        if result.polished.feasible:
            assert result.polished.check.interpolates
            assert result.polished.check.neurons <= result.neurons
    assert LpTrainer(method="l1-path", steps=100, width=4).fit(PEAK).result_.p == 1.0


def test_history_is_sampled_and_describes_the_run():
    result = LpTrainer(width=10, steps=1000, history_every=300, patience=0).fit(PEAK).result_
    steps = [row["step"] for row in result.history]
    assert steps == sorted(steps) and steps[0] == 100 and steps[-1] == 1000
    assert all(set(row) == {"step", "lambda", "mse", "max_abs_residual", "neurons_raw", "neurons"} for row in result.history)


@pytest.mark.parametrize("options", [
    {"p": 0.0}, {"p": 1.5}, {"p": float("nan")}, {"method": "adamw"}, {"schedule": "cosine"},
    {"width": 0}, {"steps": 0}, {"steps": 2.5}, {"lam": -1.0}, {"lr": 0.0}, {"seed": -1},
    {"tol": 0.0}, {"patience": -5}, {"skip": "yes"}, {"snaps": ("a",)}, {"p": True},
])
def test_bad_options_raise_one_line_errors(options):
    with pytest.raises(SparsestError) as err:
        LpTrainer(**options).fit(PEAK)
    assert "\n" not in str(err.value)


def test_fit_needs_a_dataset():
    with pytest.raises(SparsestError):
        LpTrainer().fit([[0, 1], [1, 2]])


def test_skip_option_overrides_the_dataset():
    result = LpTrainer(width=6, steps=200, skip=False).fit(PEAK).result_
    assert result.settings["skip"] is False and result.network.a is None and result.network.c is None
    assert math.isfinite(result.max_abs_residual)


# ---------------------------------------------------------------------- the command line
def run_cli(capsys, *argv):
    from sparsest.cli.main import main

    try:
        code = main(["train", *argv])
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


CONTRACT = {"method", "p", "seed", "neurons", "neurons_raw", "parameters", "interpolates", "max_abs_residual",
            "steps", "seconds", "polished", "network", "history", "settings", "tolerances"}


def test_cli_json_is_the_contract(capsys):
    import json

    code, out, err = run_cli(capsys, "instances/peak_plateau.json", "--json", "--steps", "300", "--width", "12")
    assert code == 0 and err == ""
    result = json.loads(out)
    assert CONTRACT <= set(result)
    assert {"v", "W", "b", "a", "c"} == set(result["network"])
    assert {"neurons", "parameters", "interpolates", "max_abs_residual", "network", "feasible"} <= set(result["polished"])
    assert result["settings"]["steps"] == 300 and result["settings"]["schedule"] == "continuation"


def test_cli_convex_methods_and_human_summary(capsys):
    import json

    code, out, _ = run_cli(capsys, "instances/zigzag.json", "--method", "convex-reweighted", "--json")
    result = json.loads(out)
    assert code == 0 and result["neurons"] == 6 and result["interpolates"] is True
    code, out, _ = run_cli(capsys, "instances/peak_plateau.json", "--method", "convex-l1")
    assert code == 0 and "neurons" in out and "interpolates" in out
    code, out, _ = run_cli(capsys, "instances/peak_plateau.json", "--steps", "10", "--no-polish",
                             "--schedule", "paper")
    assert code == 0 and "FAILED to fit" in out and "polished" not in out


@pytest.mark.parametrize("argv", [
    ["--p", "0"], ["--p", "1.5"], ["--p", "abc"], ["--method", "adam"], ["--width", "0"], ["--steps", "-3"],
    ["--lr", "-1"], ["--schedule", "cosine"], ["--method", "convex-l1", "--box", "-2"],
])
def test_cli_bad_options_are_one_line_and_exit_2(capsys, argv):
    code, out, err = run_cli(capsys, "instances/peak_plateau.json", *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_cli_bad_file(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path in (str(bad), str(tmp_path / "missing.json")):
        code, out, err = run_cli(capsys, path)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_the_estimator_defaults_are_the_command_line_defaults(capsys):
    import json

    from sparsest.cli.main import main

    assert main(["train", "instances/collinear_run.json", "--json", "--no-polish"]) == 0
    cli = json.loads(capsys.readouterr().out)["settings"]
    own = LpTrainer(polish=False).resolved_settings(load_dataset("instances/collinear_run.json"))
    assert cli == own and own["schedule"] == "continuation" and own["coordinates"] == "normalized"
    paper = LpTrainer(schedule="paper").resolved_settings(PEAK)
    assert (paper["width"], paper["lam"], paper["steps"], paper["init"], paper["finish"]) == (80, 3e-3, 100_000, "torch", False)
