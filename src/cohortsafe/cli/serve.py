"""``cohortsafe serve``: the web application, under gunicorn (or Django's server with --dev)."""

from __future__ import annotations

import argparse
from typing import Any

from cohortsafe.cli._commands import Subparsers, add_command
from cohortsafe.cli._home import open_home
from cohortsafe.cli._report import Report
from cohortsafe.errors import UsageError


def register(groups: Subparsers) -> None:
    parser = add_command(
        groups,
        "serve",
        _serve,
        "run the web application for this home until stopped (Ctrl+C)",
        example="cohortsafe --home school serve --addr 127.0.0.1:8000",
    )
    parser.add_argument(
        "--addr",
        default="127.0.0.1:8000",
        metavar="HOST:PORT",
        help="address to listen on; put a TLS proxy in front for anything but this machine",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (4 threads each)"
    )
    parser.add_argument(
        "--dev", action="store_true", help="Django's development server instead of gunicorn"
    )


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError("--addr is HOST:PORT, e.g. 127.0.0.1:8000")
    return host, int(port)


def _serve(args: argparse.Namespace) -> Report:
    host, port = _address(args.addr)
    if args.workers < 1:
        raise UsageError("--workers is at least 1")
    open_home()
    if args.dev:
        from django.core.management import call_command

        call_command("runserver", f"{host}:{port}", use_reloader=False)
    else:
        _gunicorn(f"{host}:{port}", args.workers)
    return Report.ok({"stopped": True}, "the web application stopped")


def _gunicorn(bind: str, workers: int) -> None:
    from django.core.wsgi import get_wsgi_application
    from gunicorn.app.base import BaseApplication

    application = get_wsgi_application()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": bind,
                "workers": workers,
                "worker_class": "gthread",
                "threads": 4,
                "timeout": 120,
                # no access log: addresses and paths of parents' requests stay out of logs
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "proc_name": "cohortsafe",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()
