"""The parents' objection form under load: `cohortsafe serve` on PostgreSQL, loopback only.

    python bench/bench_web.py [--quick] [--parents N] [--seconds S] [--schools K]

1. A private, throw-away PostgreSQL cluster (`scripts/with-postgres.sh`, which this script
   runs itself around a second copy of itself); without Debian's postgresql, SQLite in the
   home, and the report says so.
2. A school home (0700) with `cohortsafe synth` and `cohortsafe school import`, then
   `cohortsafe serve --workers 2` (gunicorn, 2 workers × 4 threads) on 127.0.0.1.
3. Baseline: the same number of clients fetch `/toegankelijkheid/` (a page with no data
   behind it, through the same stack) for a few seconds.
4. The load: 50 parents (10 with --quick) for 30 s (5 s). Each one loops: GET the form for
   the CSRF cookie and token, POST a filled-in form. Every parent sends from its own loopback
   address (127.1.x.y), a fresh one every 5 forms, so the limit of 5 forms an hour per
   address never refuses it. The school's own limit (300 forms an hour) is the product's,
   and is left as it is: forms past it are counted as refused (429).
5. The status page: the same clients look up the references they were given (a fresh
   address every 10 lookups, under the page's own limit per address).
6. The server is stopped; every reference a parent was given must be stored exactly once,
   and the audit log must hold one event per form and still verify.

Latencies are client-side wall times of one request (send to last byte read), in ms; the
POST's p95 is also given as a ratio to the baseline's p95 measured in the same run.
Standard library only on the client side; nothing is timed as a pass or fail.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import glob
import http.client
import http.cookies
import itertools
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _common import cohortsafe, report  # noqa: E402

WITH_POSTGRES = ROOT / "scripts" / "with-postgres.sh"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFERENCE = re.compile(r'<p class="reference">([2-9A-Z]{4}-[2-9A-Z]{4})</p>')
PENDING = "De school heeft uw formulier nog niet bekeken."
FIRST_NAMES = ["Sanne", "Daan", "Noor", "Sem", "Emma", "Lucas", "Julia", "Finn", "Tess", "Milan"]
LAST_NAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder"]
PER_ADDRESS = 5  # FormLimits.per_sender: forms one address may send in an hour
PER_SCHOOL = 300  # FormLimits.per_school: forms one school may receive in an hour
MOST = "SELECT count(*) FROM school_parentform"
REQUEST_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_numbers = itertools.count()
_numbers_guard = threading.Lock()


def _fresh_address() -> str:
    """A loopback address no client has used yet in this run: 127.1.0.1, 127.1.0.2, …"""
    with _numbers_guard:
        n = next(_numbers)
    return f"127.{1 + n // 64516}.{n // 254 % 254 + 1}.{n % 254 + 1}"


@dataclass
class Sample:
    kind: str  # "baseline", "form", "post", "status-page", "status"
    status: int  # 0 when no answer came
    ms: float
    end: float  # perf_counter when the last byte was read
    error: str = ""  # what went wrong, when something did
    reference: str = ""  # the reference an accepted form was given


@dataclass
class Answer:
    status: int
    text: str
    cookies: list[str]
    sample: Sample


@dataclass
class Log:
    samples: list[Sample] = field(default_factory=list)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.guard:
            self.samples.append(sample)

    def of(self, kind: str, status: int | None = None) -> list[Sample]:
        return [
            s for s in self.samples if s.kind == kind and (status is None or s.status == status)
        ]


class Client:
    """One keep-alive connection from one loopback address; a new one after an error."""

    def __init__(self, port: int, log: Log) -> None:
        self.port, self.log = port, log
        self.address = _fresh_address()
        self.conn: http.client.HTTPConnection | None = None
        self.sent = 0  # requests (or forms) sent from this address

    def new_address(self) -> None:
        self.close()
        self.address = _fresh_address()
        self.sent = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self, kind: str, method: str, path: str, body: str | None = None, cookie: str = ""
    ) -> Answer | None:
        """Send one request and read the whole answer; log it; None when no answer came."""
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        if cookie:
            headers["Cookie"] = cookie
        start = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1",
                    self.port,
                    timeout=REQUEST_TIMEOUT,
                    source_address=(self.address, 0),
                )
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            end = time.perf_counter()
            self.log.add(Sample(kind, 0, (end - start) * 1000, end, error=type(error).__name__))
            self.close()
            return None
        end = time.perf_counter()
        sample = Sample(kind, response.status, (end - start) * 1000, end)
        if response.status not in (200, 429):
            sample.error = f"status {response.status}"
        self.log.add(sample)
        if (response.getheader("Connection") or "").lower() == "close":
            self.close()
        return Answer(response.status, text, response.msg.get_all("Set-Cookie") or [], sample)


def _csrf(client: Client, kind: str, path: str) -> tuple[str, str] | None:
    """GET a page with a form: the CSRF cookie header and the form's token."""
    answer = client.request(kind, "GET", path)
    if answer is None or answer.status != 200:
        return None
    jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    for header in answer.cookies:
        jar.load(header)
    found = TOKEN.search(answer.text)
    if "csrftoken" not in jar or found is None:
        answer.sample.error = "no CSRF cookie or token"
        return None
    return f"csrftoken={jar['csrftoken'].value}", found.group(1)


