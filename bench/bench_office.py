"""The office side: pseudonyms per second and the intake of a national year.

    python bench/bench_office.py [--quick] [--schools N] [--packages DIR]

1. Pseudonyms for 1 M identifiers: cohortsafe's vectorised HMAC (one core and all
   cores) next to OpenSSL's own limit (`openssl speed -hmac sha256`, 16-byte inputs,
   one core), a tight loop of C-backed `hmac.digest` calls, and Python's `hmac` loop.
2. Intake of a synthetic national year: 6,000 school packages (about 1.4 M pupils and
   15 M results) received by `cohortsafe office receive` in a child process, with its
   wall time and peak memory. The packages are made once (synth, then the school's
   delivery builder per export); `--packages DIR` keeps them between runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import cohortsafe, report, run_child  # noqa: E402

IDENTIFIERS = 1_000_000


def _openssl_per_second() -> float:
    done = subprocess.run(
        ["openssl", "speed", "-hmac", "sha256", "-seconds", "2", "-bytes", "16", "-mr"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout + done.stderr
    for line in out.splitlines():
        if line.startswith("+R:"):
            _, count, _, seconds = line.split(":")
            return int(count) / float(seconds)
    raise RuntimeError("openssl speed printed no result")


def _vectorised(threads: str) -> float:
    code = (
        "import time, pyarrow as pa\n"
        "from cohortsafe.pseudonym import new_key, hmac_hex\n"
        f"values = pa.array([f'{{i:09d}}' for i in range({IDENTIFIERS})])\n"
        "key = new_key('pupil')\n"
        "hmac_hex(key, values[:1000])\n"
        "best = min((lambda s: (hmac_hex(key, values), time.perf_counter() - s)[1])"
        "(time.perf_counter()) for _ in range(3))\n"
        "print(best)\n"
    )
    env = {**os.environ, "POLARS_MAX_THREADS": threads}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return IDENTIFIERS / float(out.strip())


def _python_loops() -> tuple[float, float]:
    key = os.urandom(32).hex().encode()
    values = [f"{i:09d}".encode() for i in range(IDENTIFIERS)]
    start = time.perf_counter()
    for value in values:
        hmac.digest(key, value, "sha256")
    digest_loop = time.perf_counter() - start
    start = time.perf_counter()
    for value in values:
        hmac.new(key, value, hashlib.sha256).hexdigest()
    object_loop = time.perf_counter() - start
    return IDENTIFIERS / digest_loop, IDENTIFIERS / object_loop


def pseudonym_rows() -> list[dict[str, object]]:
    openssl = _openssl_per_second()
    one_core = _vectorised("1")
    all_cores = _vectorised(str(os.cpu_count() or 2))
    digest_loop, object_loop = _python_loops()
    rows = [
        ("OpenSSL limit: `openssl speed -hmac sha256`, 16-byte inputs, one core", openssl),
        ("cohortsafe hmac_hex (polars-hash), one core", one_core),
        (f"cohortsafe hmac_hex (polars-hash), {os.cpu_count()} cores", all_cores),
        ("Python loop of C-backed hmac.digest()", digest_loop),
        ("Python loop of hmac.new().hexdigest()", object_loop),
    ]
    return [
        {"method": m, "pseudonyms/s": rate, "ratio to OpenSSL": rate / openssl} for m, rate in rows
    ]


def _package_one(args: tuple[str, str, str, str]) -> int:
    """Read one export and write its delivery package the way the school's builder does."""
    folder, out, school_key_json, office_pub_json = args
    import pyarrow as pa
    import pyarrow.compute as pc

    from cohortsafe.domain import DELIVERABLE_DOMAINS
    from cohortsafe.domain.schemas import DELIVERY_LEERLINGEN
    from cohortsafe.lvs import read_export
    from cohortsafe.package import DeliveryContents, KeyPair, PublicKey, write_delivery

    export = read_export(Path(folder)).export
    assert export is not None
    pupils = export.leerlingen
    pgn = pc.coalesce(pupils.column("bsn"), pupils.column("onderwijsnummer"))
    mapping = pa.table({"leerlingnummer": pupils.column("leerlingnummer"), "pgn": pgn})
    leerlingen = pupils.append_column("pgn", pgn).select(DELIVERY_LEERLINGEN.names)
    results = export.toetsresultaten.join(mapping, "leerlingnummer").drop_columns(
        ["leerlingnummer"]
    )
    results = results.filter(
        pc.is_in(results.column("leergebied"), value_set=pa.array(DELIVERABLE_DOMAINS))
    )
    childcare = export.voorschool.join(mapping, "leerlingnummer").drop_columns(["leerlingnummer"])
    contents = DeliveryContents(
        export.school,
        export.school_year,
        {"leerlingen": leerlingen, "toetsresultaten": results, "voorschool": childcare},
        {"objection": 0},
        DELIVERABLE_DOMAINS,
    )
    write_delivery(
        contents,
        signing_key=KeyPair.from_json(school_key_json),
        recipient=PublicKey.from_json(office_pub_json),
        path=Path(out) / f"{export.school.code}-{export.school_year}-1.nco",
    )
    return results.num_rows


