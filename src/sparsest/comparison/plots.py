"""Figures of a comparison, as PNG bytes (matplotlib's object API on the Agg canvas; no pyplot
state, no files — ``report.py`` writes them).

Per instance (see :func:`instance_figures`):
* ``counts`` — neurons and parameters of every run by (method, p), the certified optimum (or its
  bounds) as a line (band); runs that do not interpolate are red crosses (failures, docs/math.md §5);
* ``interpolants`` (d = 1) — the data, the certified sparsest interpolant with its knots
  t_k = -b_k / w_k marked, and one trained interpolant per (method, p) (the lowest seed);
* ``lines`` (d = 2) — the fitted surface f over the data's box, the data, and the lines
  w_k . x + b_k = 0 of the active neurons, for the certificate and one run per (method, p);
* ``training`` — active neurons and the MSE against the step, from the trainers' histories.
"""

from __future__ import annotations

import io
import re

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sparsest.comparison.compare import InstanceComparison, group_label, proven_optimum, stage_outcome
from sparsest.comparison.records import ExactRecord, RunRecord
from sparsest.core.dataset import Dataset

_FAIL_COLOR = "#d62728"
_EXACT_COLOR = "black"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def _colors(n: int) -> list:
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    return [palette[i % len(palette)] for i in range(n)]


def representatives(runs) -> list[RunRecord]:
    """The first run (lowest seed, plan order) of every (method, p) group."""
    seen, chosen = set(), []
    for run in runs:
        key = (run.method, run.p)
        if key not in seen:
            seen.add(key)
            chosen.append(run)
    return chosen


def _neurons(n) -> str:
    return f"{n} neuron" if n == 1 else f"{n} neurons"


def _run_title(run: RunRecord, with_polish: bool = True) -> str:
    seed = "" if run.seed is None else f" seed {run.seed}"
    fit = "" if run.trained.interpolates else ", NO FIT"
    polished = stage_outcome(run, "polished") if with_polish else None
    extra = ""
    if polished is not None:
        extra = f"; polished {polished.neurons}" if polished.interpolates else "; polish infeasible"
    return f"{group_label(run.method, run.p)}{seed}: {_neurons(run.trained.neurons)}{fit}{extra}"


def _exact_title(exact: ExactRecord) -> str:
    optimum = proven_optimum(exact)
    if optimum is not None:
        return f"certified optimum: {optimum} {exact.objective}"
    lower, upper = exact.lower_bound, exact.upper_bound
    if lower is None and upper is None:
        return f"certificate {exact.status}: no bound"
    return (f"certificate {exact.status}: {'?' if lower is None else lower} <= "
            f"{exact.objective} <= {'?' if upper is None else upper}")


# ---------------------------------------------------------------------- counts
def counts_figure(name: str, exact: ExactRecord | None, runs) -> bytes:
    """Neurons (left) and parameters (right) of every run, grouped by (method, p): the trained
    network (circle) and its polish (triangle, just right of it); red crosses do not interpolate."""
    runs = list(runs)
    labels = list(dict.fromkeys(group_label(r.method, r.p) for r in runs))
    fig = Figure(figsize=(min(16.0, max(7.0, 1.1 * len(labels) + 3.0)), 7.0), layout="constrained")
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    markers = {"trained": ("o", -0.12, "#1f77b4"), "polished": ("^", 0.12, "#2ca02c")}
    legend = {"trained": "trained (interpolates)", "polished": "+ exact polish (interpolates)",
              "failed": "no fit: a failure"}
    for ax, key in zip(fig.subplots(2, 1, sharex=True), ("neurons", "parameters")):
        drawn = set()  # the legend names only the markers this panel shows
        for run in runs:
            x = labels.index(group_label(run.method, run.p))
            for stage, (marker, shift, color) in markers.items():
                outcome = stage_outcome(run, stage)
                if outcome is None or outcome.count(key) is None:
                    continue
                where = x + shift + rng.uniform(-0.06, 0.06)
                if outcome.interpolates:
                    ax.plot(where, outcome.count(key), marker, color=color, alpha=0.75, ms=6)
                    drawn.add(stage)
                else:
                    ax.plot(where, outcome.count(key), "x", color=_FAIL_COLOR, ms=8, mew=2)
                    drawn.add("failed")
        _count_reference(ax, exact, key)
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_ylabel(key)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        for stage, (marker, _, color) in markers.items():
            if stage in drawn:
                ax.plot([], [], marker, color=color, label=legend[stage])
        if "failed" in drawn:
            ax.plot([], [], "x", color=_FAIL_COLOR, mew=2, label=legend["failed"])
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(f"{name}: {_exact_title(exact)}")
    return _png(fig)