def _parent(client: Client, code: str, rng: random.Random, given: list[str]) -> None:
    """One parent's round: fetch the form, send it; a fresh address every PER_ADDRESS forms."""
    path = f"/bezwaar/{code}/"
    csrf = _csrf(client, "form", path)
    if csrf is None:
        time.sleep(0.05)
        return
    cookie, token = csrf
    today = dt.date.today()
    birth = today - dt.timedelta(days=rng.randint(6 * 365 + 2, 12 * 365))
    last = rng.choice(LAST_NAMES)
    fields = {
        "csrfmiddlewaretoken": token,
        "child_name": f"{rng.choice(FIRST_NAMES)} {last}",
        "child_birth_date": birth.isoformat(),
        "child_group": str(rng.randint(1, 8)),
        "parent_name": f"{rng.choice(FIRST_NAMES)} {last}",
        "parent_contact": f"ouder{rng.randrange(10**6)}@example.invalid",
        "website": "",
    }
    answer = client.request("post", "POST", path, urllib.parse.urlencode(fields), cookie)
    client.sent += 1
    if client.sent >= PER_ADDRESS:
        client.new_address()
    if answer is not None and answer.status == 200:
        found = REFERENCE.search(answer.text)
        if found:
            answer.sample.reference = found.group(1)
            given.append(found.group(1))  # list.append is atomic under the GIL
        else:
            answer.sample.error = "200 without a reference"


def _status(client: Client, references: list[str], rng: random.Random) -> None:
    """One parent looks up a reference they were given."""
    path = "/bezwaar/status/"
    csrf = _csrf(client, "status-page", path)
    if csrf is None or not references:
        time.sleep(0.05)
        return
    cookie, token = csrf
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "reference": rng.choice(references)}
    )
    answer = client.request("status", "POST", path, body, cookie)
    client.sent += 1
    if client.sent >= 2 * PER_ADDRESS:  # well under the lookups one address may make an hour
        client.new_address()
    if answer is not None and answer.status == 200 and PENDING not in answer.text:
        answer.sample.error = "state not shown as pending"


def _crowd(clients: int, seconds: float, port: int, log: Log, step: Callable[..., None]) -> float:
    """``clients`` threads each repeating ``step(client, rng)`` for ``seconds``; wall time."""
    start = time.perf_counter()
    deadline = start + seconds

    def run(index: int) -> None:
        client, rng = Client(port, log), random.Random(index)
        try:
            while time.perf_counter() < deadline:
                step(client, rng)
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    give_up = deadline + 2 * REQUEST_TIMEOUT  # a GET and a POST begun just before the end
    for thread in threads:
        thread.join(max(0.0, give_up - time.perf_counter()))
    return time.perf_counter() - start


