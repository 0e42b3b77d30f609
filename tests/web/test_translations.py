"""Every text of the screens has its Dutch translation, and the compiled catalogue matches
the one people edit (`django.po`); Dutch is what parents and schools see first."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "src" / "cohortsafe" / "app"
CATALOGUE = APP / "locale" / "nl" / "LC_MESSAGES"
SAME_IN_DUTCH = {"School", "Code", "Contact", "Start", "Project", "Status", "Accounts"}


def _po_entries() -> dict[str, str]:
    text = (CATALOGUE / "django.po").read_text()
    entries = {}
    for block in text.split("\n\n")[1:]:
        msgid = "".join(re.findall(r'"(.*)"', block.split("msgid ", 1)[1].split("\nmsg")[0]))
        first = re.search(r"^msgstr(?:\[0\])? ((?:\".*\"\n?)+)", block, re.M)
        assert first, block
        entries[ast.literal_eval(f'"{msgid}"')] = "".join(
            ast.literal_eval(part) for part in re.findall(r'".*"', first.group(1))
        )
    return entries


def _texts_in_screens() -> set[str]:
    found: set[str] = set()
    for template in (APP / "web" / "templates").rglob("*.html"):
        found |= set(re.findall(r'{% translate "([^"]+)" %}', template.read_text()))
    for module in (APP / "web").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "gettext_lazy", "gettext_noop")
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_every_text_of_the_screens_is_translated_to_dutch() -> None:
    entries = _po_entries()
    texts = _texts_in_screens()
    assert len(texts) > 50
    missing = sorted(t for t in texts if not entries.get(t))
    assert not missing, f"not in django.po (run makemessages and translate): {missing}"
    untranslated = sorted(t for t in texts if entries[t] == t and t not in SAME_IN_DUTCH)
    assert not untranslated


def test_the_compiled_catalogue_is_the_edited_one() -> None:
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for msgid, msgstr in _po_entries().items():
        if msgid and msgstr:
            assert catalogue.gettext(msgid) == msgstr or "%(n)s" in msgid, (
                f"django.mo is older than django.po: compilemessages ({msgid!r})"
            )
