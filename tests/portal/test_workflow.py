"""Workflow rules, notifications, audit trail, statistics, accounts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from datadsn.portal import services, stats
from datadsn.portal.forms import PurposeForm, RetentionForm
from datadsn.portal.models import AccessRequest, Event, Habilitation, State, User, validate_siret

from .conftest import PASSWORD, filled_request

pytestmark = pytest.mark.django_db


def test_full_journey_with_changes_votes_and_habilitation(world: Any, mailbox: Any) -> None:
    u = world.users
    r = filled_request(u["req_a"], "Parcours complet")
    assert r.state == State.DRAFT
    services.submit(u["req_a"], r)
    assert r.state == State.SUBMITTED and r.submitted_at
    assert any("déposée" in s for s in mailbox.subjects())
    services.request_changes(u["instructor"], r, "Précisez la population.")
    assert (
        r.state == State.CHANGES_REQUESTED
        and r.first_response_at
        and r.instructor == u["instructor"]
    )
    assert r.clock_days_left() is not None  # paused, still counted
    [msg] = [m for m in mailbox.to(u["req_a"].email) if "Modifications" in str(m["Subject"])]
    assert "Précisez la population." in mailbox.body(msg)
    services.save_step(u["req_a"], r, {"extract_population": "Salariés de la région"}, 3)
    services.submit(u["req_a"], r)
    assert r.state == State.RESUBMITTED
    services.schedule(u["instructor"], r, world.session)
    assert r.state == State.IN_REVIEW
    services.vote(u["member"], r, "favorable", "Bien cadré.")
    with pytest.raises(ValidationError, match="Quorum"):
        services.decide(u["chair"], r, True, "")
    services.vote(u["member2"], r, "abstention", "")
    start = timezone.localdate()
    hab = services.decide(
        u["chair"], r, True, "Avis favorable du comité.", start, start + timedelta(days=180)
    )
    assert r.state == State.APPROVED and hab is not None
    assert hab.scope["intitule"] == "Parcours complet"
    assert hab.scope["extraction"]["population"] == "Salariés de la région"
    # The habilitation is frozen: later edits of the request do not reach it.
    AccessRequest.objects.filter(pk=r.pk).update(title="Changé")
    hab.refresh_from_db()
    assert hab.scope["intitule"] == "Parcours complet"
    assert any("acceptée" in s for s in mailbox.subjects())
    actions = list(Event.objects.filter(request=r).values_list("action", flat=True))
    for expected in (
        "depot",
        "modifications_demandees",
        "nouveau_depot",
        "inscription_comite",
        "vote",
        "decision",
    ):
        assert expected in actions


def test_instructor_orients_and_frames_a_request(world: Any, mailbox: Any) -> None:
    u = world.users
    r = filled_request(u["req_a"], "À orienter")
    services.submit(u["req_a"], r)
    with pytest.raises(ValidationError, match="cadrage"):
        services.orient(u["instructor"], r, "dares", "  ")
    with pytest.raises(PermissionDenied):
        services.orient(u["member"], r, "dares", "Cadrage.")
    services.orient(u["instructor"], r, "dares", "Mouvements de main-d'œuvre trimestriels.")
    r.refresh_from_db()
    assert r.orientation == "dares" and r.oriented_at and r.first_response_at
    assert r.instructor == u["instructor"] and r.state == State.SUBMITTED
    [msg] = [m for m in mailbox.to(u["req_a"].email) if "Orientation" in str(m["Subject"])]
    assert "Dares" in mailbox.body(msg) and "trimestriels" in mailbox.body(msg)
    event = Event.objects.get(request=r, action="orientation")
    assert event.changes["orientation"] == ["", "dares"]
    # The framing travels into the habilitation's frozen scope.
    assert r.scope()["cadrage"] == "Mouvements de main-d'œuvre trimestriels."


def test_refusal_requires_a_reason(world: Any, mailbox: Any) -> None:
    u, r = world.users, world.req["review_a"]
    services.vote(u["member"], r, "defavorable", "Non proportionné.")
    services.vote(u["member2"], r, "defavorable", "Idem.")
    with pytest.raises(ValidationError, match="motivé"):
        services.decide(u["chair"], r, False, "  ")
    services.decide(u["chair"], r, False, "Finalité trop large.")
    assert r.state == State.REFUSED and r.decision_reason == "Finalité trop large."
    assert not r.habilitations.exists()
    [msg] = [m for m in mailbox.to(u["req_a"].email) if "refusée" in str(m["Subject"])]
    assert "Finalité trop large." in mailbox.body(msg)


def test_unfavourable_vote_needs_an_opinion(world: Any) -> None:
    with pytest.raises(ValidationError):
        services.vote(world.users["member"], world.req["review_a"], "defavorable", "")


def test_whoever_instructed_cannot_decide_alone(world: Any) -> None:
    from .conftest import make_user

    u = world.users
    r = filled_request(u["req_a"], "Instruite par la présidente")
    services.submit(u["req_a"], r)
    # The chair cannot instruct with the chair role; simulate a chair who was the instructor.
    AccessRequest.objects.filter(pk=r.pk).update(
        instructor=u["chair"], state=State.IN_REVIEW, session=world.session
    )
    r.refresh_from_db()
    services.vote(u["chair"], r, "favorable", "")
    services.vote(u["member"], r, "favorable", "")
    with pytest.raises(ValidationError, match="Quorum"):
        services.decide(u["chair"], r, True, "")  # own vote does not count
    services.vote(u["member2"], r, "defavorable", "Doute.")
    services.vote(make_user("membre3@data-dsn.example", "membre"), r, "defavorable", "Non.")
    with pytest.raises(PermissionDenied, match="majorité"):
        services.decide(u["chair"], r, True, "")
    services.decide(u["chair"], r, False, "Majorité défavorable.")
    assert r.state == State.REFUSED


def test_transitions_check_roles_and_states(world: Any) -> None:
    u = world.users
    with pytest.raises(PermissionDenied):
        services.request_changes(u["req_a"], world.req["submitted_a"], "x")
    with pytest.raises(PermissionDenied):
        services.schedule(u["chair"], world.req["submitted_a"], world.session)
    with pytest.raises(PermissionDenied):
        services.decide(u["member"], world.req["review_a"], True, "")
    with pytest.raises(PermissionDenied):
        services.vote(u["instructor"], world.req["review_a"], "favorable", "")
    with pytest.raises(PermissionDenied):
        services.submit(u["req_b"], world.req["draft_a"])  # another organisation's draft
    with pytest.raises(ValidationError):
        services.vote(u["member"], world.req["submitted_a"], "favorable", "")  # not on the agenda
    with pytest.raises(ValidationError):
        services.request_changes(u["instructor"], world.req["submitted_a"], "  ")


def test_incomplete_draft_cannot_be_submitted(world: Any) -> None:
    u = world.users
    r = services.create_draft(u["req_a"])
    with pytest.raises(ValidationError, match="finalité"):
        services.submit(u["req_a"], r)
    r2 = filled_request(u["req_a"], "Longue conservation")
    services.save_step(u["req_a"], r2, {"retention_months": 60}, 4)
    with pytest.raises(ValidationError, match="36 mois"):
        services.submit(u["req_a"], r2)
    form = RetentionForm({"retention_months": 60, "security_measures": "x"}, instance=r2)
    assert not form.is_valid() and "retention_justification" in form.errors
    form = RetentionForm(
        {
            "retention_months": 60,
            "retention_justification": "Séries longues.",
            "security_measures": "x",
        },
        instance=r2,
    )
    assert form.is_valid()


@pytest.mark.parametrize(
    ("name", "content", "ok"),
    [
        ("base.pdf", b"%PDF-1.4 minimal", True),
        ("base.txt", b"%PDF-1.4", False),
        ("faux.pdf", b"MZ executable", False),
        ("gros.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), False),
    ],
)
def test_legal_basis_upload_checks_type_and_size(
    world: Any, name: str, content: bytes, ok: bool
) -> None:
    r = world.req["draft_a"]
    data = {"title": "t", "purpose": "p", "policy_domain": "emploi", "legal_basis_text": "l"}
    form = PurposeForm(data, {"legal_basis_pdf": SimpleUploadedFile(name, content)}, instance=r)
    assert form.is_valid() is ok, form.errors


def test_audit_log_is_append_only_and_exported(world: Any, client: Any) -> None:
    e = Event.objects.first()
    assert e is not None
    e.action = "falsifié"
    with pytest.raises(ValidationError):
        e.save()
    with pytest.raises(ValidationError):
        e.delete()
    client.force_login(world.users["admin"])
    response = client.get("/journal/export.csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert (
        body.splitlines()[0] == "horodatage,acteur,action,objet,identifiant,demande,modifications"
    )
    assert "inscription_comite" in body and "decision" in body


def test_statistics_and_clock(world: Any, client: Any) -> None:
    assert stats.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert stats.percentile([], 0.9) is None
    r = world.req["submitted_b"]
    AccessRequest.objects.filter(pk=r.pk).update(submitted_at=timezone.now() - timedelta(days=35))
    r.refresh_from_db()
    assert r.overdue
    s = stats.compute()
    assert s["total"] == 5 and s["overdue"] == 1
    assert s["counts"]["Acceptée"] == 2
    page = client.get("/statistiques/").content.decode()
    assert "Demandes par état" in page and "90<sup>e</sup> centile" in page
    client.force_login(world.users["instructor"])
    page = client.get("/demandes/").content.decode()
    assert 'class="overdue"' in page and "En retard de" in page


def test_reminders_are_mailed_to_instructors(world: Any, mailbox: Any) -> None:
    r = world.req["submitted_b"]
    AccessRequest.objects.filter(pk=r.pk).update(submitted_at=timezone.now() - timedelta(days=28))
    mailbox.messages.clear()
    due = services.send_reminders()
    assert [d.pk for d in due] == [r.pk]
    [msg] = mailbox.to(world.users["instructor"].email)
    assert "échéance dans" in mailbox.body(msg) and r.reference in mailbox.body(msg)
    assert services.send_reminders() == []  # at most once a day


def test_habilitation_renewal_and_revocation(world: Any) -> None:
    u, hab = world.users, world.hab_a
    new = services.renew(u["instructor"], hab, hab.end_date + timedelta(days=365))
    hab.refresh_from_db()
    # The current habilitation keeps running until its end; the renewal starts the day after.
    assert hab.status == "active" and new.previous == hab and new.scope == hab.scope
    assert new.start_date == hab.end_date + timedelta(days=1)
    with pytest.raises(ValidationError, match="déjà été renouvelée"):
        services.renew(u["instructor"], hab, hab.end_date + timedelta(days=400))
    with pytest.raises(ValidationError):
        services.revoke(u["instructor"], new, "")
    services.revoke(u["admin"], new, "Fin du projet.")
    assert Habilitation.objects.get(pk=new.pk).status == "revoquee"
    with pytest.raises(PermissionDenied):
        services.revoke(u["req_a"], world.hab_b, "x")


def test_siret_validation() -> None:
    validate_siret("73282932000074")
    for bad in ["7328293200007", "73282932000075", "abcdefghijklmn"]:
        with pytest.raises(ValidationError):
            validate_siret(bad)


def test_registration_verification_and_login_throttle(
    client: Any, mailbox: Any, settings: Any
) -> None:
    data = {
        "first_name": "Jeanne",
        "last_name": "Durand",
        "email": "jeanne@ville.example",
        "password": "un-mot-de-passe-solide",
        "siret": "73282932000074",
        "organisation_name": "Ville exemple",
        "actor_type": "collectivite",
    }
    assert "Vérifiez" in client.post("/compte/inscription/", data).content.decode()
    user = User.objects.get(email="jeanne@ville.example")
    assert not user.is_active and user.organisation.siret == "73282932000074"
    [msg] = mailbox.to("jeanne@ville.example")
    link = next(w for w in mailbox.body(msg).split() if "/compte/verifier/" in w)
    assert not client.login(username=user.email, password=data["password"])
    assert client.get(link.replace("http://testserver", "")).status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.email_verified
    assert client.get(link.replace("http://testserver", "")).status_code == 400  # single use
    settings.LOGIN_MAX_FAILURES = 4  # the attempt before activation counted as one failure
    for _ in range(3):
        r = client.post("/compte/connexion/", {"username": user.email, "password": "faux"})
        assert "incorrect" in r.content.decode()
    r = client.post("/compte/connexion/", {"username": user.email, "password": data["password"]})
    assert "Trop de tentatives" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_argon2_is_the_configured_hasher(settings: Any) -> None:
    from django.contrib.auth.hashers import check_password, make_password

    from .conftest import PRODUCTION_HASHERS

    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$") and check_password(PASSWORD, encoded)


def test_security_headers(client: Any) -> None:
    r = client.get("/")
    assert r["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"


def test_database_url_parsing() -> None:
    from datadsn.portal.settings import database_from_url

    pg = database_from_url("postgres://ddsn:s%40cret@db.example:5433/portail")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "portail",
        "ddsn",
        "s@cret",
        "db.example",
        "5433",
    )
    assert (
        database_from_url("sqlite:////var/lib/ddsn/p.sqlite3")["NAME"] == "/var/lib/ddsn/p.sqlite3"
    )


def test_joining_an_existing_organisation_needs_confirmation(world: Any, client: Any) -> None:
    from .conftest import make_user

    newcomer = make_user("nouveau@orga.example", "demandeur", world.org_a)
    newcomer.organisation_confirmed = False
    newcomer.save()
    assert not services.visible_requests(newcomer).exists()
    assert not services.visible_habilitations(newcomer).exists()
    own = services.create_draft(newcomer)
    assert list(services.visible_requests(newcomer)) == [own]
    client.force_login(newcomer)
    assert client.get(f"/demandes/{world.req['submitted_a'].pk}/").status_code == 404
    newcomer.organisation_confirmed = True
    newcomer.save()
    assert services.visible_requests(newcomer).filter(pk=world.req["submitted_a"].pk).exists()


def test_step_form_saves_draft_and_records_the_diff(world: Any, client: Any) -> None:
    r = world.req["draft_a"]
    client.force_login(world.users["req_a"])
    data = {
        "title": "Nouveau titre",
        "purpose": r.purpose,
        "policy_domain": r.policy_domain,
        "public_policy": r.public_policy,
        "legal_basis_text": r.legal_basis_text,
        "save": "",
    }
    pdf = SimpleUploadedFile("base.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(f"/demandes/{r.pk}/etape/2/", {**data, "legal_basis_pdf": pdf})
    assert response.status_code == 302 and response["Location"].endswith("/etape/2/")
    r.refresh_from_db()
    assert r.title == "Nouveau titre" and r.legal_basis_pdf.name.endswith(".pdf")
    event = Event.objects.filter(request=r, action="modification").last()
    assert event is not None and event.changes["title"] == ["Brouillon A", "Nouveau titre"]
    assert "legal_basis_pdf" in event.changes
    download = client.get(f"/demandes/{r.pk}/base-legale.pdf")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF-")
    # A step with a missing required field is re-rendered with a French error and nothing is saved.
    response = client.post(f"/demandes/{r.pk}/etape/2/", {**data, "title": ""})
    assert response.status_code == 200 and "Ce champ est obligatoire" in response.content.decode()


def test_error_pages_are_in_french(world: Any, client: Any) -> None:
    client.force_login(world.users["req_b"])
    assert (
        "Page introuvable"
        in client.get(f"/demandes/{world.req['submitted_a'].pk}/").content.decode()
    )
    assert "Accès refusé" in client.get("/journal/").content.decode()


def test_sector_and_nature_limits_are_validated_and_frozen(world: Any) -> None:
    from datadsn.portal.forms import DataForm

    r = filled_request(world.users["req_a"], "Secteur du commerce")
    bad = DataForm({"scope_naf": "47, commerce", "scope_natures": "1"}, instance=r)
    assert not bad.is_valid()
    assert "COMMERCE" in str(bad.errors["scope_naf"]) and "scope_natures" in bad.errors
    good = DataForm(
        {"scope_naf": "47 56.10a", "scope_natures": "03, 01", "frequency": "mensuelle"},
        instance=r,
    )
    assert good.is_valid(), good.errors
    saved = good.save()
    assert saved.scope_naf == ["47", "56.10A"] and saved.scope_natures == ["01", "03"]
    assert saved.scope()["extraction"]["naf"] == ["47", "56.10A"]
    assert saved.scope()["extraction"]["natures_contrat"] == ["01", "03"]
