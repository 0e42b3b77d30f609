"""Helpers every benchmark shares: timing, peak memory of a child process, reporting."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Median wall time of ``runs`` runs of ``work``, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_child(args: list[str]) -> tuple[float, float]:
    """Run a command; return its wall time (s) and peak resident memory (MiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:
        # ru_maxrss is the largest child so far; a smaller later child is not visible
        peak_kib = before
    return elapsed, peak_kib / 1024


def cohortsafe(*args: str) -> list[str]:
    return [sys.executable, "-m", "cohortsafe.cli", *args]


def report(name: str, title: str, rows: list[dict[str, Any]], notes: list[str]) -> None:
    """Print a markdown table and keep the figures in bench/results/NAME.json."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"rows": rows, "notes": notes}, indent=1))
    print(f"\n## {title}\n")
    if rows:
        keys = list(rows[0])
        print("| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for row in rows:
            print("| " + " | ".join(_cell(row.get(k)) for k in keys) + " |")
    for note in notes:
        print(f"\n{note}")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "" if value is None else str(value)
