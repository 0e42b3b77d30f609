"""cohortsafe: pupils' test results from a school's LVS to national cohort research.

The package root holds the pure library core (domain, mechanisms); the Django
project lives in :mod:`cohortsafe.app` and the console in :mod:`cohortsafe.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cohortsafe")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
