"""The exceptions cohortsafe raises, all under one root.

```
CohortsafeError
├── UsageError              a command was given arguments it cannot work with
├── ConfigurationError      a setting, home folder or key file is unusable
├── ExistsError             something made once (a key, an office) exists already
├── IdentifierError         a BSN, onderwijsnummer or BRIN fails its check
├── ExportError             an LVS export cannot be read at all (missing folder or file)
├── AllowListError          a table for delivery was built with a column that may not leave
├── PackageError            a delivery package or retraction cannot be accepted
│   ├── IntegrityError      a byte changed: digest, envelope or ciphertext does not match
│   ├── SignatureError      not signed by the expected key
│   └── DecryptionError     not encrypted to this key
├── VaultError              the office vault is inconsistent or locked
├── WorkspaceError          a research workspace refuses a statement or cannot be opened
├── AccessError             an account acts outside its role or its projects
├── ProjectError            a research project cannot be made or changed as asked
├── HomeBusyError           another command is working on the same home
├── StorageError            a file cannot be written or read: disk full, read-only, damaged
└── PolicyError             a disclosure-control policy or request is malformed
```

Expected outcomes are not exceptions: a rejected export row, a refused package
in a batch, or a suppressed cell is returned as data with its reasons.

No message carries an identifier, a name, an address or a protected value:
messages name the file, line, column or rule instead, so they can be logged
and shown to anyone.
"""

from __future__ import annotations

__all__ = [
    "AccessError",
    "AllowListError",
    "CohortsafeError",
    "ConfigurationError",
    "DecryptionError",
    "ExistsError",
    "ExportError",
    "HomeBusyError",
    "IdentifierError",
    "IntegrityError",
    "PackageError",
    "PolicyError",
    "ProjectError",
    "SignatureError",
    "StorageError",
    "UsageError",
    "VaultError",
    "WorkspaceError",
]


class CohortsafeError(Exception):
    """Root of every error cohortsafe raises on purpose."""


class UsageError(CohortsafeError):
    """The arguments cannot be worked with (an output folder that is a file, say)."""


class ConfigurationError(CohortsafeError):
    """A setting, the home folder or a key file cannot be used."""


class ExistsError(CohortsafeError):
    """Something that is made once (a key, an office) exists already and is never replaced."""


class IdentifierError(CohortsafeError, ValueError):
    """An identifier fails its check; the message names the check, never the value."""


class ExportError(CohortsafeError):
    """An LVS export cannot be read at all (row problems are returned, not raised)."""


class AllowListError(CohortsafeError):
    """A delivery table was built with a column outside the explicit allow-list."""


class PackageError(CohortsafeError):
    """A delivery package or retraction cannot be accepted."""


class IntegrityError(PackageError):
    """The package was altered: a digest, the envelope or the ciphertext does not match."""


class SignatureError(PackageError):
    """The package is not signed by the expected school key."""


class DecryptionError(PackageError):
    """The package is not encrypted to this office key."""


class VaultError(CohortsafeError):
    """The office vault cannot be read or changed consistently."""


class WorkspaceError(CohortsafeError):
    """A research workspace refuses a statement, or cannot be built or opened."""


class AccessError(CohortsafeError):
    """An account may not do this: wrong role, not in the project, or the project closed."""


class ProjectError(CohortsafeError):
    """A research project cannot be made or changed as asked."""


class PolicyError(CohortsafeError):
    """A disclosure-control policy or output request is malformed."""


class HomeBusyError(CohortsafeError):
    """Another command holds the home's lock and did not finish within the wait."""


class StorageError(CohortsafeError):
    """A file or folder cannot be written or read (a full disk, a read-only home, damage).

    The step that met it changed nothing; the message names the file.
    """
