"""The `sparsest` command line: parses, dispatches to one command module, prints. No maths here.

Every command lives in ``sparsest.cli.<name>`` and provides ``register(subparsers)``, which
adds its parser and sets ``handler`` to a function ``(args) -> int`` (the exit code). A
:class:`~sparsest.errors.SparsestError` anywhere becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading

from sparsest import __version__
from sparsest.errors import SparsestError

COMMANDS = ("certify", "train", "compare", "claims")


def load_instance(path: str):
    """:func:`sparsest.load_dataset`, with every notice of the loader (merged points, text read as
    numbers, CSV layout) printed to stderr as ``sparsest: notice: PATH: ...`` lines."""
    from sparsest.core.dataset import load_dataset

    dataset = load_dataset(path)
    for notice in dataset.notices:
        print(f"sparsest: notice: {path}: {notice}", file=sys.stderr)
    return dataset


def error_line(path: str, err: Exception) -> str:
    """The one-line message of an error about the file ``path`` (the path said once, first)."""
    message = str(err)
    return message if message.startswith(str(path)) else f"{path}: {message}"


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit 2), like every other error."""

    def error(self, message: str):  # noqa: D102 (argparse's hook)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="sparsest",
        description="Find and prove the sparsest one-hidden-layer ReLU network that interpolates "
                    "small data, and compare l^p training against it.",
    )
    parser.add_argument("--version", action="version", version=f"sparsest {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    subparsers.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"sparsest.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"sparsest.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that the run unwinds like an interrupt: parallel
    workers are shut down by their pool and nothing half-written is left."""


def _raise_terminated(signum, frame):
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code (143 on SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return int(args.handler(args) or 0)
    except Terminated:
        print("sparsest: terminated", file=sys.stderr)
        return 143
    except SparsestError as err:
        print(f"sparsest: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sparsest: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
