"""User mistakes give a message and an exit status, never a traceback or a new empty home."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cohortsafe.cli import main
from tests.exportkit import BSNS, ExportKit


@dataclass
class Homes:
    root: Path
    school: Path
    office: Path


@pytest.fixture
def homes(tmp_path: Path, capsys: pytest.CaptureFixture[str], db: None) -> Homes:
    school, office = tmp_path / "school", tmp_path / "office"
    export = ExportKit.valid().write(tmp_path / "export")
    assert main(["--home", str(school), "school", "import", str(export)]) == 0
    assert main(["keys", "new", "--name", "school", "--out", str(school)]) == 0
    assert main(["--home", str(office), "office", "init"]) == 0
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "a-folder").mkdir()
    capsys.readouterr()
    return Homes(tmp_path, school, office)


def _argv(template: list[str], homes: Homes) -> list[str]:
    return [
        part.format(root=homes.root, school=homes.school, office=homes.office) for part in template
    ]


# (command with {root}, {school} and {office} filled in, exit status, part of the message)
MISTAKES = [
    (["synth", "--schools", "0", "--out", "{root}/x"], 2, "at least 1"),
    (["synth", "--schools", "two", "--out", "{root}/x"], 2, "whole number"),
    (["synth", "--schools", "1", "--years", "2025", "--out", "{root}/x"], 2, "2025-2026"),
    (["synth", "--schools", "1", "--out", "{root}/a-file"], 2, "is a file"),
    (["--home", "{root}/a-file", "school", "objections"], 2, "is a file"),
    (["--home", "{root}/nowhere", "school", "objections"], 2, "does not exist"),
    (["--home", "{root}/nowhere", "office", "status"], 2, "office init"),
    (["--home", "{root}/a-folder", "school", "consents"], 2, "not a cohortsafe home"),
    (["--home", "{school}", "office", "status"], 2, "is a school home"),
    (["--home", "{office}", "school", "objections"], 2, "is an office home"),
    (["--home", "{office}", "school", "import", "{root}/export"], 2, "is an office home"),
    (["--home", "{school}", "office", "init"], 2, "is a school home"),
    (["--home", "{school}", "school", "letter", "--out", "{root}/a-folder"], 2, "is a folder"),
    (["--home", "{school}", "school", "letter", "--out", "{root}/a-file/x.html"], 2, "is a file"),
    (
        [
            "--home",
            "{school}",
            "school",
            "deliver",
            "--schooljaar",
            "2025-2026",
            "--office-key",
            "{office}/office.pub",
            "--out",
            "{root}/a-file",
        ],
        2,
        "is a file",
    ),
    (
        [
            "--home",
            "{school}",
            "school",
            "deliver",
            "--schooljaar",
            "2025",
            "--office-key",
            "{office}/office.pub",
            "--out",
            "{root}/out",
        ],
        2,
        "two consecutive years",
    ),
    (["--home", "{school}", "school", "import", "{root}/export", "--schooljaar", "25"], 2, "2025"),
    (["keys", "new", "--name", "school", "--out", "{school}"], 1, "exists already"),
    (["--home", "{office}", "office", "init"], 1, "office already"),
    (["keys", "new", "--name", "../x", "--out", "{root}"], 2, "key name"),
    (["--home", "{school}", "school", "object", "--pupil", "9999"], 2, "--received"),
    (
        [
            "--home",
            "{school}",
            "school",
            "object",
            "--pupil",
            "9999",
            "--received",
            "31-02-2026",
            "--from",
            "ouder",
        ],
        2,
        "a date",
    ),
    (
        [
            "--home",
            "{school}",
            "school",
            "object",
            "--pupil",
            "9999",
            "--received",
            "03-02-2026",
            "--from",
            "ouder",
        ],
        1,
        "no pupil",
    ),
    (["--home", "{school}", "school", "set", "--school", "XX"], 1, "BRIN"),
    (["--home", "{school}", "school", "consents", "--study", "NOPE"], 1, "no study"),
    (
        [
            "package",
            "open",
            "{root}/missing.nco",
            "--office-key",
            "{office}/office.key",
            "--school-key",
            "{school}/school.pub",
            "--out",
            "{root}/o",
        ],
        1,
        "missing.nco",
    ),
    (
        [
            "package",
            "open",
            "{root}/a-file",
            "--office-key",
            "{school}/school.pub",
            "--school-key",
            "{school}/school.pub",
            "--out",
            "{root}/o",
        ],
        2,
        "private key",
    ),
    (["--home", "{office}", "office", "school-add", "12AB00", "--key", "{root}/a-file"], 2, "key"),
    (["--home", "{office}", "office", "rotate-key", "--purpose", "nope"], 2, "invalid choice"),
    (
        ["sdc", "crosstab", "{root}/none.parquet", "--index", "a", "--pupil", "p", "--school", "s"],
        1,
        "none.parquet",
    ),
    (["school"], 2, "COMMAND"),
    (["nonsense"], 2, "invalid choice"),
]


@pytest.mark.parametrize(("template", "status", "fragment"), MISTAKES)
def test_a_mistake_gives_a_message_and_an_exit_status(
    homes: Homes,
    capsys: pytest.CaptureFixture[str],
    template: list[str],
    status: int,
    fragment: str,
) -> None:
    argv = _argv(template, homes)
    assert main(argv) == status
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "internal error" not in captured.err
    assert not (homes.root / "nowhere").exists(), "a read command made a home"
    # the same mistake with --json: one document, one error shape
    assert main([*argv, "--json"]) == status
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False
    assert set(document["error"]) == {"kind", "message"}
    assert fragment in document["error"]["message"]
    assert document["error"]["kind"] != "internal"


def test_messages_never_echo_a_bsn(homes: Homes, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--home", str(homes.school), "school", "consent", "--pupil", BSNS[0], "--study", "X"]
    argv += ["--categories", "dyslexie", "--given-by", "ouder", "--date", "01-09-2026"]
    main(argv)
    captured = capsys.readouterr()
    assert captured.err
    assert BSNS[0] not in captured.out + captured.err


def test_home_is_accepted_after_the_group_and_the_command(
    homes: Homes, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["school", "--home", str(homes.school), "objections", "--json"],
        ["school", "objections", "--home", str(homes.school), "--json"],
    ):
        assert main(argv) == 0
        assert json.loads(capsys.readouterr().out)["ok"] is True


def test_every_command_has_help_with_an_example_or_its_formats() -> None:
    """`--help` of every command works and says what its options take."""
    from cohortsafe.cli import build_parser

    parser = build_parser()
    groups = next(a for a in parser._actions if a.dest == "group")
    for name, group in groups.choices.items():  # type: ignore[union-attr]
        commands = [a for a in group._actions if a.dest == "command"]
        subparsers = commands[0].choices.items() if commands else [(name, group)]
        for command, sub in subparsers:
            text = sub.format_help()
            assert "--json" in text or command == "demo", f"{name} {command}"
            if name not in ("synth", "demo"):
                assert "example:\n  cohortsafe " in text, f"{name} {command} has no example"
            for action in sub._actions:
                if action.option_strings and action.dest not in ("help",):
                    assert action.help, f"{name} {command} {action.option_strings} lacks help"


def test_an_unexpected_error_shows_no_value(tmp_path: Path) -> None:
    """A bug ends in a message naming the error's type only: its text may quote a value."""
    script = (
        "import sys\n"
        "from cohortsafe.cli import _commands, main\n"
        "def boom(args):\n"
        f"    raise KeyError({BSNS[0]!r})\n"
        "import cohortsafe.cli.synth as s\n"
        "s._synth = boom\n"
        f"sys.exit(main(['synth', '--schools', '1', '--out', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "internal error (KeyError)" in result.stderr
    assert BSNS[0] not in result.stderr
    assert "Traceback" not in result.stderr
