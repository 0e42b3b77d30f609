"""Synthetic pupil results for the disclosure-control benchmark, generated in code.

One row per test result: a pupil pseudonym, a school pseudonym, grouping columns and an
ability score. Pupils belong to one of ~6000 schools of skewed size, with a few pupils
changing school; school-level columns (``region``, ``municipality``) are fixed per school,
so rare categories hold few schools and the school rules have something to find.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

SCHOOLS = 6000
RESULTS_PER_PUPIL = 8


def _skewed(rng: np.random.Generator, levels: int, size: int, decay: float) -> np.ndarray:
    """Category codes 0..levels-1 with geometric-ish frequencies (a long tail of rare ones)."""
    weights = np.exp(-decay * np.arange(levels) / levels)
    weights /= weights.sum()
    return rng.choice(levels, size=size, p=weights)


def _hex_ids(prefix: str, count: int, rng: np.random.Generator) -> pa.Array:
    values = rng.integers(0, 2**62, size=count, dtype=np.int64)
    return pa.array([f"{prefix}{v:016x}" for v in values.tolist()], type=pa.string())


def microdata(rows: int, seed: int = 7) -> pa.Table:
    """``rows`` results with grouping columns for 160-, 30,000- and ~10,000-cell tables."""
    rng = np.random.default_rng(seed)
    pupils = max(rows // RESULTS_PER_PUPIL, 1)
    school_size = rng.lognormal(mean=0.0, sigma=0.8, size=SCHOOLS)
    school_of_pupil = rng.choice(SCHOOLS, size=pupils, p=school_size / school_size.sum())
    pupil_of_row = rng.integers(0, pupils, size=rows)
    school_of_row = school_of_pupil[pupil_of_row]
    movers = rng.random(rows) < 0.01  # a few results recorded at a second school
    school_of_row = np.where(movers, rng.integers(0, SCHOOLS, size=rows), school_of_row)

    # school-level attributes: a rare region or municipality holds only a few schools
    region_of_school = _skewed(rng, 16, SCHOOLS, decay=7.5)
    municipality_of_school = _skewed(rng, 150, SCHOOLS, decay=1.5)
    area_of_school = _skewed(rng, 20, SCHOOLS, decay=2.0)

    pupil_ids = _hex_ids("p", pupils, rng)
    school_ids = _hex_ids("s", SCHOOLS, rng)
    score = np.clip(rng.normal(200.0, 30.0, size=rows), 0.0, None).round(1)
    return pa.table(
        {
            "pupil": pupil_ids.take(pa.array(pupil_of_row)),
            "school": school_ids.take(pa.array(school_of_row)),
            "region": pa.array(region_of_school[school_of_row].astype(np.int16)),
            "band": pa.array(_skewed(rng, 10, rows, decay=3.0).astype(np.int16)),
            "municipality": pa.array(municipality_of_school[school_of_row].astype(np.int16)),
            "item": pa.array(_skewed(rng, 200, rows, decay=1.5).astype(np.int16)),
            "area": pa.array(area_of_school[school_of_row].astype(np.int16)),
            "level": pa.array(_skewed(rng, 20, rows, decay=2.0).astype(np.int16)),
            "topic": pa.array(_skewed(rng, 22, rows, decay=2.0).astype(np.int16)),
            "score": pa.array(score),
        }
    )
