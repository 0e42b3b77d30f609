"""Django settings, read from the environment through :mod:`cohortsafe.config` in one place."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from cohortsafe.config import load
from cohortsafe.files import PRIVATE_FILE, private_dir, write_private

CONFIG = load()
HOME: Path = CONFIG.home.resolve()


def _secret_key() -> str:
    path = Path(CONFIG.secret_key_file) if CONFIG.secret_key_file else HOME / "secret_key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(50).encode())
    return path.read_text().strip()


private_dir(HOME)
SECRET_KEY = _secret_key()
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "cohortsafe.app.audit",
    "cohortsafe.app.accounts",
    "cohortsafe.app.school",
    "cohortsafe.app.office",
    "cohortsafe.app.research",
    "cohortsafe.app.publish",
    "cohortsafe.app.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cohortsafe.app.web.caching.NeverCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cohortsafe.app.web.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # before any form is parsed (the CSRF check parses it after every __call__)
    "cohortsafe.app.web.bodysize.BodySizeMiddleware",
    # last, so that it sees the outcome of every sign-in
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cohortsafe.app.urls"
WSGI_APPLICATION = "cohortsafe.app.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "csp.context_processors.nonce",
            ]
        },
    }
]

if CONFIG.database_url:
    DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60)}
else:
    _DATABASE = HOME / "cohortsafe.sqlite3"
    # SQLite gives its -wal and -shm files the mode of the database file: 0600 from the start
    os.close(os.open(_DATABASE, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _DATABASE,
            "OPTIONS": {
                # IMMEDIATE serialises writers, which the hash-chained audit log relies on.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]

STATIC_URL = "static/"
# whitenoise serves the apps' static folders as they are: nothing to collect first
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "web:sign-in"

# Sign-in: a strong password, and a second factor for every role but a school's.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = "cohortsafe"

# Five failed sign-ins from one address for one user name: locked for 15 minutes. Stricter
# than address + browser + user name: the browser's name is the attacker's to choose.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_CLIENT_IP_CALLABLE = "cohortsafe.app.web.addresses.client_address"
# behind the TLS proxy, the visitor's address is the one it adds to X-Forwarded-For
COHORTSAFE_BEHIND_PROXY = CONFIG.https
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_VERBOSE = False  # axes would log user names and addresses

# Sessions end after 30 idle minutes and with the browser.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "cohortsafe.app.web.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if CONFIG.https:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

# No inline script or style, nothing from elsewhere, never inside a frame.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

# Uploads: an evidence file or a zipped export, kept in memory up to 2.5 MB, refused over
# the limits each form sets; a form with many fields is not a parent's.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# larger uploads wait in the home, never in a shared /tmp, and are 0600 like every file there
FILE_UPLOAD_TEMP_DIR = str(private_dir(HOME / "uploads"))
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Django's request log would write every refused URL; nothing personal goes to a log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "axes": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
