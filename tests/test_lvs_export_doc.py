"""docs/lvs-export.md cannot drift: its code lists are the alias tables, its columns the files'."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from cohortsafe.domain.codes import ALIASES
from cohortsafe.lvs import EXPORT_FILES, read_export

DOC = Path(__file__).resolve().parents[1] / "docs" / "lvs-export.md"
BEGIN = "<!-- code lists: generated from cohortsafe.domain.codes.ALIASES, see tests -->"
END = "<!-- end of code lists -->"


def render_code_lists() -> str:
    """The doc's code-list section as the alias tables give it."""
    out = [BEGIN, ""]
    for column, (codes, aliases) in ALIASES.items():
        out += [f"**{column}**", "", "| code | accepted spellings |", "|---|---|"]
        for code in codes:
            spellings = sorted(a for a, c in aliases.items() if c == code)
            written = ", ".join(f"`{s}`" for s in spellings) or "(the code itself)"
            out.append(f"| `{code}` | {written} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def _section(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def test_the_code_lists_are_those_of_the_alias_tables() -> None:
    assert _section(DOC.read_text(encoding="utf-8")) == render_code_lists(), (
        "docs/lvs-export.md's code lists differ from domain/codes.py: paste "
        "tests.test_lvs_export_doc.render_code_lists() between the markers"
    )


def test_every_alias_appears_in_the_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    for _, aliases in ALIASES.values():
        for alias in aliases:
            assert f"`{alias}`" in text, alias


def test_every_file_and_column_appears_with_whether_it_is_required() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, (columns, optional) in EXPORT_FILES.items():
        assert f"### {name}" in text, name
        section = text.split(f"### {name}", 1)[1].split("### ", 1)[0]
        for column in columns:
            row = re.search(rf"^\| `{column}` \| (\w+) \|", section, re.MULTILINE)
            assert row is not None, f"{name}: {column}"
            assert row.group(1) == ("optional" if column in optional else "required"), column


def test_the_readme_links_the_doc_from_the_import_row() -> None:
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    row_start = "| school | `school import DIR…"
    (row,) = [line for line in readme.splitlines() if line.startswith(row_start)]
    assert "docs/lvs-export.md" in row


def test_the_doc_names_each_refusal_of_bad_bytes(tmp_path: Path) -> None:
    """Mixed encodings, UTF-16, NUL, a categorie twice, no leerlingen.csv: as the doc says."""
    from tests.exportkit import ExportKit

    def reasons(
        name: str, change: Callable[[bytes], bytes], kit: ExportKit | None = None, **dialect: str
    ) -> set[str]:
        folder = (kit or ExportKit.valid()).write(
            tmp_path / str(len(list(tmp_path.iterdir()))), **dialect
        )
        data = change((folder / name).read_bytes())
        (folder / name).unlink()
        if data:
            (folder / name).write_bytes(data)
        return {p.reason for p in read_export(folder).problems}

    twice = ExportKit.valid()
    twice.files["bijzonder.csv"].append(list(twice.files["bijzonder.csv"][1]))
    found = (
        reasons("leerlingen.csv", lambda b: b.replace(b"Meer0", b"M\xe9er"))
        | reasons(
            "leerlingen.csv", lambda b: b.replace(b"Meer0", "Meër".encode()), encoding="cp1252"
        )
        | reasons("voorschool.csv", lambda b: b.decode().encode("utf-16"))
        | reasons("voorschool.csv", lambda b: b.replace(b"24", b"2\0"))
        | reasons("bijzonder.csv", lambda b: b, twice)
        | reasons("leerlingen.csv", lambda b: b"")
    )
    text = " ".join(DOC.read_text(encoding="utf-8").split())  # the doc wraps its lines
    said = {re.sub(r"^the same (.*) as line \d+$", r"\1", r.split(" (")[0]) for r in found}
    assert len(said) == 6, found
    for phrase in said:
        assert phrase in text, phrase
