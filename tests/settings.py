"""Settings for the test run: the real ones, with a throw-away home and a fast password hasher."""

import os
import tempfile

os.environ.setdefault("COHORTSAFE_HOME", tempfile.mkdtemp(prefix="cohortsafe-test-"))

from cohortsafe.app.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
