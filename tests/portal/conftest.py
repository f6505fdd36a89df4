"""Portal tests: Django is configured here only, so the rest of the suite runs without it."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest

_HOME = tempfile.mkdtemp(prefix="datadsn-portal-tests-")
os.makedirs(os.path.join(_HOME, "static"))  # STATIC_ROOT, which WhiteNoise reads (empty here)
# The portal reads these once, when its settings module is imported; they are restored afterwards
# so that the rest of the suite (which may use DATADSN_HOME) sees its usual environment.
_ENV = {
    "DATADSN_SECRET_KEY": "tests-only-secret-key-0123456789abcdef",
    "DATADSN_DEBUG": "0",
    "DATADSN_HTTPS": "0",
    "DATADSN_HOME": _HOME,
    "DATADSN_SITE_URL": "http://testserver",
}
_saved = {k: os.environ.get(k) for k in _ENV}
os.environ.update(_ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "datadsn.portal.settings"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

for _k, _v in _saved.items():
    if _v is None:
        os.environ.pop(_k, None)
    else:
        os.environ[_k] = _v

PRODUCTION_HASHERS = list(settings.PASSWORD_HASHERS)
# Argon2 is checked in its own test; elsewhere a fast hasher keeps the suite quick.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

PASSWORD = "mot-de-passe-de-test-42"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "ignore::UserWarning:dsfr.forms")
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:dsfr.forms")


# --- A real SMTP sink --------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        msg["X-Rcpt"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["X-Rcpt"]]

    def body(self, msg: Message) -> str:
        return str(msg.get_content())  # type: ignore[attr-defined]

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"message attendu non reçu ; reçus : {self.subjects()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(autouse=True)
def mailbox(smtp_sink: tuple[Mailbox, int], settings: Any) -> Mailbox:
    box, port = smtp_sink
    box.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    return box


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Login failure counters (and other cached values) never leak from one test to another."""
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    # The database cache (login counters) is rolled back with each test's transaction.
    local = [c for c in caches.all() if not isinstance(c, DatabaseCache)]
    for c in local:
        c.clear()
    yield
    for c in local:
        c.clear()


# --- A small world: two organisations, one account per role, requests in several states ---------


@dataclass
class World:
    org_a: Any
    org_b: Any
    users: dict[str, Any]
    session: Any
    req: dict[str, Any]
    hab_a: Any
    hab_b: Any


FILLED: dict[str, Any] = dict(
    controller_name="Direction générale des services",
    controller_email="dgs@orga.example",
    dpo_name="Déléguée à la protection des données",
    dpo_email="dpo@orga.example",
    tech_name="Service données",
    tech_email="tech@orga.example",
    purpose="Piloter les aides à l'embauche.",
    policy_domain="emploi",
    public_policy="Aides régionales à l'embauche.",
    legal_basis_text="Article L. 133-5-3 du code de la sécurité sociale.",
    indicators=["EFF_FIN"],
    frequency="mensuelle",
    retention_months=24,
    security_measures="Accès nominatifs et journalisés.",
)


def make_user(email: str, role: str, org: Any = None) -> Any:
    from datadsn.portal.models import User

    return User.objects.create_user(
        username=email,
        email=email,
        password=PASSWORD,
        role=role,
        organisation=org,
        organisation_confirmed=org is not None,
        email_verified=True,
        first_name=email.split("@")[0].capitalize(),
        last_name="Test",
    )


def filled_request(user: Any, title: str) -> Any:
    from django.utils import timezone

    from datadsn.portal import services

    r = services.create_draft(user)
    services.save_step(user, r, {**FILLED, "title": title, "cgu_accepted_at": timezone.now()}, 5)
    return r


def build_world() -> World:
    from datadsn.portal import services
    from datadsn.portal.demo import complete_siret
    from datadsn.portal.models import Organisation

    org_a = Organisation.objects.create(
        name="Région A", siret=complete_siret("2000000000001"), actor_type="collectivite"
    )
    org_b = Organisation.objects.create(
        name="Ministère B", siret=complete_siret("1100000000002"), actor_type="etat"
    )
    u = {
        "req_a": make_user("demandeur.a@orga.example", "demandeur", org_a),
        "req_b": make_user("demandeur.b@orgb.example", "demandeur", org_b),
        "instructor": make_user("instructeur@data-dsn.example", "instructeur"),
        "member": make_user("membre@data-dsn.example", "membre"),
        "member2": make_user("membre2@data-dsn.example", "membre"),
        "chair": make_user("presidente@data-dsn.example", "president"),
        "admin": make_user("admin@data-dsn.example", "admin"),
    }
    from django.utils import timezone

    # The séance takes place today: the chair may decide (never before the séance date).
    session = services.create_session(u["instructor"], "Séance de test", timezone.localdate(), 2)
    req: dict[str, Any] = {}
    req["draft_a"] = filled_request(u["req_a"], "Brouillon A")
    req["submitted_a"] = filled_request(u["req_a"], "Déposée A")
    services.submit(u["req_a"], req["submitted_a"])
    req["review_a"] = filled_request(u["req_a"], "Au comité A")
    services.submit(u["req_a"], req["review_a"])
    services.schedule(u["instructor"], req["review_a"], session)
    habs = {}
    for key, who in (("approved_a", "req_a"), ("approved_b", "req_b")):
        r = filled_request(u[who], f"Acceptée {key[-1].upper()}")
        services.submit(u[who], r)
        services.schedule(u["instructor"], r, session)
        services.vote(u["member"], r, "favorable", "")
        services.vote(u["member2"], r, "favorable", "")
        habs[key] = services.decide(u["chair"], r, True, "")
        req[key] = r
    req["submitted_b"] = filled_request(u["req_b"], "Déposée B")
    services.submit(u["req_b"], req["submitted_b"])
    for r in req.values():
        r.refresh_from_db()
    return World(org_a, org_b, u, session, req, habs["approved_a"], habs["approved_b"])


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def superadmin(world: World) -> Any:
    """The world's admin account, allowed into Django's /admin/."""
    admin = world.users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return admin


@pytest.fixture(autouse=True)
def _journal_triggers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Transactional tests end with Django's flush, which on SQLite deletes every row: the
    append-only triggers are lifted just for that flush and put back for the next test."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    from datadsn.portal import journal

    journal.install_triggers(connection)
    yield
    if connection.vendor == "sqlite":
        journal.drop_triggers(connection)