def _count_reference(ax, exact: ExactRecord | None, key: str) -> None:
    """The certified optimum (line), its bounds (band), or the certified network's count."""
    if exact is None:
        return
    if exact.objective == key:
        optimum = proven_optimum(exact)
        if optimum is not None:
            ax.axhline(optimum, color=_EXACT_COLOR, lw=1.5, ls="--", label=f"certified optimum {optimum}")
        elif exact.lower_bound is not None and exact.upper_bound is not None:
            ax.axhspan(exact.lower_bound, exact.upper_bound, color="0.85",
                       label=f"certified bounds [{exact.lower_bound}, {exact.upper_bound}]")
    elif exact.count(key) is not None:
        count = exact.count(key)
        ax.axhline(count, color="0.4", lw=1, ls=":", label=f"certified network: {count} (not minimised)")


# ---------------------------------------------------------------------- 1-D
def interpolants_figure(dataset: Dataset, exact: ExactRecord | None, runs) -> bytes:
    """d = 1: the data, the certified interpolant with its knots, one trained interpolant per group."""
    x, y = dataset.X[:, 0], dataset.y
    span = max(float(x.max() - x.min()), 1e-12)
    grid = np.linspace(x.min() - 0.08 * span, x.max() + 0.08 * span, 1200)
    fig = Figure(figsize=(8.5, 5.0), layout="constrained")
    ax = fig.subplots()
    chosen = representatives(runs)
    for run, color in zip(chosen, _colors(len(chosen))):
        net = run.trained.network
        if net is None:
            continue
        style = "-" if run.trained.interpolates else "--"
        ax.plot(grid, net(grid), style, color=color, lw=1.3, alpha=0.85, label=_run_title(run, with_polish=False))
        outcome = stage_outcome(run, "polished")
        if outcome is not None and outcome.network is not None:
            ax.plot(grid, outcome.network(grid), ":", color=color, lw=1.6,
                    label=f"  + polish: {_neurons(outcome.neurons)}")
        elif outcome is not None:
            ax.plot([], [], ":", color=color, label="  + polish: infeasible")
    exact_net = None if exact is None else exact.network
    if exact_net is not None:
        ax.plot(grid, exact_net(grid), color=_EXACT_COLOR, lw=2.2, label=_exact_title(exact), zorder=4)
        active = exact_net.active_mask(dataset.X, dataset.count_tol) & (exact_net.W[:, 0] != 0)
        knots = -exact_net.b[active] / exact_net.W[active, 0]
        ax.plot(knots, exact_net(knots), "D", color="white", mec=_EXACT_COLOR, mew=1.8, ms=8,
                zorder=5, label=f"certified knots ({len(knots)})")
    ax.plot(x, y, "o", color=_FAIL_COLOR, ms=7, zorder=6, label="data")
    shown = np.concatenate([y, exact_net(grid)]) if exact_net is not None else y
    y_span = max(float(shown.max() - shown.min()), 1e-12)  # trained curves may leave this range
    ax.set_ylim(shown.min() - 0.2 * y_span, shown.max() + 0.2 * y_span)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(f"{dataset.name}: sparsest interpolant and trained ones (dashed: no fit; dotted: polished)")
    return _png(fig)


