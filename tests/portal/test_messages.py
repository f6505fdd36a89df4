"""Messages between the instructor and the requester on a request: both sides, e-mail to the other
side, journalled, and never readable or writable by anyone who may not see the request."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from datadsn.portal.models import Event, Message

from .conftest import World

pytestmark = pytest.mark.django_db


def client_for(world: World, role: str) -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def test_thread_both_sides_with_mail_and_journal(world: World, mailbox: Any) -> None:
    req = world.req["submitted_a"]
    url = f"/demandes/{req.pk}/messages/"
    requester, instructor = client_for(world, "req_a"), client_for(world, "instructor")
    mailbox.messages.clear()  # the world's own submissions

    r = requester.post(url, {"body": "Pouvons-nous ajouter le secteur 62 ?"})
    assert r.status_code == 302 and r["Location"].endswith(f"/demandes/{req.pk}/#messages")
    mailbox.wait_for(lambda: mailbox.to("instructeur@data-dsn.example"))
    (mail,) = mailbox.to("instructeur@data-dsn.example")
    assert "Message du demandeur" in str(mail["Subject"])
    assert "secteur 62" in mailbox.body(mail)
    assert not mailbox.to("demandeur.a@orga.example")

    mailbox.messages.clear()
    instructor.post(url, {"body": "Oui, précisez-le à l'étape 3."})
    mailbox.wait_for(lambda: mailbox.to("demandeur.a@orga.example"))
    assert not mailbox.to("instructeur@data-dsn.example")

    page = requester.get(f"/demandes/{req.pk}/").content.decode()
    assert "secteur 62" in page and "précisez-le à l&#x27;étape 3" in page
    assert instructor.get(f"/demandes/{req.pk}/").content.decode().count("Envoyer le message") == 1

    events = Event.objects.filter(request=req, action="message").order_by("pk")
    assert [e.actor_label for e in events] == [
        "demandeur.a@orga.example",
        "instructeur@data-dsn.example",
    ]
    # The journal proves the text without holding it.
    first = Message.objects.filter(request=req).order_by("pk").first()
    assert first is not None
    assert events[0].changes["empreinte"] == hashlib.sha256(first.body.encode()).hexdigest()
    assert "secteur 62" not in str(events[0].changes)


def test_another_requester_cannot_read_or_post(world: World, mailbox: Any) -> None:
    req = world.req["submitted_a"]
    client_for(world, "req_a").post(f"/demandes/{req.pk}/messages/", {"body": "Secret de A"})
    intruder = client_for(world, "req_b")
    assert intruder.get(f"/demandes/{req.pk}/").status_code == 404
    r = intruder.post(f"/demandes/{req.pk}/messages/", {"body": "Intrusion de B"})
    assert r.status_code == 404
    assert not Message.objects.filter(body__contains="Intrusion").exists()
    # Nor through their own request's page.
    own = world.req["submitted_b"]
    assert "Secret de A" not in intruder.get(f"/demandes/{own.pk}/").content.decode()


def test_comite_reads_but_does_not_write_and_drafts_have_no_thread(world: World) -> None:
    review = world.req["review_a"]
    client_for(world, "req_a").post(f"/demandes/{review.pk}/messages/", {"body": "Bonjour"})
    member = client_for(world, "member")
    page = member.get(f"/demandes/{review.pk}/").content.decode()
    assert "Bonjour" in page and "Envoyer le message" not in page
    assert member.post(f"/demandes/{review.pk}/messages/", {"body": "Non"}).status_code == 403
    # A comité member does not see a request that is not on an agenda, nor its thread.
    submitted = world.req["submitted_a"]
    assert member.get(f"/demandes/{submitted.pk}/").status_code == 404

    draft = world.req["draft_a"]
    client_for(world, "req_a").post(f"/demandes/{draft.pk}/messages/", {"body": "Brouillon"})
    assert not Message.objects.filter(request=draft).exists()
    assert Message.objects.filter(request=review).count() == 1


def test_empty_or_oversized_message_is_refused(world: World) -> None:
    req = world.req["submitted_a"]
    c = client_for(world, "req_a")
    c.post(f"/demandes/{req.pk}/messages/", {"body": "   "})
    c.post(f"/demandes/{req.pk}/messages/", {"body": "x" * 5001})
    assert not Message.objects.filter(request=req).exists()