def make_packages(schools: int, folder: Path, office_home: Path) -> tuple[int, float]:
    """Synthesise ``schools`` exports and turn each into a package; (results, seconds)."""
    from cohortsafe.lvs import find_exports
    from cohortsafe.package import KeyPair, write_key_pair

    exports = folder / "exports"
    subprocess.run(
        cohortsafe("synth", "--schools", str(schools), "--seed", "11", "--out", str(exports)),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    school = KeyPair.generate("school")
    write_key_pair(school, folder)
    office_pub = (office_home / "office.pub").read_text()
    packages = folder / "packages"
    packages.mkdir()
    jobs = [(str(f), str(packages), school.to_json(), office_pub) for f in find_exports(exports)]
    start = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count() or 2) as pool:
        results = sum(pool.map(_package_one, jobs, chunksize=16))
    return results, time.perf_counter() - start


def _prepare_office(work: Path, schools: int) -> float:
    """An office home with every school registered, and its packages, kept under ``work``."""
    template = work / "office-template"
    subprocess.run(
        cohortsafe("--home", str(template), "office", "init"), check=True, stdout=subprocess.DEVNULL
    )
    _, made = make_packages(schools, work, template)
    files = sorted((work / "packages").glob("*.nco"))
    register = (
        "import os, pathlib\n"
        f"os.environ['COHORTSAFE_HOME'] = {str(template)!r}\n"
        "from cohortsafe.cli._home import open_home\nopen_home('office')\n"
        "from cohortsafe.app.office.models import RegisteredSchool\n"
        "from cohortsafe.package import load_public\n"
        f"key = load_public(pathlib.Path({str(work / 'school.pub')!r}))\n"
        f"codes = {[f.name.split('-')[0] for f in files]!r}\n"
        "RegisteredSchool.objects.bulk_create([RegisteredSchool(brin=c[:4], "
        "vestiging=c[4:], public_key=key.to_json(), fingerprint=key.fingerprint, "
        "added_by='bench') for c in codes])\n"
    )
    subprocess.run([sys.executable, "-c", register], check=True)
    return made


def intake_rows(
    schools: int, packages_dir: Path | None
) -> tuple[list[dict[str, object]], list[str]]:
    with tempfile.TemporaryDirectory(prefix="bench-office-") as tmp:
        work = packages_dir or Path(tmp) / "work"
        notes = []
        if not (work / "office-template").exists():
            work.mkdir(parents=True, exist_ok=True)
            made = _prepare_office(work, schools)
            notes.append(f"Packages made in {made:.0f} s (not part of the intake time).")
        files = sorted((work / "packages").glob("*.nco"))
        home = Path(tmp) / "office"
        shutil.copytree(work / "office-template", home)
        seconds, peak = run_child(
            cohortsafe("--home", str(home), "office", "receive", str(work / "packages"))
        )
        status = subprocess.run(
            cohortsafe("--home", str(home), "office", "status", "--json"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        counts = json.loads(status)
        rows = [
            {
                "schools": len(files),
                "pupils": counts["pupils"],
                "results": counts["rows"]["toetsresultaten"],
                "intake seconds": seconds,
                "packages/s": len(files) / seconds,
                "peak MiB": peak,
            }
        ]
        notes.append(
            "Results are those of the delivered domains (rekenen-wiskunde, begrijpend "
            "lezen, spelling). Goals: a national year in under 60 s with under 4 GiB."
        )
        return rows, notes


def main() -> None:
    quick = "--quick" in sys.argv
    schools = 200 if quick else 6000
    if "--schools" in sys.argv:
        schools = int(sys.argv[sys.argv.index("--schools") + 1])
    packages_dir = None
    if "--packages" in sys.argv:
        packages_dir = Path(sys.argv[sys.argv.index("--packages") + 1])
    report(
        "office-pseudonyms",
        f"Pseudonyms for {IDENTIFIERS:,} identifiers",
        pseudonym_rows(),
        ["Goal: at least 1 M pseudonyms/s on one core."],
    )
    rows, notes = intake_rows(schools, packages_dir)
    report("office-intake", f"Intake of {schools} school packages", rows, notes)


if __name__ == "__main__":
    main()
