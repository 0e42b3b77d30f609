"""``cohortsafe keys new``: a hybrid post-quantum key pair in two files."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from cohortsafe.cli._commands import Subparsers, add_command, add_examples, add_group
from cohortsafe.cli._report import Report
from cohortsafe.errors import ConfigurationError

EXAMPLES = {"new": "cohortsafe keys new --name school --out .cohortsafe"}


def register(groups: Subparsers) -> None:
    keys = add_group(groups, "keys", "signing and encryption keys")
    p = add_command(
        keys,
        "new",
        _new,
        "write NAME.key (private, mode 0600) and NAME.pub: ML-KEM-768+X25519 for "
        "encryption, Ed25519 and ML-DSA-65 for signatures",
    )
    p.add_argument("--name", required=True, help="file name of the pair, e.g. school")
    p.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder to write the two files to"
    )
    p.add_argument(
        "--role",
        choices=["school", "office"],
        default="school",
        help="who holds the key: a school signs deliveries, the office receives them "
        "(`office init` makes the office's)",
    )
    add_examples(keys, EXAMPLES)


def _new(args: argparse.Namespace) -> Report:
    from cohortsafe.package import KeyPair, write_key_pair

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", args.name):
        raise ConfigurationError("a key name is letters, digits, '.', '_' or '-'")
    pair = KeyPair.generate(args.name, role=args.role)
    private, public = write_key_pair(pair, args.out)
    data = {
        "private": str(private),
        "public": str(public),
        "fingerprint": pair.public.fingerprint,
        "role": args.role,
    }
    return Report.ok(
        data,
        f"wrote {args.role} key {private} (keep it secret) and {public}; "
        f"fingerprint {pair.public.fingerprint}",
    )
