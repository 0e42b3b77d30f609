"""The combined check: outputs that are safe alone but give a pupil or a school away together.

Each test is an attack from issue 11, tried on synthetic data through the researcher's
``Session`` with a project ledger: the earlier outputs pass, the one that completes the
attack fails and names the earlier outputs, never a value. Safe sequences still pass.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cohortsafe.errors import PolicyError
from cohortsafe.sdc import Ledger, Session


def _pupils(n: int = 400, schools: int = 12, seed: int = 3) -> pd.DataFrame:
    """One result per pupil, pupils spread over schools, regions, domains."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "pupil": [f"p{i:04d}" for i in range(n)],
            "school": [f"s{i % schools:02d}" for i in range(n)],
            "domain": rng.choice(["lezen", "rekenen", "spelling"], n),
            "score": rng.uniform(150, 250, n).round(1),
        }
    )
    df["region"] = df.school.map(lambda s: "N" if int(s[1:]) < schools // 2 else "S")
    df["record"] = [f"r{i:05d}" for i in range(n)]
    return df


def _session(tmp_path: Path, project: str = "attack") -> Session:
    return Session(ledger=tmp_path / "ledger", project=project)


def _outcomes(sess: Session) -> list[str]:
    return [o.outcome for o in sess.outputs.values()]


def _combined(sess: Session, uid: str) -> list[str]:
    return [r for r in sess.outputs[uid].reasons if r.startswith("combined check")]


def test_dropping_one_retake_gives_that_result_away(tmp_path: Path) -> None:
    df = _pupils()
    retake = df.iloc[[7]].assign(record="retake", score=99.5)
    data = pd.concat([df, retake], ignore_index=True)
    sess = _session(tmp_path)
    sess.pivot_table(data, values="score", index="region", aggfunc="sum", margins=True)
    # the same pupils, one result fewer: no population of pupils changes
    sess.pivot_table(
        data[data.record != "retake"], values="score", index="region", aggfunc="sum", margins=True
    )
    assert _outcomes(sess) == ["pass", "fail"]
    reasons = _combined(sess, "output_1")
    assert reasons
    assert "output_0" in reasons[0]
    assert "99.5" not in " ".join(reasons)


def test_a_recode_that_moves_one_school_gives_the_school_away(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.pivot_table(df, index="region", margins=True)
    # s00 recoded from N to S: N and S each change by one school's pupils
    moved = df.assign(region=np.where(df.school == "s00", "S", df.region))
    sess.pivot_table(moved, index="region", margins=True)
    assert _outcomes(sess) == ["pass", "fail"]
    assert _combined(sess, "output_1")


def test_three_tables_each_safe_pairwise_give_one_pupil_away(tmp_path: Path) -> None:
    df = _pupils()
    df["group"] = np.where(df.index < 200, "x", "y")
    df.loc[5, "group"] = "z"  # one pupil alone in z
    df["all"] = "all"
    sess = _session(tmp_path)
    for left_out in ("y", "x", "z"):
        part = df[df.group != left_out]
        sess.pivot_table(part, values="score", index="all", aggfunc="sum")
    # x+z, y+z, x+y: pairwise they differ by about 200 pupils, yet (T1 + T2 - T3) / 2 = z
    assert _outcomes(sess) == ["pass", "pass", "fail"]
    assert "output_0" in _combined(sess, "output_2")[0]
    assert "output_1" in _combined(sess, "output_2")[0]


def test_two_describe_calls_one_pupil_apart(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.describe(df, "score", by="region")
    sess.describe(df[df.pupil != "p0042"], "score", by="region")
    assert _outcomes(sess) == ["pass", "fail"]


def test_a_histogram_and_a_count_table_one_record_apart(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.hist(df, "score", bins=[175.0, 200.0, 225.0])
    assert sess.outputs["output_0"].ledger_number is not None
    less = df[df.record != "r00010"]
    sess.hist(less, "score", bins=[175.0, 200.0, 225.0])
    assert _outcomes(sess) == ["pass", "fail"]


def test_percentiles_enter_the_ledger_as_their_groups(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.percentiles(df, "score", q=[0.5], by="region")
    assert sess.outputs["output_0"].ledger_number is not None
    sess.pivot_table(df[df.pupil != "p0001"], index="region", margins=True)
    assert _outcomes(sess) == ["pass", "fail"]


def test_tables_sharing_a_margin_recover_a_primary_cell(tmp_path: Path) -> None:
    df = _pupils(n=600, schools=12)
    # a municipality nested in the north with only four pupils in rekenen
    df["municipality"] = np.where(df.region == "N", np.where(df.index // 12 % 2, "m1", "m2"), "m3")
    few = df.index[(df.municipality == "m1") & (df.domain == "rekenen")][4:]
    df.loc[few, "domain"] = "lezen"
    sess = _session(tmp_path)
    sess.pivot_table(df, index="municipality", columns="domain", margins=True)
    first = sess.outputs["output_0"]
    assert first.outcome == "pass"
    hidden = {
        (c.index["municipality"], c.columns["domain"])
        for c in first.result.cells  # type: ignore[union-attr]
        if c.status != "ok"
    }
    assert ("m1", "rekenen") in hidden
    # another grouping of the same municipalities shares the domain margin: m1 with
    # m3, whose cells the first table shows, minus those cells is m1's hidden cell
    areas = df.assign(area=df.municipality.map({"m1": "A", "m3": "A", "m2": "B"}))
    sess.pivot_table(areas, index="area", columns="domain", margins=True)
    assert _outcomes(sess) == ["pass", "fail"]


def test_a_rerun_on_new_data_with_another_pattern(tmp_path: Path) -> None:
    df = _pupils(n=600, schools=12)
    small = df.index[(df.region == "N") & (df.domain == "rekenen")][3:]
    df.loc[small, "domain"] = "lezen"  # three pupils in (N, rekenen)
    sess = _session(tmp_path)
    sess.pivot_table(df, index="region", columns="domain", margins=True)
    first = sess.outputs["output_0"].result
    # many new spelling results arrive: the re-run hides the cheaper lezen cells
    # instead, and its released spelling cells with the first run's lezen cells pin
    # the hidden (N, rekenen) cell
    extra = _pupils(n=400, schools=12, seed=11).assign(
        pupil=lambda d: "q" + d.pupil, record=lambda d: "new" + d.record, domain="spelling"
    )
    sess.pivot_table(pd.concat([df, extra]), index="region", columns="domain", margins=True)
    second = sess.outputs["output_1"].result

    def hidden(table: object) -> set[tuple[str, str]]:
        cells = table.cells  # type: ignore[attr-defined]
        return {(c.index["region"], c.columns["domain"]) for c in cells if c.status != "ok"}

    assert hidden(first) != hidden(second)  # another pattern, each safe alone
    assert second.reasons == tuple(_combined(sess, "output_1"))
    assert _outcomes(sess) == ["pass", "fail"]


def test_safe_outputs_of_one_project_pass_together(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.pivot_table(df, index="region", margins=True)
    sess.pivot_table(df, index="domain", margins=True)
    sess.pivot_table(df, index="region", columns="domain", margins=True)
    sess.pivot_table(df, values="score", index="region", aggfunc="mean", margins=True)
    sess.describe(df, "score", by="domain")
    assert set(_outcomes(sess)) == {"pass"}, [o.reasons for o in sess.outputs.values()]


def test_a_retracted_pupil_stays_in_the_old_release(tmp_path: Path) -> None:
    df = _pupils()
    _session(tmp_path).pivot_table(df, values="score", index="domain", aggfunc="mean")
    # later the pupil's parent objects: the data no longer hold the pupil, the ledger
    # still knows who stood behind the old release
    later = _session(tmp_path)
    later.pivot_table(df[df.pupil != "p0100"], values="score", index="domain", aggfunc="mean")
    assert _outcomes(later) == ["fail"]


def test_a_removed_output_leaves_the_ledger(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.pivot_table(df, index="region", margins=True)
    sess.remove_output("output_0")
    sess.pivot_table(df[df.pupil != "p0003"], index="region", margins=True)
    assert _outcomes(sess) == ["pass"]
    assert Ledger.open(tmp_path / "ledger").outputs == 1


def test_without_a_ledger_a_session_is_a_new_named_project() -> None:
    df = _pupils()
    sess = Session(project="pilot")
    sess.pivot_table(df, index="region")
    note = sess.outputs["output_0"].ledger_note
    assert note == "checked alone: project 'pilot' has no earlier outputs"
    sess.pivot_table(df[df.pupil != "p0003"], index="region")
    assert _outcomes(sess) == ["pass", "fail"]


def test_the_ledger_is_private_and_holds_no_pseudonym(tmp_path: Path) -> None:
    # Long pseudonyms: the ledger holds random keyed fingerprints, and a
    # three-byte name like "s02" turns up in some kilobytes of random bytes
    # about once in a hundred runs.
    df = _pupils()
    for column in ("pupil", "school", "record"):
        df[column] = "pseudonym-" + df[column] + "-of-this-test"
    _session(tmp_path).pivot_table(df, values="score", index="region", aggfunc="mean")
    folder = tmp_path / "ledger"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    raw = b"".join(p.read_bytes() for p in folder.iterdir() if p.name != "ledger.key")
    for value in (*df.pupil[:50], *df.school.unique(), *df.record[:50]):
        assert value.encode() not in raw


def test_a_ledger_belongs_to_one_project_and_is_whole(tmp_path: Path) -> None:
    Ledger.open(tmp_path / "ledger", project="one").close()
    with pytest.raises(PolicyError, match="belongs to project 'one'"):
        Ledger.open(tmp_path / "ledger", project="two")
    with pytest.raises(PolicyError, match="needs a project name"):
        Ledger.open(tmp_path / "other")
    os.remove(tmp_path / "ledger" / "ledger.key")
    with pytest.raises(PolicyError, match="incomplete"):
        Ledger.open(tmp_path / "ledger")


def test_a_ledger_of_an_earlier_fingerprint_scheme_is_refused(tmp_path: Path) -> None:
    # its members would not match this version's: every old release would look like
    # other records, and differencing against it would go unseen
    Ledger.open(tmp_path / "ledger", project="one").close()
    con = duckdb.connect(str(tmp_path / "ledger" / "ledger.duckdb"))
    con.execute("UPDATE meta SET value = '1' WHERE name = 'version'")
    con.close()
    with pytest.raises(PolicyError, match="version 1, not 2: its fingerprints"):
        Ledger.open(tmp_path / "ledger")


def test_fingerprints_are_keyed_and_tell_a_pupils_records_apart() -> None:
    pupils = pa.chunked_array([["p1", "p1", "p2", None]])
    schools = pa.chunked_array([["s1", "s1", "s1", "s2"]])
    records = pa.chunked_array([["r1", "r2", "r1", "r3"]])
    one, other = Ledger.memory("one"), Ledger.memory("two")
    with pytest.raises(PolicyError, match="no pupil or no record"):
        one.member_keys(pupils, schools, records)
    r, p, s = one.member_keys(pupils[:3], schools[:3], records[:3])
    assert len(set(r.tolist())) == 3
    assert p[0] == p[1] != p[2]
    assert len(set(s.tolist())) == 1
    r2, p2, _ = other.member_keys(pupils[:3], schools[:3], records[:3])
    assert set(r.tolist()).isdisjoint(r2.tolist())
    assert set(p.tolist()).isdisjoint(p2.tolist())
    # a sum's member is its record and its value: another value, another member
    values = one.value_keys(r, np.array([150.0, 150.0, -0.0]))
    assert len(set(values.tolist())) == 3
    assert one.value_keys(r[2:], np.array([0.0]))[0] == values[2]
    one.close()
    other.close()


def test_record_identities_must_be_unique(tmp_path: Path) -> None:
    df = _pupils()
    df.loc[3, ["pupil", "record"]] = df.loc[2, ["pupil", "record"]]
    with pytest.raises(PolicyError, match="names some rows twice"):
        _session(tmp_path).pivot_table(df, index="region")


def test_removing_an_output_keeps_what_later_outputs_published(tmp_path: Path) -> None:
    df = _pupils()
    sess = _session(tmp_path)
    sess.pivot_table(df, index="region", margins=True)
    sess.pivot_table(df, index="region", margins=True)  # the same cells again
    sess.remove_output("output_0")
    # the second output still tells what the first did
    sess.pivot_table(df[df.pupil != "p0003"], index="region", margins=True)
    assert _outcomes(sess) == ["pass", "fail"]


def test_a_small_group_spread_over_several_atoms_is_judged_as_one(tmp_path: Path) -> None:
    df = _pupils(n=600)
    df["year"] = np.where(df.index % 3 == 0, "2023", np.where(df.index % 3 == 1, "2024", "2025"))
    sess = _session(tmp_path)
    # one-way tables split the records into region × domain × year atoms, many small
    for variable in ("region", "domain", "year"):
        sess.pivot_table(df, index=variable, margins=True)
    # six pupils of the north, one in each domain × year corner they fall in: no atom
    # alone is isolated, their union is the north's difference
    north = df.index[df.region == "N"]
    leaving = df.loc[north].groupby(["domain", "year"]).head(1).index[:6]
    assert df.loc[leaving, ["domain", "year"]].drop_duplicates().shape[0] == 6
    sess.pivot_table(df.drop(index=leaving), index="region", margins=True)
    assert _outcomes(sess) == ["pass", "pass", "pass", "fail"]
    assert "pieces of a new and an earlier cell" in _combined(sess, "output_3")[0]


def test_a_problem_beyond_the_limit_is_refused_not_skipped(tmp_path: Path) -> None:
    from cohortsafe.sdc import combined_check, crosstab, load_policy, open_source
    from cohortsafe.sdc._entries import table_entry

    df = _pupils()
    sess = _session(tmp_path)
    sess.pivot_table(df, index="region", columns="domain", margins=True)
    df["band"] = np.where(df.score > 200, "high", "low")
    source = open_source(df)
    policy = load_policy("research")
    # by band: cells the earlier table does not hold, so there is something to solve
    table = crosstab(None, "band", pupil="pupil", school="school", source=source)
    entry = table_entry(
        table, source, sess.ledger, record="record", name="t", kind="table", command=""
    )
    assert combined_check(sess.ledger, entry, policy).passed
    refused = combined_check(sess.ledger, entry, policy, atom_limit=2)
    assert not refused.passed
    assert "more than the check solves" in refused.reasons[0]
    # a margin of the earlier table tells nothing new: nothing to solve, whatever the limit
    margin = crosstab(None, "domain", pupil="pupil", school="school", source=source)
    entry = table_entry(
        margin, source, sess.ledger, record="record", name="m", kind="table", command=""
    )
    assert combined_check(sess.ledger, entry, policy, atom_limit=2).passed


def _with_retakes(df: pd.DataFrame) -> pd.DataFrame:
    """Six pupils of region S with a second result; every record split in halves A and B."""
    rng = np.random.default_rng(11)
    retakes = df[df.region == "S"].head(6).assign(score=lambda d: d.score - 7.5)
    retakes["record"] = [f"retake{i}" for i in range(6)]
    data = pd.concat([df.assign(attempt=1), retakes.assign(attempt=2)], ignore_index=True)
    data["half"] = rng.choice(["A", "B"], len(data))
    return data


def test_a_chain_of_nested_differences_across_three_outputs(tmp_path: Path) -> None:
    data = _with_retakes(_pupils())
    sess = _session(tmp_path)
    sess.pivot_table(
        data[data.region == "N"], values="score", index="domain", aggfunc="sum", margins=True
    )
    first = data[(data.region == "S") & (data.attempt == 1)]
    sess.pivot_table(first, values="score", index="domain", aggfunc="sum", margins=True)
    # all records less region N less region S's first attempts: the six retakes, which
    # this table splits by half, so no atom and no piece of two cells is that group
    sess.pivot_table(data, values="score", index="half", aggfunc="sum", margins=True)
    assert _outcomes(sess) == ["pass", "pass", "fail"]
    reasons = _combined(sess, "output_2")
    assert reasons
    assert "output_0" in reasons[0]
    assert "output_1" in reasons[0]


def test_nested_differences_beyond_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cohortsafe.sdc._combined as engine

    monkeypatch.setattr(engine, "NESTED_LIMIT", 1)
    data = _with_retakes(_pupils())
    sess = _session(tmp_path)
    sess.pivot_table(data, values="score", index="domain", aggfunc="sum", margins=True)
    # each of its cells lies in one of the first's: the rests are groups to follow
    north = data[data.region == "N"]
    sess.pivot_table(north, values="score", index="domain", aggfunc="sum", margins=True)
    assert _outcomes(sess) == ["pass", "fail"]
    assert "nest into more groups than the check follows" in _combined(sess, "output_1")[0]


def _items(n: int = 1600, items: int = 16, seed: int = 5) -> pd.DataFrame:
    """Pupils of 24 schools, each pupil on one of ``items`` test items."""
    df = _pupils(n=n, schools=24, seed=seed)
    df["item"] = [f"i{i // 24 % items:02d}" for i in range(n)]  # every school in every item
    return df


def test_many_disjoint_cells_inside_a_known_total_are_followed_as_one_residual(
    tmp_path: Path,
) -> None:
    # sixteen new cells inside an earlier total: subtracted one at a time they would
    # give 2^16 groups, more than the check follows; their residual is one group
    data = _items()
    sess = _session(tmp_path)
    sess.pivot_table(data, values="score", index="domain", aggfunc="sum", margins=True)
    sess.pivot_table(data, values="score", index="item", aggfunc="sum", margins=True)
    assert _outcomes(sess) == ["pass", "pass"]


def test_many_cells_over_every_pupil_but_one_give_that_pupil_away(tmp_path: Path) -> None:
    data = _items()
    sess = _session(tmp_path)
    sess.pivot_table(data, values="score", index="domain", aggfunc="sum", margins=True)
    # the items of every pupil but one: the earlier total less all sixteen cells is
    # that pupil's score
    sess.pivot_table(
        data[data.pupil != "p0007"], values="score", index="item", aggfunc="sum", margins=False
    )
    assert _outcomes(sess) == ["pass", "fail"]
    reasons = _combined(sess, "output_1")
    assert reasons
    assert "output_0" in reasons[0]
