"""The files of a comparison: ``results.json``, ``results.csv`` (one row per run), ``report.md``
and the PNG figures, plus the plain-text summary the command prints.

Everything is built in memory first and then written file by file through
:func:`sparsest.files.write_atomic`, so a failure leaves no half-written file behind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tabulate import tabulate

from sparsest.comparison.compare import Comparison, InstanceComparison, SummaryRow, group_label, proven_optimum
from sparsest.comparison.records import ExactRecord, RunRecord
from sparsest.errors import SparsestError
from sparsest.files import write_atomic
from sparsest.comparison.plots import instance_figures, slug

#: The columns of results.csv, in order.
CSV_COLUMNS = ("instance", "method", "p", "seed", "interpolates", "max_abs_residual", "neurons",
               "parameters", "neurons_raw", "max_path_weight", "hit", "polished_interpolates",
               "polished_neurons", "polished_parameters", "polished_max_path_weight", "hit_polished",
               "fit", "stopped", "steps", "seconds")


@dataclass(frozen=True)
class ReportFiles:
    """Where :func:`write_report` put things: the folder and every file written."""

    folder: Path
    report: Path
    json: Path
    csv: Path
    figures: tuple[Path, ...]


# ---------------------------------------------------------------------- JSON
def _plain(value):
    """JSON-ready copy: numpy scalars/arrays become Python numbers/lists, non-finite floats null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def results_json(comparison: Comparison) -> str:
    """The comparison as JSON text (``Comparison.to_json()``; non-finite numbers written as null)."""
    return json.dumps(_plain(comparison.to_json()), indent=1, allow_nan=False) + "\n"


