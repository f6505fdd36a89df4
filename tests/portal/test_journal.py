"""Issue 19, S3: the journal is append-only in the database, chained by hashes, and the admin
cannot change requests, habilitations or events behind the services' back."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import typer
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from typer.testing import CliRunner

from datadsn.cli.portal import register
from datadsn.portal import journal
from datadsn.portal.models import AccessRequest, Event, Habilitation, State

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(superadmin: Any) -> Client:
    c = Client()
    c.force_login(superadmin)
    return c


def test_admin_cannot_forge_events_nor_change_states(world: Any, admin_client: Client) -> None:
    """The observed attack: a back-dated event added in /admin/, a request set to « acceptée »
    with no event nor e-mail."""
    before = Event.objects.count()
    forged = {
        "at_0": "01/01/2020",
        "at_1": "10:00:00",
        "actor_label": "presidente@data-dsn.example",
        "action": "decision",
        "object_type": "AccessRequest",
        "object_id": str(world.req["submitted_a"].pk),
        "changes": "{}",
    }
    assert admin_client.post("/admin/portal/event/add/", forged).status_code == 403
    assert Event.objects.count() == before
    r = world.req["submitted_a"]
    url = f"/admin/portal/accessrequest/{r.pk}/change/"
    assert admin_client.get(url).status_code == 200  # readable
    admin_client.post(url, {"state": "acceptee", "organisation": r.organisation_id})
    assert AccessRequest.objects.get(pk=r.pk).state == State.SUBMITTED
    hab = world.hab_a
    admin_client.post(f"/admin/portal/habilitation/{hab.pk}/change/", {"end_date": "2120-01-01"})
    assert Habilitation.objects.get(pk=hab.pk).end_date == hab.end_date
    for model, pk in (("accessrequest", r.pk), ("habilitation", hab.pk), ("event", 1)):
        assert (
            admin_client.post(f"/admin/portal/{model}/{pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
    assert admin_client.get("/admin/portal/accessrequest/add/").status_code == 403


def test_deleting_a_request_cannot_rewrite_its_journal(world: Any) -> None:
    r = world.req["submitted_a"]
    events = list(Event.objects.filter(request=r).values_list("pk", flat=True))
    assert events
    with pytest.raises(ProtectedError), transaction.atomic():
        AccessRequest.objects.filter(pk=r.pk).delete()
    assert list(Event.objects.filter(request=r).values_list("pk", flat=True)) == events


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE portal_event SET action = 'falsifie'",
        "UPDATE portal_event SET at = '2020-01-01 00:00:00'",
        "DELETE FROM portal_event",
    ],
)
def test_the_database_refuses_update_and_delete_of_events(world: Any, sql: str) -> None:
    count = Event.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert Event.objects.count() == count
    assert not Event.objects.filter(action="falsifie").exists()


def test_events_are_hash_chained(world: Any) -> None:
    events = list(Event.objects.order_by("pk"))
    assert events[0].prev_hash == ""
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash and len(event.hash) == 64
        assert journal.event_digest(event) == event.hash
    assert journal.verify() == (len(events), None)


def _run_verify() -> Any:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # a group, as in datadsn's CLI
        pass

    return CliRunner().invoke(app, ["portal", "verify-journal"])


def test_verify_journal_names_the_first_broken_link(world: Any) -> None:
    result = _run_verify()
    assert result.exit_code == 0 and "Journal intègre" in result.output, result.output
    assert f"Dernière empreinte : {Event.objects.order_by('pk').last().hash}" in result.output
    victim = Event.objects.order_by("pk")[3]
    # Someone with database access lifts the triggers and rewrites one event
    # (inside the test transaction, which rolls the triggers back afterwards).
    journal.drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE portal_event SET actor_label = 'autre@x.example' WHERE id = %s", [victim.pk]
        )
    result = _run_verify()
    assert result.exit_code == 1
    assert f"événement n° {victim.pk}" in result.output and "modifié" in result.output
    # Removing an event instead breaks the link of the one after it.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE portal_event SET actor_label = %s WHERE id = %s",
            [victim.actor_label, victim.pk],
        )
        cursor.execute("DELETE FROM portal_event WHERE id = %s", [victim.pk])
    nxt = Event.objects.filter(pk__gt=victim.pk).order_by("pk").first()
    assert nxt is not None
    result = _run_verify()
    assert result.exit_code == 1 and f"événement n° {nxt.pk}" in result.output
    assert "déclencheurs" not in result.output
    journal.install_triggers(connection)
