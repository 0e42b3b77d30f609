"""`make bench`: run every bench/bench_*.py in turn (pass --quick for small sizes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    extra = sys.argv[1:]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n# {script.stem}", flush=True)
        result = subprocess.run([sys.executable, str(script), *extra], check=False)
        if result.returncode:
            failed.append(script.name)
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
