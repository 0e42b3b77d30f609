"""``cohortsafe synth``: synthetic LVS exports, the only data this project uses."""

from __future__ import annotations

import argparse
from pathlib import Path

from cohortsafe.cli._commands import (
    Subparsers,
    add_command,
    output_file,
    output_folder,
    positive,
    school_years,
)
from cohortsafe.cli._report import Report
from cohortsafe.errors import UsageError


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
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="also write the office's reference file (a schoolweging per school and year, "
        "for `office reference-load`); outside --out, which holds only exports",
    )


def _synth(args: argparse.Namespace) -> Report:
    from cohortsafe.synth import SynthSpec, write_exports, write_reference

    spec = SynthSpec(schools=args.schools, seed=args.seed, years=tuple(args.years))
    out = output_folder(args.out)
    if args.reference is not None and args.reference.resolve().is_relative_to(out.resolve()):
        raise UsageError("--reference must be outside --out: `school import` reads all of it")
    summary = write_exports(spec, out)
    data: dict[str, object] = summary.as_dict()
    text = (
        f"wrote {summary.exports} exports ({summary.schools} schools × {len(spec.years)} years) "
        f"to {args.out}: {summary.pupils} pupil rows, {summary.results} results, "
        f"{summary.childcare} childcare rows, {summary.special} special-category rows"
    )
    if args.reference is not None:
        rows = write_reference(spec, output_file(args.reference, "--reference"))
        data["reference"] = {"path": str(args.reference), "rows": rows}
        text += f"; the office's reference ({rows} rows) to {args.reference}"
    return Report.ok(data, text)
