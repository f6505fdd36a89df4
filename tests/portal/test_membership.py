"""Issue 19, S2: nobody owns a SIRET by registering first; an account acts for an organisation
only once its membership is verified (declared mail domain, or a verified member or an
instructor), and instructors see that status on each request."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from datadsn.portal.models import AccessRequest, Event, State, User

from .conftest import FILLED

pytestmark = pytest.mark.django_db

PASSWORD = "un-mot-de-passe-solide"


def _register(mailbox: Any, email: str, siret: str, name: str = "Nom choisi") -> User:
    data = {
        "first_name": "Eve",
        "last_name": "Martin",
        "email": email,
        "password": PASSWORD,
        "siret": siret,
        "organisation_name": name,
        "actor_type": "collectivite",
    }
    assert Client().post("/compte/inscription/", data).status_code == 200
    [msg] = [m for m in mailbox.to(email) if "Confirmez" in str(m["Subject"])]
    link = next(w for w in mailbox.body(msg).split() if "/compte/verifier/" in w)
    assert Client().get(link.replace("http://testserver", "")).status_code == 302
    return User.objects.get(email=email)


def test_unverified_member_cannot_submit_in_the_organisations_name(
    world: Any, mailbox: Any
) -> None:
    """The observed attack: an account registered with an existing organisation's SIRET and an
    unrelated address filed and submitted a request in its name."""
    intruder = _register(mailbox, "eve@webmail.example", world.org_a.siret)
    assert intruder.is_active and intruder.organisation == world.org_a
    assert not intruder.organisation_confirmed
    c = Client()
    assert c.login(username=intruder.email, password=PASSWORD)
    c.post(
        "/demandes/nouvelle/",
        {k: FILLED[k] for k in ("controller_name", "controller_email", "dpo_name", "dpo_email")},
    )
    req = AccessRequest.objects.get(created_by=intruder)
    AccessRequest.objects.filter(pk=req.pk).update(
        **{k: v for k, v in FILLED.items()},
        title="Au nom de la région",
        cgu_accepted_at=timezone.now(),
    )
    response = c.post(f"/demandes/{req.pk}/etape/5/", {"cgu": "on"}, follow=True)
    assert "pas encore vérifié" in response.content.decode()
    assert AccessRequest.objects.get(pk=req.pk).state == State.DRAFT
    assert "Rattachement à vérifier" in c.get("/tableau-de-bord/").content.decode()


def test_first_registrant_does_not_own_a_new_siret(mailbox: Any) -> None:
    first = _register(mailbox, "premier@ville.example", "73282932000074", "Nom libre")
    assert first.organisation is not None and not first.organisation_confirmed
    c = Client()
    c.login(username=first.email, password=PASSWORD)
    assert "Rattachement à vérifier" in c.get("/tableau-de-bord/").content.decode()


def test_declared_domain_verifies_the_membership(world: Any, mailbox: Any) -> None:
    world.org_a.email_domains = "orga.example, region-a.example"
    world.org_a.save()
    agent = _register(mailbox, "agent@region-a.example", world.org_a.siret)
    assert agent.organisation_confirmed and agent.organisation_verification == "domaine"
    assert Event.objects.filter(action="rattachement_confirme", object_id=str(agent.pk)).exists()
    other = _register(mailbox, "agent@region-a.example.webmail.example", world.org_a.siret)
    assert not other.organisation_confirmed


def test_a_verified_member_or_an_instructor_confirms(world: Any, mailbox: Any) -> None:
    pending = _register(mailbox, "collegue@webmail.example", world.org_a.siret)
    stranger = Client()
    stranger.force_login(world.users["req_b"])  # verified, but in another organisation
    assert stranger.post("/compte/rattachements/", {"membre": pending.pk}).status_code == 404
    unverified = Client()
    unverified.force_login(_register(mailbox, "autre@webmail.example", world.org_a.siret))
    assert unverified.post("/compte/rattachements/", {"membre": pending.pk}).status_code == 404
    pending.refresh_from_db()
    assert not pending.organisation_confirmed
    colleague = Client()
    colleague.force_login(world.users["req_a"])
    assert "collegue@webmail.example" in colleague.get("/compte/rattachements/").content.decode()
    colleague.post("/compte/rattachements/", {"membre": pending.pk})
    pending.refresh_from_db()
    assert pending.organisation_confirmed and pending.organisation_verification == "membre"
    assert pending.organisation_verified_by == world.users["req_a"]
    instructor = Client()
    instructor.force_login(world.users["instructor"])
    late = User.objects.get(email="autre@webmail.example")
    instructor.post("/compte/rattachements/", {"membre": late.pk})
    late.refresh_from_db()
    assert late.organisation_verification == "instructeur"


def test_instructors_see_the_submitters_verification_status(world: Any) -> None:
    r = world.req["submitted_a"]
    instructor = Client()
    instructor.force_login(world.users["instructor"])
    assert "rattachement vérifié" in instructor.get(f"/demandes/{r.pk}/").content.decode()
    # A request submitted before verification existed shows a warning.
    User.objects.filter(pk=world.users["req_a"].pk).update(organisation_confirmed=False)
    page = instructor.get(f"/demandes/{r.pk}/").content.decode()
    assert "rattachement à l&#x27;organisation NON vérifié" in page


def test_the_admin_cannot_confirm_a_membership_behind_the_journals_back(
    world: Any, mailbox: Any, superadmin: Any
) -> None:
    pending = _register(mailbox, "tiers@webmail.example", world.org_a.siret)
    c = Client()
    c.force_login(superadmin)
    page = c.get(f"/admin/portal/user/{pending.pk}/change/").content.decode()
    assert 'name="organisation_confirmed"' not in page
    # Admins confirm through the portal page, which journals it.
    c.post("/compte/rattachements/", {"membre": pending.pk})
    pending.refresh_from_db()
    assert pending.organisation_confirmed and pending.organisation_verification == "administrateur"