@dataclass(frozen=True)
class Cpu:
    """CPU seconds spent so far by the server's processes, the database's and this client."""

    server: float
    database: float
    client: float

    @staticmethod
    def now(server_group: int) -> Cpu:
        tick = os.sysconf("SC_CLK_TCK")
        server = database = 0.0
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                text = Path(stat).read_text()
            except OSError:
                continue  # it ended while we looked
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            used = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            if int(fields[2]) == server_group:  # the process group `cohortsafe serve` leads
                server += used
            elif name == "postgres":
                database += used
        times = os.times()
        return Cpu(server, database, times.user + times.system)

    def since(self, before: Cpu) -> Cpu:
        return Cpu(
            self.server - before.server,
            self.database - before.database,
            self.client - before.client,
        )


def _pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def _row(what: str, samples: list[Sample], seconds: float, base: float | None) -> dict[str, Any]:
    ms = [s.ms for s in samples]
    p95 = _pct(ms, 95)
    return {
        "requests": what,
        "count": len(samples),
        "per s": len(samples) / seconds if seconds else None,
        "p50 ms": _pct(ms, 50),
        "p95 ms": p95,
        "p99 ms": _pct(ms, 99),
        "p95 ratio": p95 / base if p95 is not None and base else None,
    }


# --- the set-up: home, database, server ------------------------------------------------


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise SystemExit(f"{' '.join(args[2:4])} failed:\n{done.stdout}{done.stderr}"[-2000:])


def _create_database(url: str) -> None:
    """with-postgres.sh starts a cluster; the database DATABASE_URL names is made here."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        conn.execute(f'CREATE DATABASE "{name}"')


def _query(url: str | None, home: Path, sql: str) -> list[tuple[Any, ...]]:
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            return list(conn.execute(sql).fetchall())
    import sqlite3

    with contextlib.closing(sqlite3.connect(home / "cohortsafe.sqlite3")) as conn:
        return list(conn.execute(sql).fetchall())


@contextlib.contextmanager
def _server(env: dict[str, str], port: int, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`cohortsafe serve` in its own process group; stopped (TERM, then KILL) on the way out."""
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            cohortsafe("serve", "--addr", f"127.0.0.1:{port}", "--workers", "2"),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield server
        finally:
            _stop(server)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)


