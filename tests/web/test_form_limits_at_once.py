"""Many forms and lookups at the same moment never pass the limits together.

The public form holds no home lock (one registry transaction each), so on PostgreSQL two
requests could both count the room for one more under read committed. This runs real
concurrent transactions, in a process of their own on a database of their own; SQLite
orders writers by its immediate transactions and needs no such test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL"
    ),
]

AT_ONCE = r"""
import datetime as dt, json, threading
from cohortsafe.cli._home import open_home
open_home("school", create=True)
from django.db import connection
from cohortsafe.app.school.models import ParentForm, School, StatusLookup
from cohortsafe.app.school.services import parent_forms as forms

school = School.objects.create(brin="12AB", vestiging="00")
limits = forms.FormLimits(per_sender=3, per_school=5, lookups_per_sender=4)
THREADS = 16
start = threading.Barrier(THREADS)
sent, looked = [], []

def send(number):
    try:
        start.wait()
        sent.append(forms.send_parent_form(
            school, child_name=f"Kind {number}", child_birth_date=dt.date(2017, 3, 5),
            child_group=4, parent_name="Ouder", parent_contact="ouder@example.org",
            sender=f"sender-{number % 2}", limits=limits))
    finally:
        connection.close()

def look(number):
    try:
        start.wait()
        looked.append(forms.look_up_parent_form("AAAA-BBBB", sender="one", limits=limits))
    finally:
        connection.close()

for target in (send, look):
    threads = [threading.Thread(target=target, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(json.dumps({
    "stored": ParentForm.objects.count(),
    "per_sender": sorted(
        ParentForm.objects.filter(sender=s).count() for s in ("sender-0", "sender-1")),
    "acknowledged": sum(s.reference is not None for s in sent),
    "lookups_answered": sum(not a.too_many for a in looked),
    "lookups_stored": StatusLookup.objects.count(),
}))
"""


BESIDE_AN_IMPORT = r"""
import datetime as dt, json, threading, time
from cohortsafe.cli._home import open_home
open_home("school", create=True)
from django.db import connection, transaction
from cohortsafe.app.audit.services import record
from cohortsafe.app.school.models import ParentForm, School
from cohortsafe.app.school.services import parent_forms as forms

school = School.objects.create(brin="12AB", vestiging="00")
holding = threading.Event()
failed = []

def import_():  # what school import does: the school's row, its pupils, then the chain
    try:
        with transaction.atomic():
            list(School.objects.select_for_update().filter(pk=school.pk))
            holding.set()
            time.sleep(1.5)  # the pupils are written; the form arrives meanwhile
            record("school.import", actor="test", subject=school.code)
    except Exception as error:
        failed.append(f"import: {type(error).__name__}: {error}")
    finally:
        connection.close()

def form():
    try:
        holding.wait()
        forms.send_parent_form(
            school, child_name="Kind", child_birth_date=dt.date(2017, 3, 5), child_group=4,
            parent_name="Ouder", parent_contact="ouder@example.org", sender="s")
    except Exception as error:
        failed.append(f"form: {type(error).__name__}: {error}")
    finally:
        connection.close()

threads = [threading.Thread(target=import_), threading.Thread(target=form)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"failed": failed, "forms": ParentForm.objects.count()}))
"""


def _database(url: str) -> str:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"at_once_{uuid.uuid4().hex[:12]}"
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _run(script: str, home: Path) -> dict[str, object]:
    url = _database(os.environ["DATABASE_URL"])
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "DATABASE_URL": url, "COHORTSAFE_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_forms_and_lookups_sent_at_once_stay_within_the_limits(home: Path) -> None:
    assert _run(AT_ONCE, home) == {
        "stored": 5,  # the school's limit, from two senders of at most 3 each
        "per_sender": [2, 3],
        "acknowledged": 5,
        "lookups_answered": 4,
        "lookups_stored": 4,
    }


def test_a_form_sent_while_its_school_imports_waits_and_never_deadlocks(home: Path) -> None:
    """The import holds the school's row, then writes to the audit chain; the form must not
    hold the chain while it waits for that row, or PostgreSQL aborts one of the two."""
    assert _run(BESIDE_AN_IMPORT, home) == {"failed": [], "forms": 1}
