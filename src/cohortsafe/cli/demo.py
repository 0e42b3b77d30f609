"""``cohortsafe demo``: the chain on synthetic data, from LVS export onward."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from cohortsafe.cli._commands import Subparsers, add_command
from cohortsafe.cli._report import Report


def register(groups: Subparsers) -> None:
    parser = add_command(groups, "demo", _demo, "run the chain on a handful of synthetic schools")
    parser.add_argument("--schools", type=int, default=5, help="number of synthetic schools")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic data")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the demo's files in this folder instead of a temporary one",
    )


def _demo(args: argparse.Namespace) -> Report:
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="cohortsafe-demo-") as tmp:
        return _run(args, Path(tmp))


def _shown(args: argparse.Namespace) -> Callable[[str], None] | None:
    """On a terminal, each step's title as it starts (on stderr: stdout holds the report)."""
    if args.json or not sys.stderr.isatty():
        return None
    count = iter(range(1, 1000))

    def show(title: str) -> None:
        print(f"[{next(count)}] {title} …", file=sys.stderr, flush=True)

    return show


def _run(args: argparse.Namespace, root: Path) -> Report:
    from cohortsafe.cli import _demo_steps

    steps = _demo_steps.run_demo(root, schools=args.schools, seed=args.seed, on_step=_shown(args))
    summary = _demo_steps.demo_summary(root)
    if args.keep is None:
        summary["note"] = "the files were in a temporary folder, removed now: --keep keeps them"
    text = "\n\n".join([*(s.describe() for s in steps), _demo_steps.describe_summary(summary)])
    return Report.ok({"steps": [s.as_dict() for s in steps], "summary": summary}, text)