# ---------------------------------------------------------------------- 2-D
def lines_figure(dataset: Dataset, exact: ExactRecord | None, runs, max_panels: int = 6) -> bytes:
    """d = 2: surface, data and neuron lines for the certificate and one run per group."""
    panels = []
    if exact is not None and exact.network is not None:
        panels.append((_exact_title(exact), exact.network))
    for run in representatives(runs):
        if run.trained.network is not None and len(panels) < max_panels:
            panels.append((_run_title(run), run.trained.network))
    cols = min(3, max(1, len(panels)))
    rows = -(-max(1, len(panels)) // cols)
    fig = Figure(figsize=(4.6 * cols, 4.3 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    X, y = dataset.X, dataset.y
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.15 * np.maximum(hi - lo, 1e-12)
    lo, hi = lo - pad, hi + pad
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 160), np.linspace(lo[1], hi[1], 160))
    vmin, vmax = float(y.min()), float(y.max())
    if vmax - vmin < 1e-12:
        vmin, vmax = vmin - 1.0, vmax + 1.0
    image = None
    for ax, (title, net) in zip(axes, panels):
        surface = net(np.column_stack([g0.ravel(), g1.ravel()])).reshape(g0.shape)
        image = ax.imshow(surface, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), aspect="auto",
                          cmap="viridis", vmin=vmin, vmax=vmax)
        ax.contour(g0, g1, surface, levels=8, colors="white", linewidths=0.5, alpha=0.6)
        for k in np.flatnonzero(net.active_mask(X, dataset.count_tol)):
            _draw_line(ax, net.W[k], net.b[k], lo, hi)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", vmin=vmin, vmax=vmax, edgecolors="white",
                   linewidths=1.5, s=60, zorder=5)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=list(axes[:len(panels)]), shrink=0.8, label="f(x) (colour scale of y)")
    fig.suptitle(f"{dataset.name}: fitted surface and neuron lines w.x + b = 0 (red)")
    return _png(fig)


def _draw_line(ax, w: np.ndarray, b: float, lo: np.ndarray, hi: np.ndarray) -> None:
    """The line w0 x1 + w1 x2 + b = 0 across the box [lo, hi]."""
    if abs(w[1]) >= abs(w[0]):
        xs = np.array([lo[0], hi[0]])
        ys = -(b + w[0] * xs) / w[1]
    elif w[0] != 0:
        ys = np.array([lo[1], hi[1]])
        xs = -(b + w[1] * ys) / w[0]
    else:
        return
    ax.plot(xs, ys, color=_FAIL_COLOR, lw=1.6)


# ---------------------------------------------------------------------- training curves
def training_figure(name: str, exact: ExactRecord | None, runs) -> bytes | None:
    """Active neurons (merged blocks; thin: raw neurons) and MSE against the step, one curve per
    group (lowest seed); None when no run has a training history."""
    chosen = [r for r in representatives(runs) if r.history]
    if not chosen:
        return None
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    ax_n, ax_l = fig.subplots(1, 2)
    for run, color in zip(chosen, _colors(len(chosen))):
        rows = run.history
        steps = np.array([h["step"] for h in rows], dtype=float)
        label = group_label(run.method, run.p) + ("" if run.trained.interpolates else " (no fit)")
        ax_n.step(steps, [h["neurons"] for h in rows], where="post", color=color, label=label,
                  marker="." if len(rows) < 30 else None)
        ax_n.step(steps, [h["neurons_raw"] for h in rows], where="post", color=color, lw=0.7, alpha=0.5)
        mse = np.array([np.nan if h["mse"] is None else h["mse"] for h in rows], dtype=float)
        positive = mse > 0
        ax_l.plot(steps[positive], mse[positive], color=color, label=label, marker="." if len(rows) < 30 else None)
    if exact is not None and exact.objective == "neurons":
        optimum = proven_optimum(exact)
        if optimum is not None:
            ax_n.axhline(optimum, color=_EXACT_COLOR, ls="--", lw=1.2, label=f"certified optimum {optimum}")
    ax_n.set_xlabel("step")
    ax_n.set_ylabel("active neurons (thin: before merging)")
    ax_n.set_ylim(bottom=0)
    ax_l.set_xlabel("step")
    ax_l.set_ylabel("mean squared error")
    ax_l.set_yscale("log")
    for ax in (ax_n, ax_l):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{name}: training (lowest seed of each method)")
    return _png(fig)


# ---------------------------------------------------------------------- all of one instance
def slug(name: str) -> str:
    """A file-name-safe form of an instance name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "instance"


def instance_figures(instance: InstanceComparison, base: str) -> dict[str, bytes]:
    """Every figure of one instance, as {file name: PNG bytes} named ``<base>_<kind>.png``, in
    display order."""
    figures = {f"{base}_counts.png": counts_figure(instance.name, instance.exact, instance.runs)}
    if instance.dataset.dim == 1:
        figures[f"{base}_interpolants.png"] = interpolants_figure(instance.dataset, instance.exact, instance.runs)
    elif instance.dataset.dim == 2:
        figures[f"{base}_lines.png"] = lines_figure(instance.dataset, instance.exact, instance.runs)
    training = training_figure(instance.name, instance.exact, instance.runs)
    if training is not None:
        figures[f"{base}_training.png"] = training
    return figures