# ---------------------------------------------------------------------- CSV
def runs_csv(comparison: Comparison) -> str:
    """One row per run with the columns :data:`CSV_COLUMNS` (empty cell: not applicable)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for instance in comparison.instances:
        for run in instance.runs:
            row = _csv_row(instance.name, run)
            writer.writerow(["" if row[col] is None else _plain(row[col]) for col in CSV_COLUMNS])
    return buffer.getvalue()


def _csv_row(instance: str, run: RunRecord) -> dict:
    """The cells of one run, by :data:`CSV_COLUMNS` name (None: not applicable)."""
    trained, polished = run.trained, run.polished
    return {
        "instance": instance, "method": run.method, "p": run.p, "seed": run.seed,
        "interpolates": trained.interpolates, "max_abs_residual": run.max_abs_residual,
        "neurons": trained.neurons, "parameters": trained.parameters, "neurons_raw": run.neurons_raw,
        "max_path_weight": trained.max_path_weight, "hit": run.hit,
        "polished_interpolates": None if polished is None else polished.interpolates,
        "polished_neurons": None if polished is None else polished.neurons,
        "polished_parameters": None if polished is None else polished.parameters,
        "polished_max_path_weight": None if polished is None else polished.max_path_weight,
        "hit_polished": run.hit_polished, "fit": run.fit, "stopped": run.stopped, "steps": run.steps,
        "seconds": run.seconds,
    }


# ---------------------------------------------------------------------- tables
def _number(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}g}"
    return str(int(value)) if isinstance(value, float) else str(value)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


#: The one legend line of every summary table.
TABLE_LEGEND = ("interpolate: share of runs whose network interpolates at the tolerance (docs/math.md §6); "
                "hits: share that also has the certified optimum's count; +polish: the same runs after the "
                "exact LP on their trained support; neurons: median (best) over the interpolating runs; "
                "s: median seconds of a training run / of its polish alone.")


def _counts(median, best) -> str:
    return "-" if median is None else f"{_number(median)} ({_number(best)})"


def summary_table(rows: tuple[SummaryRow, ...], tablefmt: str = "github") -> str:
    """One line per (method, p): the trained networks' interpolation and hit rates, then the same
    for their polish (when there is one), counts and times; :data:`TABLE_LEGEND` explains it."""
    header = ["method", "runs", "interpolate", "hits", "+polish interpolate", "+polish hits",
              "neurons", "+polish neurons", "params", "s", "polish s"]
    polished = {(r.method, r.p): r for r in rows if r.stage == "polished"}
    body = []
    for r in rows:
        if r.stage != "trained":
            continue
        q = polished.get((r.method, r.p))
        body.append([
            group_label(r.method, r.p), r.runs, _rate(r.interpolation_rate), _rate(r.hit_rate),
            "-" if q is None else _rate(q.interpolation_rate), "-" if q is None else _rate(q.hit_rate),
            _counts(r.median_neurons, r.best_neurons),
            "-" if q is None else _counts(q.median_neurons, q.best_neurons),
            _counts(r.median_parameters, r.best_parameters),
            _seconds(r.median_seconds), "-" if q is None else _seconds(q.median_seconds)])
    return tabulate(body, headers=header, tablefmt=tablefmt, disable_numparse=True)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def exact_sentence(exact: ExactRecord | None) -> str:
    """One line on the certificate: proven optimum, or bounds with the status that left them open."""
    if exact is None:
        return "no certificate"
    objective = exact.objective
    optimum = proven_optimum(exact)
    where = f"{exact.method}, {_number(exact.seconds)} s"
    if exact.network is not None:
        where += f"; its network: {exact.neurons} neurons, {exact.parameters} parameters"
    if exact.box is not None:
        where += f"; box R = {exact.box:.3g}"
    lower, upper = exact.lower_bound, exact.upper_bound
    if optimum is not None:
        return f"certified optimum {optimum} {objective} ({where})"
    if lower is None and upper is None:
        return f"NO bound on {objective} ({exact.status}; {where})"
    return (f"NOT proven ({exact.status}): {'?' if lower is None else lower} <= {objective} <= "
            f"{'?' if upper is None else upper} ({where})")


def _warnings(instance: InstanceComparison) -> list[str]:
    notes = []
    if instance.exact is not None and instance.exact.error:
        notes.append(f"the certificate failed: {instance.exact.error}")
    for run in instance.runs:
        if run.error:
            seed = "" if run.seed is None else f" seed {run.seed}"
            notes.append(f"{group_label(run.method, run.p)}{seed} failed: {run.error}")
    stages: dict[tuple, dict[str, SummaryRow]] = {}
    for row in instance.summary:
        stages.setdefault((row.method, row.p), {})[row.stage] = row
        label = group_label(row.method, row.p, row.stage)
        if row.below_bound:
            notes.append(f"{label}: {row.below_bound} interpolating run(s) below the "
                         "certified lower bound — one side is wrong (or the tolerances differ); investigate")
        if row.outside_box:
            notes.append(f"{label}: {row.outside_box} interpolating run(s) leave the certificate's box "
                         f"R = {instance.exact.box:.3g} (max |v_k w_kj| > R): the certified bounds do not cover them")
    for (method, p), rows in stages.items():
        if all(row.interpolating == 0 for row in rows.values()):
            polish = " nor after the polish" if "polished" in rows else ""
            notes.append(f"{group_label(method, p)}: no run interpolates{polish} — all are failures (docs/math.md §5)")
    return notes


def text_summary(comparison: Comparison) -> str:
    """What the command prints: per instance, the certificate line, warnings and the summary table."""
    blocks = []
    for instance in comparison.instances:
        ds = instance.dataset
        lines = [f"{instance.name} (N={ds.n_points}, d={ds.dim}): {exact_sentence(instance.exact)}"]
        lines += [f"  warning: {note}" for note in _warnings(instance)]
        lines.append(summary_table(instance.summary, tablefmt="simple"))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks + [TABLE_LEGEND])


# ---------------------------------------------------------------------- markdown
def report_markdown(comparison: Comparison, figures: dict[str, list[str]]) -> str:
    """report.md: settings, then per instance the certificate, the summary table, the figures
    (``figures[name]``: file names relative to the report) and the per-run table."""
    s = comparison.settings
    out = [
        "# sparsest compare",
        "",
        f"Methods {', '.join(s.get('methods', []))}; p in {s.get('ps')} (l^p methods only); "
        f"{s.get('seeds')} seed(s); certificate objective: {s.get('objective')}, time limit "
        f"{s.get('time_limit')} s, {_box_setting(s.get('box'))}; trainer options "
        f"{json.dumps(s.get('train_options', {}))}.",
        "",
        TABLE_LEGEND,
        "",
        "A run that does not interpolate is a failure whatever its count (docs/math.md §5); no hit "
        "rate is given when the certificate's gap is open. The polish is "
        "sparsest.training.extract.polish. All runs: `results.csv`; everything: `results.json`.",
        "",
    ]
    for instance in comparison.instances:
        ds = instance.dataset
        options = "skip term" if ds.skip else ("output bias" if ds.output_bias else "no skip term")
        exact = instance.exact
        out += [f"## {instance.name}", "",
                f"N = {ds.n_points}, d = {ds.dim}, {options}. **{exact_sentence(exact)}**.", ""]
        if exact is not None and exact.assumptions:
            out += [f"Certificate assumptions: {_assumptions(exact.assumptions)}.", ""]
        out += [f"> warning: {note}" for note in _warnings(instance)]
        out += ["", summary_table(instance.summary), ""]
        for name in figures.get(instance.name, []):
            out += [f"![{name}]({name})", ""]
        out += ["<details><summary>every run</summary>", "", _runs_table(instance), "", "</details>", ""]
    return "\n".join(out)


def _box_setting(box) -> str:
    """The sweep's box option: a given R, or the certifier's own default (stated per instance)."""
    return "box R = {box:g}".format(box=box) if box is not None else \
        "box R: the certifier's default for each multivariate instance (stated with its certificate)"


def _assumptions(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k} = {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    return str(value)


def _runs_table(instance: InstanceComparison) -> str:
    header = ["method", "seed", "interpolates", "max residual", "neurons", "params", "hit",
              "polished: fits", "neurons", "params", "hit", "s"]
    yes_no = {True: "yes", False: "NO", None: "-"}
    hit = {True: "yes", False: "no", None: "-"}
    body = []
    for r in instance.runs:
        trained, polished = r.trained, r.polished
        body.append([group_label(r.method, r.p), _number(r.seed), yes_no[trained.interpolates],
                     _number(r.max_abs_residual), _number(trained.neurons), _number(trained.parameters), hit[r.hit],
                     "-" if polished is None else yes_no[polished.interpolates],
                     _number(None if polished is None else polished.neurons),
                     _number(None if polished is None else polished.parameters),
                     hit[r.hit_polished], f"{r.seconds:.2f}"])
    return tabulate(body, headers=header, tablefmt="github", disable_numparse=True)


# ---------------------------------------------------------------------- files
#: The list of files a report wrote, kept in its folder so that the next report into the same
#: folder removes exactly those (and never a file it did not write).
MANIFEST = ".sparsest-report"


def check_output_folder(folder: str | Path) -> Path:
    """Raise :class:`SparsestError` unless ``folder`` is a writable folder, or can be created as
    one (its nearest existing parent is a writable folder); leaves nothing behind (the probe is a
    temporary file). Call it before any work."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise SparsestError(f"--out {folder}: exists and is not a folder")
    parent = next((p for p in folder.absolute().parents if p.exists()), None)
    if not folder.exists() and parent is not None and not parent.is_dir():
        raise SparsestError(f"--out {folder}: {parent} is not a folder")
    where = folder if folder.exists() else parent
    if where is not None:
        try:  # a real probe (permission bits say nothing for root or on a read-only file system)
            with tempfile.TemporaryFile(dir=where):
                pass
        except OSError as err:
            raise SparsestError(f"--out {folder}: {where} is not writable ({err.strerror or err})") from None
    return folder


