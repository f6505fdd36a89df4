"""Issue 18, item 4: unit-level data are granted only by the chair's decision, explicitly and
with a reason, frozen into the habilitation's scope, journalled, shown on its page and read by
the flows."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from datadsn.flows import adapter
from datadsn.flows.habilitation import from_portal
from datadsn.flows.ledger import UNIT_LEVEL, UNIT_LEVEL_REASON
from datadsn.flows.run import unit_level
from datadsn.portal import services
from datadsn.portal.models import AccessRequest, Event, Habilitation, State
from datadsn.portal.views import STEP_FORMS

from .conftest import filled_request

pytestmark = pytest.mark.django_db

REASON = "Suivi d'une seule entreprise sous convention avec elle."
# Every way a requester might try to slip the grant in.
ATTACK = {
    UNIT_LEVEL: "true",
    UNIT_LEVEL_REASON: "Je me l'accorde.",
    "unit_level": "on",
    "unit_level_reason": "Je me l'accorde.",
    "scope": '{"donnees_unitaires": true}',
}


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _voted(world: Any, req: AccessRequest) -> AccessRequest:
    u = world.users
    services.schedule(u["instructor"], req, world.session)
    services.vote(u["member"], req, "favorable", "")
    services.vote(u["member2"], req, "favorable", "")
    return req


def _in_review(world: Any, title: str) -> AccessRequest:
    r = filled_request(world.users["req_a"], title)
    services.submit(world.users["req_a"], r)
    return _voted(world, r)


def test_the_chair_grants_unit_level_data_with_a_reason(world: Any) -> None:
    u = world.users
    r = _in_review(world, "Une entreprise")
    chair = _client(u["chair"])
    url = f"/demandes/{r.pk}/action/decision/"
    # Not without a reason, not with a refusal.
    chair.post(url, {"decision": "accepter", "unit_level": "on", "unit_level_reason": " "})
    chair.post(url, {"decision": "refuser", "reason": "Non.", "unit_level": "on",
                     "unit_level_reason": REASON})  # fmt: skip
    r.refresh_from_db()
    assert r.state == State.IN_REVIEW and not r.habilitations.exists()
    with pytest.raises(ValidationError, match="acceptation"):
        services.decide(u["chair"], r, False, "Non.", unit_level_reason=REASON)

    page = chair.get(f"/demandes/{r.pk}/").content.decode()
    assert "Accorder les données unitaires" in page
    chair.post(url, {"decision": "accepter", "unit_level": "on", "unit_level_reason": REASON})
    r.refresh_from_db()
    [hab] = r.habilitations.all()
    assert hab.scope[UNIT_LEVEL] is True and hab.scope[UNIT_LEVEL_REASON] == REASON
    for action, obj in (("decision", r.pk), ("habilitation_creee", hab.pk)):
        event = Event.objects.get(action=action, object_id=str(obj))
        assert event.changes[UNIT_LEVEL] is True and event.changes[UNIT_LEVEL_REASON] == REASON
    # Shown to the requester on the habilitation's page (« mes données »).
    shown = _client(u["req_a"]).get(f"/habilitations/{hab.pk}/").content.decode()
    assert "Données unitaires" in shown and "accordées par la décision du comité" in shown
    assert REASON.replace("'", "&#x27;") in shown
    # Read by the flows: the enterprise rules are lifted for this habilitation only.
    info = from_portal(hab)
    assert unit_level(info)
    assert adapter.rules_for({}, unit_level(info)).secret_entreprises is False
    assert not unit_level(from_portal(world.hab_a))
    # A renewal keeps the grant (the same frozen scope).
    renewed = services.renew(u["instructor"], hab, hab.end_date.replace(year=hab.end_date.year + 1))
    assert renewed.scope[UNIT_LEVEL] is True


def test_a_plain_approval_grants_nothing_and_says_so(world: Any) -> None:
    hab = world.hab_a
    assert UNIT_LEVEL not in hab.scope and not unit_level(from_portal(hab))
    page = _client(world.users["req_a"]).get(f"/habilitations/{hab.pk}/").content.decode()
    assert "non accordées" in page


def _form_data(form: Any) -> dict[str, Any]:
    """What the page's form would post back unchanged."""
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, "", False) or name == "legal_basis_pdf":
            continue
        if value is True:
            value = "on"
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        data[name] = value if isinstance(value, list) else str(value)
    return data


def test_a_requester_cannot_grant_it_through_any_form_or_post(world: Any) -> None:
    u = world.users
    requester = _client(u["req_a"])
    r = filled_request(u["req_a"], "Tentative")
    # Every step of the request, posted with the grant added: accepted, the grant ignored.
    for n, form_class in sorted(STEP_FORMS.items()):
        if n == len(STEP_FORMS):
            data = {"cgu": "on"}
        else:
            data = _form_data(form_class(instance=AccessRequest.objects.get(pk=r.pk)))
        reply = requester.post(f"/demandes/{r.pk}/etape/{n}/", {**data, **ATTACK})
        assert reply.status_code == 302, (n, reply.content.decode()[:500])
    r.refresh_from_db()
    assert r.state == State.SUBMITTED
    _voted(world, r)
    # The decision itself, posted by anyone but the chair: refused.
    for who in ("req_a", "instructor", "member"):
        _client(u[who]).post(
            f"/demandes/{r.pk}/action/decision/", {"decision": "accepter", **ATTACK}
        )
        r.refresh_from_db()
        assert r.state == State.IN_REVIEW, who
    # Other actions with the grant added change no scope.
    requester.post(f"/demandes/{r.pk}/action/retirer/", ATTACK)
    requester.post(f"/demandes/{r.pk}/messages/", {"body": "Bonjour", **ATTACK})
    # The chair approves without granting it: the scope has no grant.
    hab = services.decide(u["chair"], r, True, "")
    assert hab is not None
    assert UNIT_LEVEL not in hab.scope and UNIT_LEVEL_REASON not in hab.scope
    # Nor can the requester add it to a habilitation afterwards.
    reply = requester.post(f"/habilitations/{hab.pk}/", {"op": "renouveler", **ATTACK})
    assert reply.status_code == 403
    hab.refresh_from_db()
    assert UNIT_LEVEL not in hab.scope
    assert not any(UNIT_LEVEL in h.scope for h in Habilitation.objects.all())
