"""Django settings for the DataDSN portal, configured from the environment.

Environment variables:

- ``DATADSN_HOME``: data directory; the default SQLite database lives at ``$DATADSN_HOME/portal.sqlite3``.
- ``DATABASE_URL``: ``postgres://user:password@host:5432/name`` or ``sqlite:////absolute/path``.
- ``DATADSN_SECRET_KEY``: required unless ``DATADSN_DEBUG=1`` (then a random key is kept in
  ``$DATADSN_HOME/secret_key``).
- ``DATADSN_DEBUG``: ``1`` for development (insecure defaults allowed).
- ``DATADSN_HTTPS``: ``1`` (default when not debugging) for secure cookies and HSTS.
- ``DATADSN_ALLOWED_HOSTS``: comma separated host names.
- ``DATADSN_EMAIL_HOST`` / ``DATADSN_EMAIL_PORT`` / ``DATADSN_EMAIL_USER`` / ``DATADSN_EMAIL_PASSWORD`` /
  ``DATADSN_EMAIL_TLS`` / ``DATADSN_EMAIL_FROM``: SMTP relay for notifications.
- ``DATADSN_OIDC_ISSUER`` / ``DATADSN_OIDC_CLIENT_ID`` / ``DATADSN_OIDC_CLIENT_SECRET``: optional
  OpenID Connect login (ProConnect-style).
- ``DATADSN_SITE_URL``: public base URL used in e-mails (default ``http://localhost:8000``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from datadsn.home import default_home


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def sqlite_database(path: str) -> dict[str, Any]:
    """SQLite for the demo and small deployments, set for concurrent clients: write-ahead log
    (readers never wait for the writer), writers wait up to 20 s for the lock instead of failing,
    and a transaction takes the write lock when it starts (no deadlock on upgrade)."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def database_from_url(url: str) -> dict[str, Any]:
    """Translate a ``DATABASE_URL`` into a Django ``DATABASES['default']`` entry."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
        }
    if parsed.scheme == "sqlite":
        path = url[len("sqlite://") :]
        return sqlite_database(path[1:] if path.startswith("//") else path)
    raise ImproperlyConfigured(f"DATABASE_URL non pris en charge : {parsed.scheme!r}")


def _development_secret_key(home: Path) -> str:
    """Development and demo: a random key kept in the data directory (never a published one)."""
    path = home / "secret_key"
    if path.is_file() and path.read_text(encoding="utf-8").strip():
        return path.read_text(encoding="utf-8").strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


PACKAGE_DIR = Path(__file__).resolve().parent
HOME = default_home()

DEBUG = _flag("DATADSN_DEBUG", False)
SECRET_KEY = os.environ.get("DATADSN_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DATADSN_SECRET_KEY est obligatoire hors mode développement (DATADSN_DEBUG=1)."
        )
    SECRET_KEY = _development_secret_key(HOME)

HTTPS = _flag("DATADSN_HTTPS", not DEBUG)
ALLOWED_HOSTS = [
    h.strip()
    # Django's test runner adds "testserver" itself; a deployment never needs it.
    for h in os.environ.get("DATADSN_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
SITE_URL = os.environ.get("DATADSN_SITE_URL", "http://localhost:8000").rstrip("/")
SERVE_STATIC = _flag("DATADSN_SERVE_STATIC", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "widget_tweaks",
    "dsfr",
    "datadsn.portal.apps.PortalConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (collected into STATIC_ROOT by ``datadsn serve``), before anything else runs.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "datadsn.portal.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "datadsn.portal.urls"
WSGI_APPLICATION = "datadsn.portal.wsgi.application"

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
                "datadsn.portal.context.portal",
            ],
        },
    },
]
FORM_RENDERER = "dsfr.forms.DsfrDjangoTemplates"

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": sqlite_database(str(HOME / "portal.sqlite3"))}

AUTH_USER_MODEL = "portal.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
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
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:home"
# Login throttling (datadsn.portal.throttle), on the portal and the admin login alike.
AUTHENTICATION_BACKENDS = ["datadsn.portal.throttle.ThrottledModelBackend"]
LOGIN_MAX_FAILURES = int(os.environ.get("DATADSN_LOGIN_MAX_FAILURES", "5"))
LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("DATADSN_LOGIN_MAX_FAILURES_PER_IP", "20"))
# Behind a reverse proxy, the META header carrying the client address (e.g. HTTP_X_FORWARDED_FOR).
CLIENT_IP_HEADER = os.environ.get("DATADSN_CLIENT_IP_HEADER", "")
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("DATADSN_LOGIN_LOCKOUT_SECONDS", "900"))

# Comité: a séance needs at least this many votes; a habilitation lasts at most this many years.
COMITE_MIN_QUORUM = int(os.environ.get("DATADSN_COMITE_MIN_QUORUM", "2"))
HABILITATION_MAX_YEARS = int(os.environ.get("DATADSN_HABILITATION_MAX_YEARS", "3"))
# ``datadsn portal remind`` reminds an organisation this many days before its habilitation ends.
HABILITATION_REMINDER_DAYS = tuple(
    int(d) for d in os.environ.get("DATADSN_HABILITATION_REMINDER_DAYS", "60,15").split(",") if d
)

# API tokens expire after this many days (and can be revoked on /compte/jeton-api/).
API_TOKEN_DAYS = int(os.environ.get("DATADSN_API_TOKEN_DAYS", "90"))

CACHES = {
    # Per process: derived figures that may be a minute old (statistics, OIDC discovery).
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Shared by every server process (``datadsn serve`` runs several): login failure counters.
    # Its table is created by a migration (0010).
    "throttle": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_throttle_cache",
    },
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = str(HOME / "static")
# Long cache for the DSFR assets; a missing STATIC_ROOT (tests, before collectstatic) is fine.
WHITENOISE_MAX_AGE = 3600
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = str(HOME / "portal-media")
# The published indicators are read from the warehouse's releases (files, not the database).
WAREHOUSE = HOME / "warehouse"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
LEGAL_PDF_MAX_BYTES = 5 * 1024 * 1024

# Security: cookies, headers, CSRF.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _flag("DATADSN_SSL_REDIRECT", False)
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DATADSN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

EMAIL_BACKEND = os.environ.get(
    "DATADSN_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("DATADSN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DATADSN_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DATADSN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DATADSN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _flag("DATADSN_EMAIL_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get(
    "DATADSN_EMAIL_FROM", "DataDSN <ne-pas-repondre@data-dsn.beta.gouv.fr>"
)

# Optional OpenID Connect (ProConnect-style) login.
OIDC_ISSUER = os.environ.get("DATADSN_OIDC_ISSUER", "")
OIDC_CLIENT_ID = os.environ.get("DATADSN_OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = os.environ.get("DATADSN_OIDC_CLIENT_SECRET", "")
OIDC_SCOPES = os.environ.get("DATADSN_OIDC_SCOPES", "openid email given_name usual_name siret")
OIDC_LABEL = os.environ.get("DATADSN_OIDC_LABEL", "ProConnect")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DSFR_MARK_OPTIONAL_FIELDS = True
SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008"] if not HTTPS else []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "datadsn.portal": {"handlers": ["console"], "level": "INFO"},
        # A 500 leaves its traceback on stderr (Django only mails it to ADMINS otherwise).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
