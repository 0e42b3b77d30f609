"""Small LVS exports built in code, valid unless a test changes a cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cohortsafe.lvs import EXPORT_FILES

# Valid BSNs (eleven test) and onderwijsnummers made for tests; no person has them.
BSNS = ["111222333", "123456782", "100000009", "231412320", "231412691", "231413063"]
ONDERWIJSNUMMERS = ["101222331", "100000016"]


def header(name: str) -> list[str]:
    return list(EXPORT_FILES[name][0])


@dataclass
class ExportKit:
    """An export as rows of text per file; ``write`` puts it on disk in a given dialect."""

    files: dict[str, list[list[str]]] = field(default_factory=dict)

    @classmethod
    def valid(cls, pupils: int = 3) -> ExportKit:
        leerlingen = [header("leerlingen.csv")]
        results = [header("toetsresultaten.csv")]
        childcare = [header("voorschool.csv")]
        special = [header("bijzonder.csv")]
        for i in range(pupils):
            number = str(1001 + i)
            leerlingen.append(
                [
                    number,
                    BSNS[i],
                    "",
                    "Zoë",
                    "van der",
                    f"Meer{i}",
                    "05-03-2016",
                    "V",
                    "1234 AB",
                    str(10 + i),
                    "",
                    "5",
                    "12AB",
                    "00",
                ]
            )
            for domain in ("Rekenen-Wiskunde", "Begrijpend lezen", "Spelling"):
                for moment, day in (("M", "20-01-2026"), ("E", "10-06-2026")):
                    results.append(
                        [
                            number,
                            f"Cito {domain}",
                            domain,
                            moment,
                            "2025-2026",
                            "5",
                            day,
                            "145,5",
                            "cito-vs-3.0",
                            "III",
                        ]
                    )
            childcare.append([number, "kinderdagverblijf", "24", "2,5"])
        special.append(["1001", "dyslexie", "verklaring aanwezig", "01-09-2024"])
        return cls(
            {
                "leerlingen.csv": leerlingen,
                "toetsresultaten.csv": results,
                "voorschool.csv": childcare,
                "bijzonder.csv": special,
            }
        )

    def set(self, file: str, line: int, column: str, value: str) -> ExportKit:
        """Change one cell; ``line`` as an editor counts it (header = 1)."""
        rows = self.files[file]
        rows[line - 1][rows[0].index(column)] = value
        return self

    def write(
        self,
        folder: Path,
        *,
        delimiter: str = ";",
        encoding: str = "utf-8",
        eol: str = "\n",
        quote: bool = False,
    ) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.files.items():

            def cell(value: str) -> str:
                if quote or delimiter in value or '"' in value or "\n" in value:
                    return '"' + value.replace('"', '""') + '"'
                return value

            text = eol.join(delimiter.join(cell(v) for v in row) for row in rows) + eol
            data = text.encode("cp1252" if encoding == "cp1252" else "utf-8")
            if encoding == "utf-8-sig":
                data = b"\xef\xbb\xbf" + data
            (folder / name).write_bytes(data)
        return folder