def _wait_ready(server: subprocess.Popen[bytes], port: int, log: Log, seconds: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        if server.poll() is not None:
            raise SystemExit(f"cohortsafe serve stopped at start (exit {server.returncode})")
        response = Client(port, log).request("ready", "GET", "/toegankelijkheid/")
        if response is not None and response.status == 200:
            return time.perf_counter() - start
        time.sleep(0.2)
    raise SystemExit(f"cohortsafe serve did not answer within {seconds:g} s")


# --- the benchmark ---------------------------------------------------------------------


def _inner(args: argparse.Namespace, database: str) -> None:
    url = os.environ.get("DATABASE_URL") or None
    args.loadavg = os.getloadavg()[0]  # another job on the machine shows here
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        tmp.chmod(0o700)
        home = tmp / "home"
        env = {**os.environ, "COHORTSAFE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        if url:
            _create_database(url)
        else:
            env.pop("DATABASE_URL", None)
        exports = tmp / "exports"
        setup = time.perf_counter()
        _run(
            cohortsafe(
                "synth", "--schools", str(args.schools), "--seed", "7", "--out", str(exports)
            ),
            env,
        )
        _run(cohortsafe("school", "import", str(exports)), env)
        codes = sorted(p.name for p in exports.glob("*/*") if p.is_dir())
        setup = time.perf_counter() - setup
        port = _free_port()
        log = Log()
        server_log = tmp / "serve.log"
        with _server(env, port, server_log) as server:
            ready = _wait_ready(server, port, log, 60)
            _crowd(2, 1, port, Log(), lambda c, _r: c.request("warm", "GET", "/toegankelijkheid/"))

            def baseline(client: Client, _rng: random.Random) -> None:
                client.request("baseline", "GET", "/toegankelijkheid/")
                client.sent += 1
                if client.sent >= 2 * PER_ADDRESS:  # as many requests as a parent's connection
                    client.new_address()

            base_s = _crowd(args.parents, args.baseline, port, log, baseline)
            given: list[str] = []
            load_start = time.perf_counter()
            cpu_before = Cpu.now(server.pid)
            load_s = _crowd(
                args.parents,
                args.seconds,
                port,
                log,
                lambda c, r: _parent(c, codes[r.randrange(len(codes))], r, given),
            )
            cpu = Cpu.now(server.pid).since(cpu_before)
            status_s = _crowd(
                args.parents, args.status, port, log, lambda c, r: _status(c, given, r)
            )
            died = server.poll()
        server_text = server_log.read_text("utf-8", "replace")
        if args.keep_log:
            shutil.copyfile(server_log, args.keep_log)
        _report(
            args, database, url, home, env, log, codes, given, server_text, died,
            setup=setup, ready=ready, base_s=base_s, load_s=load_s, status_s=status_s,
            load_start=load_start, cpu=cpu,
        )  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _report(
    args: argparse.Namespace,
    database: str,
    url: str | None,
    home: Path,
    env: dict[str, str],
    log: Log,
    codes: list[str],
    given: list[str],
    server_text: str,
    died: int | None,
    *,
    setup: float,
    ready: float,
    base_s: float,
    load_s: float,
    status_s: float,
    load_start: float,
    cpu: Cpu,
) -> None:
    posts = log.of("post")
    accepted = [s for s in posts if s.status == 200 and s.reference]
    refused = [s for s in posts if s.status == 429]
    forms = log.of("form")
    load = forms + posts
    errors = [s for s in log.samples if s.error and s.kind not in ("ready", "warm")]
    status_rows = log.of("status-page") + log.of("status")
    status_errors = [s for s in status_rows if s.error]
    status_refused = log.of("status", 429)
    form_path = codes[0] if len(codes) == 1 else "BRINVEST"
    base_p95 = _pct([s.ms for s in log.of("baseline")], 95)

    # stored exactly once?
    stored = [r[0] for r in _query(url, home, "SELECT reference FROM school_parentform")]
    stored_count = Counter(stored)
    given_count = Counter(given)
    lost = sorted(set(given_count) - set(stored_count))
    doubled = sorted(r for r, n in stored_count.items() if n > 1)
    doubled += sorted(r for r, n in given_count.items() if n > 1 and r not in doubled)
    extra = sorted(set(stored_count) - set(given_count))
    # the limits are counted, then the form stored: a race unless the count holds the chain
    per_school, per_sender = (
        max((n for (n,) in _query(url, home, f"{MOST} GROUP BY {column}")), default=0)
        for column in ("school_id", "sender")
    )
    events = Counter(
        action
        for (action,) in _query(
            url,
            home,
            "SELECT action FROM audit_auditevent "
            "WHERE action IN ('school.parent_form', 'school.parent_form_limited')",
        )
    )
    verify = subprocess.run(
        cohortsafe("audit", "verify", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    chain = "intact" if verify.returncode == 0 else f"BROKEN: {verify.stdout.strip()[:300]}"

    rows = [
        _row(
            f"GET /toegankelijkheid/, {args.parents} clients (baseline)",
            log.of("baseline"),
            base_s,
            base_p95,
        ),
        _row(f"GET /bezwaar/{form_path}/ (form page, during the load)", forms, load_s, base_p95),
        _row("POST the form: accepted (200 + reference)", accepted, load_s, base_p95),
        _row("POST the form: refused (429)", refused, load_s, base_p95),
        _row("POST the form: every answer", posts, load_s, base_p95),
        _row("load: every request (GET + POST)", load, load_s, base_p95),
        _row("GET /bezwaar/status/ (status page)", log.of("status-page"), status_s, base_p95),
        _row("POST /bezwaar/status/ (look up a reference)", log.of("status"), status_s, base_p95),
    ]
    first_refusal = min((s.end for s in refused), default=None)
    last_accept = max((s.end for s in accepted), default=load_start)
    accept_window = last_accept - load_start
    p95 = _pct([s.ms for s in accepted], 95)
    kinds = Counter(f"{s.kind}: {s.error}" for s in errors)
    # the last line of each traceback names the exception; other warnings count as lines
    raised = Counter(
        line.strip()[:200]
        for line in server_text.splitlines()
        if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Busy\w*|Timeout\w*)(: |$)", line.strip())
    )
    logged = [
        line
        for line in server_text.splitlines()
        if re.search(r"error|exception|traceback|busy|timeout|critical", line, re.IGNORECASE)
    ]
    notes = [
        f"Database: {database}. {len(codes)} school(s) ({', '.join(codes)}), one home; "
        f"`cohortsafe serve --workers 2` (gunicorn gthread, 2 × 4 threads); {args.parents} "
        f"parents for {args.seconds:g} s, each from its own loopback address, a fresh one every "
        f"{PER_ADDRESS} forms. Client, server and database share this machine "
        f"({os.cpu_count()} CPUs; load average {args.loadavg:.1f} just before). "
        f"Set-up (synth + import) {setup:.1f} s; server ready in "
        f"{ready:.1f} s.",
        f"Throughput: {len(load) / load_s:.1f} requests/s in all, {len(posts) / load_s:.1f} "
        f"form POSTs/s answered; accepted {len(accepted)} forms, "
        + (
            f"{len(accepted) / accept_window:.1f}/s until the school's limit refused the first "
            f"one after {first_refusal - load_start:.1f} s"
            if first_refusal is not None and accept_window > 0
            else f"{len(accepted) / load_s:.1f}/s"
        )
        + ".",
        f"Forms: accepted {len(accepted)}, refused (429) {len(refused)}. Errors, every phase: "
        f"{len(errors)}"
        + (f" ({', '.join(f'{k}: {n}' for k, n in kinds.most_common(6))})" if errors else "")
        + ".",
        f"Stored exactly once: {len(stored)} rows in school_parentform for {len(given)} "
        f"references given; lost {len(lost)}, doubled {len(doubled)}, stored but never "
        f"acknowledged {len(extra)}"
        + (f" (lost: {', '.join(lost[:5])})" if lost else "")
        + (f" (doubled: {', '.join(doubled[:5])})" if doubled else "")
        + f". Audit log: {events['school.parent_form']} school.parent_form events ("
        + (
            "one per stored form"
            if events["school.parent_form"] == len(stored)
            else "NOT one per stored form"
        )
        + f"), {events['school.parent_form_limited']} school.parent_form_limited; hash chain "
        f"{chain}.",
        f"goal: p95 < 200 ms — {'met' if p95 is not None and p95 < 200 else 'not met'} "
        f"(accepted POSTs' p95 {p95 if p95 is None else round(p95)} ms, "
        f"{p95 / base_p95 if p95 and base_p95 else float('nan'):.1f}× the baseline's p95); "
        f"none lost — {'met' if not lost else 'not met'}; none doubled — "
        f"{'met' if not doubled else 'not met'}"
        + (
            f"; but {len(extra)} forms were stored while their parent got no reference (an "
            f"error instead), so a parent who tries again objects twice"
            if extra
            else ""
        )
        + ".",
        f"Status page: {len(status_rows)} requests in {status_s:.1f} s; "
        + (
            f"{len(status_errors)} of them went wrong"
            if status_errors
            else "every lookup answered showed the reference's state (pending)"
        )
        + (f"; {len(status_refused)} lookups refused (429)" if status_refused else "")
        + ".",
    ]
    used = cpu.server + cpu.database + cpu.client
    cores = os.cpu_count() or 1
    if load:
        per = 1000 / len(load)
        notes.append(
            f"Where the time goes, during the load: CPU {cpu.server * per:.1f} ms per request "
            f"in the server, {cpu.database * per:.1f} ms in PostgreSQL, {cpu.client * per:.1f} "
            f"ms in this client: {used / load_s:.2f} of the machine's {cores} cores busy. "
            f"With {args.parents} parents each waiting for their answer before the next "
            f"request, a request waits {1000 * args.parents / (len(load) / load_s):.0f} ms on "
            f"average (Little's law at {len(load) / load_s:.0f} requests/s); a p95 under "
            f"200 ms would need about {args.parents / 0.1:.0f} requests/s, that is at most "
            f"{1000 * cores / (args.parents / 0.1):.1f} ms of CPU per request for server, "
            f"database and client together."
        )
    if per_school > PER_SCHOOL or per_sender > PER_ADDRESS:
        notes.append(
            f"Finding: a limit was overshot: {per_school} forms stored for one school (limit "
            f"{PER_SCHOOL}), {per_sender} for one address (limit {PER_ADDRESS}); two requests "
            f"checked the limit before either had stored its form."
        )
    if "homelock.py" in server_text:
        notes.append(
            "Finding: tracebacks end in cohortsafe/homelock.py (the home's lock, `lock_home`, "
            "taken by `holds_home`): its re-entrancy count is kept per process, so a second "
            "gunicorn thread of one worker takes it for re-entry, skips the flock, and fails "
            "with KeyError when the first thread has released the lock before it — after the "
            "service's transaction has committed."
        )
    if first_refusal is not None:
        notes.append(
            f"Finding: the school's limit of 300 forms an hour (FormLimits.per_school) capped "
            f"the run after {first_refusal - load_start:.1f} s: once {len(stored)} forms were "
            f"stored ({len(accepted)} of them acknowledged), every further form got 429, so "
            f"the rest of the load measures the refusal (which also counts under the audit log's "
            f"head and writes an audit event). `--schools 8` spreads the parents over 8 "
            f"locations of one home, each with its own limit."
        )
    if died is not None:
        notes.append(f"cohortsafe serve stopped during the run (exit {died}).")
    if logged:
        notes.append(
            f"The server logged {len(logged)} lines about errors"
            + (
                "; exceptions raised: "
                + "; ".join(f"{n} × {line}" for line, n in raised.most_common(4))
                if raised
                else f"; the first: {logged[0].strip()[:300]}"
            )
            + "."
        )
    else:
        notes.append("The server logged no errors (no 500s, no busy home, no lock timeouts).")
    report("web-load", "The parents' form under load", rows, notes)


# --- the entry point: PostgreSQL around a second copy of this script --------------------


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 parents for 5 s")
    parser.add_argument("--parents", type=int, help="concurrent parents (default 50)")
    parser.add_argument("--seconds", type=float, help="length of the load (default 30)")
    parser.add_argument("--schools", type=int, default=1, help="school locations in the home")
    parser.add_argument("--sqlite", action="store_true", help="SQLite, even with PostgreSQL")
    parser.add_argument("--keep-log", metavar="FILE", help="copy the server's log to FILE")
    parser.add_argument("--inner", metavar="DATABASE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.parents = args.parents or (10 if args.quick else 50)
    args.seconds = args.seconds or (5.0 if args.quick else 30.0)
    args.baseline = args.status = 2.0 if args.quick else 5.0
    return args


def main() -> int:
    args = _arguments()
    # stopped from outside: the finally blocks still stop the server and the cluster
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench_web: stopped"))
    if args.inner:
        _inner(args, args.inner)
        return 0
    if os.environ.get("DATABASE_URL") and not args.sqlite:
        _inner(args, "PostgreSQL (DATABASE_URL as given)")
        return 0
    if args.sqlite or not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        os.environ.pop("DATABASE_URL", None)
        why = "asked for" if args.sqlite else "Debian's postgresql is not installed"
        _inner(args, f"SQLite in the home ({why}; the goal is about PostgreSQL)")
        return 0
    versions = [p.split("/")[4] for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    version = max(versions, key=lambda v: [int(n) for n in re.findall(r"\d+", v)] or [0])
    command = [
        str(WITH_POSTGRES),
        sys.executable,
        str(Path(__file__).resolve()),
        *sys.argv[1:],
        "--inner",
        f"PostgreSQL {version} (a private cluster, fsync=off, scripts/with-postgres.sh)",
    ]
    wrapper = subprocess.Popen(command, start_new_session=True)
    try:
        return wrapper.wait(timeout=args.seconds + args.baseline + args.status + 240)
    except subprocess.TimeoutExpired:
        print("the benchmark took too long; stopping it", file=sys.stderr)
        return 1
    finally:
        if wrapper.poll() is None:
            # the wrapper's trap stops the cluster and removes its folder
            with contextlib.suppress(ProcessLookupError):
                os.killpg(wrapper.pid, signal.SIGTERM)
            wrapper.wait(30)


if __name__ == "__main__":
    raise SystemExit(main())
