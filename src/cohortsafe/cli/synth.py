"""``cohortsafe synth``: synthetic LVS exports, the only data this project uses."""

from __future__ import annotations

import argparse
from pathlib import Path

from cohortsafe.cli._commands import (
    Subparsers,
    add_command,
    output_folder,
    positive,
    school_years,
)
from cohortsafe.cli._report import Report


def register(groups: Subparsers) -> None:
    parser = add_command(
        groups,
        "synth",
        _synth,
        "write deterministic synthetic LVS exports",
        example="cohortsafe synth --schools 5 --seed 1 --years 2023-2024..2025-2026 --out exports",
    )
    parser.add_argument(
        "--schools", type=positive, required=True, help="number of school locations (1–60000)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed; the same seed gives the same data"
    )
    parser.add_argument(
        "--years",
        type=school_years,
        default="2025-2026",
        metavar="JJJJ-JJJJ[..JJJJ-JJJJ]",
        help="school years, one or a span: 2023-2024..2025-2026",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder to write <schooljaar>/<BRINVEST>/ exports into",
    )


def _synth(args: argparse.Namespace) -> Report:
    from cohortsafe.synth import SynthSpec, write_exports

    spec = SynthSpec(schools=args.schools, seed=args.seed, years=tuple(args.years))
    summary = write_exports(spec, output_folder(args.out))
    data = summary.as_dict()
    text = (
        f"wrote {summary.exports} exports ({summary.schools} schools × {len(spec.years)} years) "
        f"to {args.out}: {summary.pupils} pupil rows, {summary.results} results, "
        f"{summary.childcare} childcare rows, {summary.special} special-category rows"
    )
    return Report.ok(data, text)
