"""Issue 19, item 5: the workflow is declared once (``workflow.TRANSITIONS``), and every row of the
table is fired here through the service that owns it, with its journal event and notifications."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from datadsn.portal import catalogue, services, workflow
from datadsn.portal.models import Event, Role, State
from datadsn.portal.views import ACTION_FORMS

from .conftest import PASSWORD, filled_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def fired() -> Iterator[list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []

    def observe(row: workflow.Transition, req: Any) -> None:
        seen.append((row.source, row.action))

    workflow.observers.append(observe)
    yield seen
    workflow.observers.remove(observe)


def _bring_to(world: Any, state: str) -> Any:
    """A request of organisation A in ``state``, reached through the services."""
    u = world.users
    r = filled_request(u["req_a"], f"Vers {state}")
    if state == State.DRAFT:
        return r
    services.submit(u["req_a"], r)
    if state == State.SUBMITTED:
        return r
    if state in (State.CHANGES_REQUESTED, State.RESUBMITTED):
        services.request_changes(u["instructor"], r, "Précisez.")
        if state == State.RESUBMITTED:
            services.submit(u["req_a"], r)
        return r
    assert state == State.IN_REVIEW
    services.schedule(u["instructor"], r, world.session)
    services.vote(u["member"], r, "favorable", "")
    return r


def _fire(world: Any, req: Any, action: str) -> None:
    u = world.users
    if action == "deposer":
        services.submit(u["req_a"], req)
    elif action == "orientation":
        services.orient(u["instructor"], req, "datadsn", "Indicateurs mensuels.")
    elif action == "modifications":
        services.request_changes(u["instructor"], req, "Précisez la population.")
    elif action == "comite":
        services.schedule(u["instructor"], req, world.session)
    elif action == "vote":
        services.vote(u["member2"], req, "defavorable", "Finalité trop large.")
    elif action == "accepter":
        services.vote(u["member2"], req, "favorable", "")
        services.decide(u["chair"], req, True, "")
    elif action == "refuser":
        services.vote(u["member2"], req, "defavorable", "Finalité trop large.")
        services.decide(u["chair"], req, False, "Finalité trop large.", override=True)
    elif action == "retirer":
        services.withdraw(u["req_a"], req, "Besoin couvert par l'Insee.")
    else:  # pragma: no cover - a new row needs its line here
        raise AssertionError(f"transition sans test : {action}")


@pytest.mark.parametrize(
    "row", workflow.TRANSITIONS, ids=[f"{t.source}-{t.action}" for t in workflow.TRANSITIONS]
)
def test_every_transition_of_the_table(
    row: workflow.Transition, world: Any, fired: list[tuple[str, str]], mailbox: Any
) -> None:
    req = _bring_to(world, row.source)
    assert req.state == row.source
    fired.clear()
    mailbox.messages.clear()
    before = Event.objects.filter(request=req).count()
    _fire(world, req, row.action)
    req.refresh_from_db()
    assert (row.source, row.action) in fired
    assert req.state == row.target
    assert Event.objects.filter(request=req, action=row.event).count() >= 1
    assert Event.objects.filter(request=req).count() > before
    recipients = " ".join(m["X-Rcpt"] for m in mailbox.messages)
    if workflow.REQUESTERS in row.notify:
        assert world.users["req_a"].email in recipients
    if workflow.INSTRUCTORS in row.notify:
        assert world.users["instructor"].email in recipients
    if workflow.COMITE in row.notify:
        assert world.users["member"].email in recipients
    if workflow.CONTROLLER in row.notify:
        assert req.controller_email in recipients and req.dpo_email in recipients
    if not row.notify:
        assert not mailbox.messages


def test_the_table_is_complete_and_unambiguous() -> None:
    keys = [(t.source, t.action) for t in workflow.TRANSITIONS]
    assert len(keys) == len(set(keys))
    # Every state but the closed ones has a way out; closed states have none.
    sources = {t.source for t in workflow.TRANSITIONS}
    assert sources == {
        State.DRAFT,
        State.SUBMITTED,
        State.CHANGES_REQUESTED,
        State.RESUBMITTED,
        State.IN_REVIEW,
    }
    assert {t.target for t in workflow.TRANSITIONS} <= set(State.values)
    # The forms the detail page posts are the table's actions (the chair's form decides both).
    assert set(ACTION_FORMS) - {"decision"} <= workflow.ACTIONS
    assert workflow.ACTIONS - set(ACTION_FORMS) == {"deposer", "accepter", "refuser"}


def test_roles_and_states_outside_the_table_are_refused(world: Any) -> None:
    u, r = world.users, world.req
    with pytest.raises(PermissionDenied):  # no row gives requesters this action
        services.schedule(u["req_a"], r["submitted_a"], world.session)
    with pytest.raises(ValidationError, match="Action impossible"):  # no row from this state
        services.withdraw(u["req_a"], r["review_a"])
    with pytest.raises(PermissionDenied):  # another organisation's request
        services.withdraw(u["req_b"], r["submitted_a"])


def test_the_detail_page_offers_the_table_actions(world: Any) -> None:
    c = Client()
    c.login(username=world.users["req_a"].email, password=PASSWORD)
    r = world.req["submitted_a"]
    page = c.get(f"/demandes/{r.pk}/").content.decode()
    assert "Retirer la demande" in page and "Inscrire au comité" not in page
    page = c.get(f"/demandes/{world.req['review_a'].pk}/").content.decode()
    assert "Retirer la demande" not in page
    assert set(workflow.actions(world.users["instructor"], r)) == {
        "orientation",
        "modifications",
        "comite",
    }
    assert workflow.actions(world.users["chair"], r) == {}
    assert Role.REQUESTER in workflow.actions(world.users["req_a"], r)["retirer"].roles


def test_requester_withdraws_through_the_page(world: Any, mailbox: Any) -> None:
    c = Client()
    c.login(username=world.users["req_a"].email, password=PASSWORD)
    r = world.req["submitted_a"]
    resp = c.post(f"/demandes/{r.pk}/action/retirer/", {"reason": "Besoin couvert."}, follow=True)
    assert "Demande retirée par le demandeur" in resp.content.decode()
    r.refresh_from_db()
    assert r.state == State.WITHDRAWN and r.clock_days_left() is None
    to_instructor = mailbox.to(world.users["instructor"].email)
    assert any("retirée" in str(m["Subject"]) for m in to_instructor)
    # Nothing more can happen to it.
    with pytest.raises(ValidationError):
        services.schedule(world.users["instructor"], r, world.session)


def test_indicator_catalogue_has_one_source() -> None:
    from datadsn.indicators.catalogue import CATALOGUE

    assert not hasattr(catalogue, "FALLBACK_INDICATORS")
    assert [i.code for i in catalogue.INDICATORS] == [i.code for i in CATALOGUE]


def test_the_documentation_prints_the_table() -> None:
    from pathlib import Path

    doc = Path(__file__).parents[2] / "docs" / "portail.md"
    assert workflow.markdown_table() in doc.read_text(encoding="utf-8")