def _previous_files(folder: Path) -> list[Path]:
    """The files an earlier report listed in the folder's manifest (only plain names inside it)."""
    try:
        names = (folder / MANIFEST).read_text().split("\n")
    except OSError:
        return []
    return [folder / name for name in names if name and Path(name).name == name and name != MANIFEST]


def write_report(comparison: Comparison, folder: str | Path) -> ReportFiles:
    """Write results.json, results.csv, the figures and report.md into ``folder`` (created if
    needed). Every file is rendered in memory before the first one is written, and each is
    written atomically. The files of an earlier report into the same folder (its manifest
    :data:`MANIFEST`) that this one does not rewrite are removed, so no stale figure looks like
    part of this report; other files are left alone."""
    folder = check_output_folder(folder)
    payload: dict[str, str | bytes] = {"results.json": results_json(comparison), "results.csv": runs_csv(comparison)}
    figure_names: dict[str, list[str]] = {}
    bases: set[str] = set()
    for number, instance in enumerate(comparison.instances, start=1):
        base = slug(instance.name)
        base = base if base not in bases else f"{base}_{number}"
        bases.add(base)
        images = instance_figures(instance, base)
        payload.update(images)
        figure_names[instance.name] = list(images)
    payload["report.md"] = report_markdown(comparison, figure_names)
    try:
        for stale in _previous_files(folder):
            if stale.name not in payload and stale.is_file():
                stale.unlink()
        for name, data in payload.items():
            write_atomic(folder / name, data)
        write_atomic(folder / MANIFEST, "\n".join(payload) + "\n")
    except OSError as err:
        raise SparsestError(f"--out {folder}: cannot write ({err.strerror or err})") from None
    return ReportFiles(
        folder=folder, report=folder / "report.md", json=folder / "results.json", csv=folder / "results.csv",
        figures=tuple(folder / n for names in figure_names.values() for n in names),
    )
