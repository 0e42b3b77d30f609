"""Django settings, read from the environment through :mod:`cohortsafe.config` in one place."""

from __future__ import annotations

import os
import secrets
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
    "cohortsafe.app.audit",
    "cohortsafe.app.accounts",
    "cohortsafe.app.school",
    "cohortsafe.app.office",
    "cohortsafe.app.research",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

STATIC_URL = "static/"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
