"""Issue 19, S1: the chair's decision follows the comité's votes, at or after its séance, with
bounded habilitation dates; members vote without seeing the others' votes first."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from datadsn.portal import services
from datadsn.portal.forms import SessionForm
from datadsn.portal.models import AccessRequest, Event, State

from .conftest import filled_request

pytestmark = pytest.mark.django_db


def _in_review(world: Any, title: str, session: Any = None) -> AccessRequest:
    u = world.users
    r = filled_request(u["req_a"], title)
    services.submit(u["req_a"], r)
    services.schedule(u["instructor"], r, session or world.session)
    return r


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_chair_cannot_accept_against_the_votes_with_no_reason(world: Any) -> None:
    """The observed attack: two unfavourable votes, none favourable, accepted with no reason
    for 2020-01-01 -> 2120-01-01; the requester then read « avis favorable »."""
    u = world.users
    r = _in_review(world, "Contre l'avis du comité")
    services.vote(u["member"], r, "defavorable", "Non proportionné.")
    services.vote(u["member2"], r, "defavorable", "Finalité floue.")
    chair = _client(u["chair"])
    attack = {"decision": "accepter", "start_date": "2020-01-01", "end_date": "2120-01-01"}
    chair.post(f"/demandes/{r.pk}/action/decision/", attack)
    r.refresh_from_db()
    assert r.state == State.IN_REVIEW and not r.habilitations.exists()
    # Same through the service, with sane dates: the majority is unfavourable.
    with pytest.raises(ValidationError, match="majorité"):
        services.decide(u["chair"], r, True, "")
    with pytest.raises(ValidationError, match="motivée"):
        services.decide(u["chair"], r, True, "", override=True)
    # An explicit, motivated override is possible, shown to the requester and journaled.
    chair.post(
        f"/demandes/{r.pk}/action/decision/",
        {"decision": "accepter", "override": "on", "reason": "Urgence de la politique publique."},
    )
    r.refresh_from_db()
    assert r.state == State.APPROVED and r.decision_override
    event = Event.objects.get(request=r, action="decision")
    assert event.changes["contraire_a_la_majorite"] is True
    assert event.changes["votes"] == {"favorable": 0, "defavorable": 2, "abstention": 0}
    page = _client(u["req_a"]).get(f"/demandes/{r.pk}/").content.decode()
    assert "avis favorable" not in page
    assert "0 favorable(s), 2 défavorable(s)" in page
    assert "sans suivre la majorité" in page and "Urgence de la politique publique." in page


def test_the_requester_reads_the_actual_votes(world: Any, mailbox: Any) -> None:
    u = world.users
    r = _in_review(world, "Avis partagés")
    services.vote(u["member"], r, "favorable", "")
    services.vote(u["member2"], r, "defavorable", "Doute.")
    with pytest.raises(ValidationError, match="majorité"):  # a tie is no majority
        services.decide(u["chair"], r, True, "")
    services.decide(u["chair"], r, True, "Voix de la présidente.", override=True)
    page = _client(u["req_a"]).get(f"/demandes/{r.pk}/").content.decode()
    assert "1 favorable(s), 1 défavorable(s)" in page and "Voix de la présidente." in page
    [msg] = [
        m for m in mailbox.to(u["req_a"].email) if f"{r.reference} acceptée" in str(m["Subject"])
    ]
    assert "sans suivre la majorité" in mailbox.body(msg)


def test_no_decision_before_the_seance(world: Any) -> None:
    u = world.users
    later = services.create_session(
        u["instructor"], "Séance à venir", timezone.localdate() + timedelta(days=10), 2
    )
    r = _in_review(world, "Trop tôt", later)
    services.vote(u["member"], r, "favorable", "")
    services.vote(u["member2"], r, "favorable", "")
    with pytest.raises(ValidationError, match="avant la séance"):
        services.decide(u["chair"], r, True, "")
    _client(u["chair"]).post(f"/demandes/{r.pk}/action/decision/", {"decision": "accepter"})
    assert AccessRequest.objects.get(pk=r.pk).state == State.IN_REVIEW


@pytest.mark.parametrize(
    ("start_days", "length_days", "message"),
    [
        (-1, 30, "avant le jour de la décision"),
        (0, 3 * 366 + 1, "au plus 3 ans"),
        (400, 30, "un an"),
    ],
)
def test_habilitation_dates_are_bounded(
    world: Any, start_days: int, length_days: int, message: str
) -> None:
    u = world.users
    r = _in_review(world, "Dates")
    services.vote(u["member"], r, "favorable", "")
    services.vote(u["member2"], r, "favorable", "")
    start = timezone.localdate() + timedelta(days=start_days)
    with pytest.raises(ValidationError, match=message):
        services.decide(u["chair"], r, True, "", start, start + timedelta(days=length_days))
    assert not r.habilitations.exists()


def test_habilitation_length_is_configurable(world: Any, settings: Any) -> None:
    settings.HABILITATION_MAX_YEARS = 1
    u = world.users
    r = _in_review(world, "Un an")
    services.vote(u["member"], r, "favorable", "")
    services.vote(u["member2"], r, "favorable", "")
    start = timezone.localdate()
    with pytest.raises(ValidationError, match="au plus 1 ans"):
        services.decide(u["chair"], r, True, "", start, start + timedelta(days=400))
    hab = services.decide(u["chair"], r, True, "", start, start + timedelta(days=300))
    assert hab is not None and hab.end_date == start + timedelta(days=300)


def test_seance_quorum_is_at_least_two(world: Any, settings: Any) -> None:
    u = world.users
    with pytest.raises(ValidationError, match="au moins 2"):
        services.create_session(u["instructor"], "Seule", date(2030, 1, 1), 1)
    form = SessionForm({"title": "Seule", "date": "2030-01-01", "quorum": 1})
    assert not form.is_valid() and "quorum" in form.errors
    settings.COMITE_MIN_QUORUM = 3
    assert not SessionForm({"title": "T", "date": "2030-01-01", "quorum": 2}).is_valid()


def test_members_do_not_see_the_votes_before_voting(world: Any) -> None:
    u = world.users
    r = _in_review(world, "Vote secret")
    services.vote(u["member"], r, "defavorable", "Opinion confidentielle du premier membre.")
    for who in ("member2", "chair"):
        page = _client(u[who]).get(f"/demandes/{r.pk}/").content.decode()
        assert "Opinion confidentielle" not in page and "1 défavorable" not in page, who
    _client(u["member2"]).post(f"/demandes/{r.pk}/action/vote/", {"choice": "favorable"})
    page = _client(u["member2"]).get(f"/demandes/{r.pk}/").content.decode()
    assert "Opinion confidentielle" in page
    # Having seen the others, a member cannot change their vote any more.
    with pytest.raises(ValidationError, match="déjà enregistré"):
        services.vote(u["member2"], r, "defavorable", "Finalement non.")
    assert r.votes.get(member=u["member2"]).choice == "favorable"


def test_the_journal_does_not_show_the_votes_to_a_chair_who_has_not_voted(world: Any) -> None:
    u = world.users
    r = _in_review(world, "Vote secret au journal")
    services.vote(u["member"], r, "defavorable", "Avis réservé au comité.")
    chair = _client(u["chair"])
    export = b"".join(chair.get("/journal/export.csv").streaming_content).decode("utf-8-sig")
    for page in (chair.get("/journal/").content.decode(), export):
        assert "Avis réservé au comité." not in page and "masqué" in page
    services.vote(u["chair"], r, "favorable", "")
    assert "Avis réservé au comité." in chair.get("/journal/").content.decode()


def test_a_legacy_decision_against_the_votes_reads_as_such(world: Any) -> None:
    """Requests decided before this fix (no votes stored with the decision) read the votes on
    record: the one accepted against two unfavourable votes no longer says « avis favorable »."""
    u = world.users
    r = _in_review(world, "Décision d'avant")
    services.vote(u["member"], r, "defavorable", "Non.")
    services.vote(u["member2"], r, "defavorable", "Non.")
    AccessRequest.objects.filter(pk=r.pk).update(state=State.APPROVED, decision_votes={})
    page = _client(u["req_a"]).get(f"/demandes/{r.pk}/").content.decode()
    assert "0 favorable(s), 2 défavorable(s)" in page and "sans suivre la majorité" in page
