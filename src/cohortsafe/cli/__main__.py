"""``python -m cohortsafe.cli``: the console without the installed script."""

from cohortsafe.cli import main

if __name__ == "__main__":  # worker processes import this module again; only run once
    raise SystemExit(main())
