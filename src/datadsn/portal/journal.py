"""The audit journal is append-only where it lives: database triggers and a hash chain.

Each event stores the SHA-256 of its own content and of the previous event's hash, so that a row
changed, removed or inserted behind the application's back breaks the chain at that point;
``verify`` names the first broken link. The triggers refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

TABLE = "portal_event"
MESSAGE = "Le journal d'audit est en ajout seul"

SQLITE_TRIGGERS = [
    (
        f"portal_event_no_{op.lower()}",
        f"CREATE TRIGGER IF NOT EXISTS portal_event_no_{op.lower()} BEFORE {op} ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE.replace(chr(39), chr(39) * 2)}'); END",
    )
    for op in ("UPDATE", "DELETE")
]
POSTGRES_INSTALL = f"""
CREATE OR REPLACE FUNCTION portal_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '{MESSAGE.replace("'", "''")} (% refusé)', TG_OP;
END
$$;
DROP TRIGGER IF EXISTS portal_event_append_only ON {TABLE};
CREATE TRIGGER portal_event_append_only BEFORE UPDATE OR DELETE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION portal_event_append_only();
"""
POSTGRES_DROP = f"""
DROP TRIGGER IF EXISTS portal_event_append_only ON {TABLE};
DROP FUNCTION IF EXISTS portal_event_append_only();
"""


def install_triggers(conn: Any = connection) -> None:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(POSTGRES_INSTALL)
        elif conn.vendor == "sqlite":
            for _, sql in SQLITE_TRIGGERS:
                cursor.execute(sql)


def drop_triggers(conn: Any = connection) -> None:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)
        elif conn.vendor == "sqlite":
            for name, _ in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def triggers_installed(conn: Any = connection) -> bool:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'portal_event_append_only'"
            )
            return bool(cursor.fetchone()[0])
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            return cursor.fetchone()[0] == len(SQLITE_TRIGGERS)
    return False


def lock(conn: Any = connection) -> None:
    """Serialise journal writers until the end of the transaction (so the chain never forks)."""
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(190019)")


def normalise(changes: Any) -> Any:
    """The changes as the JSON column gives them back (so the stored value is the hashed one)."""
    return json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder))


def digest(
    *,
    prev_hash: str,
    at: Any,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    request_id: int | None,
    changes: Any,
) -> str:
    content = [
        prev_hash,
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_id,
        actor_label,
        action,
        object_type,
        object_id,
        request_id,
        changes,
    ]
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_digest(event: Any) -> str:
    return digest(
        prev_hash=event.prev_hash,
        at=event.at,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        request_id=event.request_id,
        changes=event.changes,
    )


@dataclass
class Broken:
    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"maillon rompu à l'événement n° {self.event_id} : {self.reason}"


def last_hash() -> str:
    from .models import Event

    return Event.objects.order_by("-pk").values_list("hash", flat=True).first() or ""


def verify() -> tuple[int, Broken | None]:
    """Walk the chain in insertion order: (events checked, first broken link or None)."""
    from .models import Event

    previous = ""
    count = 0
    for event in Event.objects.order_by("pk").iterator(chunk_size=2000):
        if event.prev_hash != previous:
            return count, Broken(
                event.pk,
                "il ne désigne pas l'empreinte de l'événement qui le précède "
                "(événement supprimé, inséré ou modifié juste avant)",
            )
        if event_digest(event) != event.hash:
            return count, Broken(
                event.pk, "son contenu ne correspond plus à son empreinte (événement modifié)"
            )
        previous = event.hash
        count += 1
    return count, None
