"""Property: no sequence of outputs a session releases lets an attacker isolate a group.

Random microdata (pupils with several results, movers between schools, retakes) and a
random sequence of outputs through one ``Session`` and its ledger: count, sum and mean
tables of one or two variables, with or without margins, over all records or a subset
(one year, first attempts, all but one region or one school); summaries by a variable;
histograms. The independent attacker of ``combined_attack`` (its own linear programmes
over the records, none of the engine's code) then judges everything released.

The claim is the combined check's: every group the attacker pins down exactly from
the released outputs *together*, and every pupil it pins down or bounds within the
protection interval, it already gets from one of them alone. What one output gives away
on its own (a union of primary cells of one table) is the single-table check's, whose
limit ``test_combined_attack`` records. Intervals of other unions of atoms are the known
gap the strict xfail below reproduces.

Examples per run: ``COHORTSAFE_PROPERTY_EXAMPLES`` (default 3,000, the issue's few
thousand, in six shards of 500 that ``pytest -n`` runs side by side: about 40 minutes of
one core in all; ``COHORTSAFE_PROPERTY_EXAMPLES=150`` for a quick run while working).
The suite draws the same examples every run (a CI run of an unrelated change must not meet
a new draw); ``COHORTSAFE_PROPERTY_RANDOM=1`` draws new ones.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohortsafe.sdc import Session
from tests.sdc.combined_attack import (
    Disclosure,
    Filter,
    ReleasedOutput,
    disclosed,
    from_session,
    inconsistent,
    make_microdata,
)

EXAMPLES = int(os.environ.get("COHORTSAFE_PROPERTY_EXAMPLES", "3000"))
RANDOM = bool(os.environ.get("COHORTSAFE_PROPERTY_RANDOM"))
VARIABLES = ("region", "domain", "year", "gender")
# the examples are split into shards of disjoint seeds, so that `pytest -n` spreads them
SHARDS = 6
SHARD_SEEDS = 2**32 // SHARDS


def _subset(data: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, Filter]:
    """All records, or a subset a researcher would take, with its filter."""
    kind = int(rng.integers(6))
    if kind == 1:
        year = int(rng.choice(sorted(data.year.unique())))
        return data[data.year == year], Filter.where(year=year)
    if kind == 2:
        return data[data.attempt == 1], Filter.where(attempt=1)
    if kind == 3:
        regions = sorted(data.region.unique())
        left = str(rng.choice(regions))
        rest = [r for r in regions if r != left]
        return data[data.region != left], Filter.where(region=rest)
    if kind == 4:
        schools = sorted(data.school.unique())
        left = str(rng.choice(schools))
        rest = [s for s in schools if s != left]
        return data[data.school != left], Filter.where(school=rest)
    return data, Filter()


def _output(sess: Session, data: pd.DataFrame, rng: np.random.Generator) -> Filter:
    """One random output of ``sess`` on a subset of ``data``; the subset's filter."""
    frame, where = _subset(data, rng)
    kind = int(rng.integers(8))
    names = [str(v) for v in rng.choice(VARIABLES, size=2, replace=False)]
    if kind == 6:
        sess.describe(frame, "score", by=names[0])
    elif kind == 7:
        sess.hist(frame, "score", bins=[40.0, 55.0, 70.0])
    else:
        columns = names[1] if kind % 2 else None
        statistic = ("count", "sum", "mean")[kind % 3]
        sess.pivot_table(
            frame,
            values=None if statistic == "count" else "score",
            index=names[0],
            columns=columns,
            aggfunc=statistic,
            margins=bool(rng.integers(2)),
        )
    return where


def _key(found: Disclosure) -> tuple[str, frozenset[Any]]:
    return found.space, frozenset(found.group.records)


def _run(seed: int) -> tuple[pd.DataFrame, list[ReleasedOutput]]:
    rng = np.random.default_rng(seed)
    data = make_microdata(seed, n_pupils=int(rng.integers(80, 160)), n_schools=8)
    sess = Session(project=f"property-{seed}")
    bases = {}
    for number in range(int(rng.integers(2, 6))):
        bases[f"output_{number}"] = _output(sess, data, rng)
    return data, from_session(sess, bases)


def _check(seed: int) -> None:
    data, released = _run(seed)
    assert inconsistent(data, released) == []
    together = [d for d in disclosed(data, released) if d.exact or d.group.kind == "pupil"]
    if not together:
        return
    alone = {_key(d) for output in released for d in disclosed(data, [output])}
    combined = [d for d in together if _key(d) not in alone]
    assert combined == [], "\n".join(d.describe() for d in combined)


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
@settings(
    max_examples=max(1, EXAMPLES // SHARDS),
    derandomize=not RANDOM,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.integers(min_value=0, max_value=SHARD_SEEDS - 1))
def test_no_sequence_of_released_outputs_isolates_a_group(shard: int, draw: int) -> None:
    _check(shard * SHARD_SEEDS + draw)


def test_nested_differences_across_three_outputs_are_judged() -> None:
    """Found at 3,000 examples (seed 840): all records' total, less one output's whole
    (two regions), less a third output's cell (first attempts in the other region),
    is six pupils' retakes: no atom and no piece of two cells, yet known exactly."""
    _check(840)


@pytest.mark.xfail(
    strict=True,
    reason="known (issue 11): the combined check bounds atoms, pieces of two cells, whole "
    "pupils and schools, not every union of atoms; a pinned difference of ten records "
    "bounds its eight-pupil parts within their protection interval",
)
def test_a_part_of_a_pinned_difference_is_bounded_within_its_protection() -> None:
    data, released = _run(8388607)
    assert inconsistent(data, released) == []
    together = disclosed(data, released)
    alone = {_key(d) for output in released for d in disclosed(data, [output])}
    assert [d for d in together if _key(d) not in alone] == []
