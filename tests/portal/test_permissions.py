"""Authorisation matrix: every role x every view and API endpoint, including other organisations' objects."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from datadsn.portal.models import (
    AccessRequest,
    ApiToken,
    ComiteSession,
    Habilitation,
    Message,
    UseCase,
    Vote,
)

from .conftest import World

pytestmark = pytest.mark.django_db

ROLES = ["anon", "req_a", "req_b", "instructor", "member", "chair", "admin"]
LOGGED = set(ROLES) - {"anon"}
STAFF = {"instructor", "member", "chair", "admin"}
AUDIT = {"instructor", "chair", "admin"}


def client_for(world: World, role: str) -> Client:
    c = Client()
    if role != "anon":
        c.force_login(world.users[role])
    return c


def get_matrix(w: World) -> list[tuple[str, set[str]]]:
    r, s = w.req, w.session
    return [
        ("/", set(ROLES)),
        ("/cas-usage/", set(ROLES)),
        ("/cas-usage/cas-test/", set(ROLES)),
        ("/documentation/", set(ROLES)),
        ("/documentation/dictionnaire/", set(ROLES)),
        ("/documentation/dictionnaire/S21.G00.40/", set(ROLES)),
        ("/documentation/indicateurs/", set(ROLES)),
        ("/documentation/api/", set(ROLES)),
        ("/conditions-generales/", set(ROLES)),
        ("/statistiques/", set(ROLES)),
        ("/tableau-de-bord/", LOGGED),
        ("/compte/jeton-api/", LOGGED),
        ("/demandes/", LOGGED),
        ("/demandes/nouvelle/", {"req_a", "req_b"}),
        (f"/demandes/{r['draft_a'].pk}/", {"req_a"}),
        (f"/demandes/{r['draft_a'].pk}/etape/1/", {"req_a"}),
        (f"/demandes/{r['draft_a'].pk}/etape/5/", {"req_a"}),
        (f"/demandes/{r['submitted_a'].pk}/", {"req_a", "instructor", "admin"}),
        (f"/demandes/{r['submitted_a'].pk}/etape/1/", set()),
        (f"/demandes/{r['review_a'].pk}/", {"req_a", "instructor", "admin", "member", "chair"}),
        (
            f"/demandes/{r['review_a'].pk}/base-legale.pdf",
            {"req_a", "instructor", "admin", "member", "chair"},
        ),
        (f"/demandes/{r['approved_b'].pk}/", {"req_b"} | STAFF),
        (f"/demandes/{r['submitted_b'].pk}/", {"req_b", "instructor", "admin"}),
        ("/comite/", STAFF),
        (f"/comite/{s.pk}/", STAFF),
        ("/habilitations/", LOGGED),
        (f"/habilitations/{w.hab_a.pk}/", {"req_a"} | STAFF),
        (f"/habilitations/{w.hab_b.pk}/", {"req_b"} | STAFF),
        ("/journal/", AUDIT),
        ("/journal/export.csv", AUDIT),
        ("/admin/portal/accessrequest/", {"admin"}),
    ]


@pytest.fixture
def w(world: World) -> World:
    UseCase.objects.create(
        slug="cas-test",
        title="Cas test",
        summary="s",
        description="d",
        actor="a",
        actor_type="etat",
        policy_domain="emploi",
        data_kind="indicateurs",
        data_used="u",
        status="production",
        legal_basis="b",
    )
    review = world.req["review_a"]
    review.legal_basis_pdf.save("base.pdf", ContentFile(b"%PDF-1.4 test"))
    admin = world.users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return world


def test_every_role_on_every_page(w: World) -> None:
    problems = []
    clients = {role: client_for(w, role) for role in ROLES}
    for url, allowed in get_matrix(w):
        for role in ROLES:
            response = clients[role].get(url)
            if role in allowed:
                if response.status_code != 200:
                    problems.append(f"{role} {url}: {response.status_code}, attendu 200")
            elif response.status_code == 302:
                if (
                    "connexion" not in response["Location"]
                    and "/admin/login/" not in response["Location"]
                ):
                    problems.append(f"{role} {url}: redirigé vers {response['Location']}")
            elif response.status_code not in (403, 404):
                problems.append(f"{role} {url}: {response.status_code}, attendu refus")
    assert not problems, "\n".join(problems)


def test_lists_never_leak_other_organisations(w: World) -> None:
    r = w.req
    for page in ("/compte/connexion/", "/compte/inscription/"):
        assert client_for(w, "anon").get(page).status_code == 200
        assert client_for(w, "req_a").get(page)["Location"] == "/tableau-de-bord/"
    titles_a = [r[k].title for k in ("draft_a", "submitted_a", "review_a", "approved_a")]
    for page in ("/demandes/", "/tableau-de-bord/", "/habilitations/"):
        body = client_for(w, "req_b").get(page).content.decode()
        assert not [t for t in titles_a if t in body], page
        assert f">{w.hab_a.reference}<" not in body
    body = client_for(w, "req_a").get("/demandes/").content.decode()
    assert r["submitted_b"].title not in body and r["submitted_a"].title in body
    for role in ("instructor", "admin"):
        assert r["draft_a"].title not in client_for(w, role).get("/demandes/").content.decode()
    body = client_for(w, "member").get("/demandes/").content.decode()
    assert r["submitted_a"].title not in body and r["review_a"].title in body
    # Requesters never see the comité's internal votes.
    body = client_for(w, "req_b").get(f"/demandes/{r['approved_b'].pk}/").content.decode()
    assert "Avis favorable" not in body and "membre@data-dsn.example" not in body


def _state(pk: int) -> str:
    return AccessRequest.objects.get(pk=pk).state


def test_every_role_on_every_action(w: World) -> None:
    r, s = w.req, w.session
    sub, rev, draft = r["submitted_a"].pk, r["review_a"].pk, r["draft_a"].pk
    step1 = {
        "controller_name": "Pirate",
        "controller_email": "p@x.example",
        "dpo_name": "x",
        "dpo_email": "x@x.example",
        "tech_name": "",
        "tech_email": "",
    }
    actions: list[tuple[str, dict[str, Any], set[str], Any]] = [
        (
            f"/demandes/{sub}/action/modifications/",
            {"message": "Non."},
            {"instructor"},
            lambda: _state(sub),
        ),
        (
            f"/demandes/{sub}/action/orientation/",
            {"orientation": "dares", "framing": "Données Dares."},
            {"instructor"},
            lambda: AccessRequest.objects.get(pk=sub).orientation,
        ),
        (f"/demandes/{sub}/action/comite/", {"session": s.pk}, {"instructor"}, lambda: _state(sub)),
        (
            f"/demandes/{rev}/action/vote/",
            {"choice": "favorable"},
            {"member", "chair"},
            lambda: Vote.objects.count(),
        ),
        (
            f"/demandes/{rev}/action/decision/",
            {"decision": "refuser", "reason": "Non."},
            {"chair"},
            lambda: _state(rev),
        ),
        (
            f"/demandes/{draft}/etape/1/",
            step1,
            {"req_a"},
            lambda: AccessRequest.objects.get(pk=draft).controller_name,
        ),
        (
            f"/demandes/{sub}/etape/1/",
            step1,
            set(),
            lambda: AccessRequest.objects.get(pk=sub).controller_name,
        ),
        (
            "/comite/",
            {"title": "Pirate", "date": "2030-01-01", "quorum": 1},
            {"instructor", "chair", "admin"},
            lambda: ComiteSession.objects.count(),
        ),
        (
            f"/comite/{s.pk}/",
            {"minutes": "PV"},
            {"chair"},
            lambda: ComiteSession.objects.get(pk=s.pk).status,
        ),
        (
            f"/habilitations/{w.hab_a.pk}/",
            {"op": "revoquer", "reason": "Pirate"},
            {"instructor", "chair", "admin"},
            lambda: Habilitation.objects.get(pk=w.hab_a.pk).status,
        ),
        (
            f"/habilitations/{w.hab_b.pk}/",
            {"op": "revoquer", "reason": "Pirate"},
            {"instructor", "chair", "admin"},
            lambda: Habilitation.objects.get(pk=w.hab_b.pk).status,
        ),
        ("/compte/jeton-api/", {}, LOGGED, lambda: ApiToken.objects.count()),
        (
            f"/demandes/{sub}/messages/",
            {"body": "Pirate"},
            {"req_a", "instructor"},
            lambda: Message.objects.count(),
        ),
        (
            f"/demandes/{rev}/messages/",
            {"body": "Pirate"},
            {"req_a", "instructor"},
            lambda: Message.objects.count(),
        ),
    ]
    problems = []
    for url, data, allowed, probe in actions:
        for role in ROLES:
            if role in allowed:
                continue
            before = probe()
            response = client_for(w, role).post(url, data)
            ok_refusal = response.status_code in (403, 404, 405) or (
                response.status_code == 302 and "connexion" in response["Location"]
            )
            if not ok_refusal or probe() != before:
                problems.append(
                    f"{role} POST {url}: {response.status_code}, effet : {before!r} -> {probe()!r}"
                )
    assert not problems, "\n".join(problems)
    # And the allowed roles do get through.
    for url, data, role, probe in [
        (
            f"/demandes/{sub}/action/orientation/",
            {"orientation": "urssaf", "framing": "Effectifs publiés par l'Urssaf."},
            "instructor",
            lambda: AccessRequest.objects.get(pk=sub).orientation,
        ),
        (
            f"/demandes/{rev}/action/vote/",
            {"choice": "favorable"},
            "member",
            lambda: Vote.objects.count(),
        ),
        (
            f"/demandes/{sub}/action/modifications/",
            {"message": "Précisez."},
            "instructor",
            lambda: _state(sub),
        ),
        (
            f"/demandes/{draft}/etape/1/",
            step1,
            "req_a",
            lambda: AccessRequest.objects.get(pk=draft).controller_name,
        ),
        (
            f"/habilitations/{w.hab_b.pk}/",
            {"op": "revoquer", "reason": "Fin."},
            "admin",
            lambda: w.hab_b.__class__.objects.get(pk=w.hab_b.pk).status,
        ),
    ]:
        before = probe()
        response = client_for(w, role).post(url, data)
        assert response.status_code == 302 and probe() != before, (role, url)


def test_csrf_is_enforced(w: World) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(w.users["instructor"])
    response = c.post(
        f"/demandes/{w.req['submitted_a'].pk}/action/modifications/", {"message": "x"}
    )
    assert response.status_code == 403
    assert _state(w.req["submitted_a"].pk) == "deposee"


def test_api_matrix(w: World) -> None:
    r = w.req
    anon = Client()
    assert anon.get("/api/cas-usage").status_code == 200
    assert anon.get("/api/cas-usage/cas-test").json()["title"] == "Cas test"
    assert anon.get("/api/indicateurs").status_code == 200
    spec = anon.get("/api/openapi.json").json()
    assert {"/api/demandes", "/api/demandes/{pk}", "/api/habilitations"} <= set(spec["paths"])
    for url in ("/api/demandes", f"/api/demandes/{r['review_a'].pk}", "/api/habilitations"):
        assert anon.get(url).status_code == 401
        assert anon.get(url, headers={"Authorization": "Bearer faux"}).status_code == 401
    visible = {
        "req_a": {"submitted_a", "review_a", "approved_a", "draft_a"},
        "req_b": {"approved_b", "submitted_b"},
        "instructor": {"submitted_a", "review_a", "approved_a", "approved_b", "submitted_b"},
        "admin": {"submitted_a", "review_a", "approved_a", "approved_b", "submitted_b"},
        "member": {"review_a", "approved_a", "approved_b"},
        "chair": {"review_a", "approved_a", "approved_b"},
    }
    habs = {"req_a": {w.hab_a.pk}, "req_b": {w.hab_b.pk}}
    for role, keys in visible.items():
        key = ApiToken.issue(w.users[role])
        c = Client(headers={"Authorization": f"Bearer {key}"})
        listed = {d["id"] for d in c.get("/api/demandes").json()}
        assert listed == {r[k].pk for k in keys}, role
        for k, req in r.items():
            expected = 200 if k in keys else 404
            assert c.get(f"/api/demandes/{req.pk}").status_code == expected, (role, k)
        expected_habs = habs.get(role, {w.hab_a.pk, w.hab_b.pk})
        assert {d["id"] for d in c.get("/api/habilitations").json()} == expected_habs, role
        for hab in (w.hab_a, w.hab_b):
            assert c.get(f"/api/habilitations/{hab.pk}").status_code == (
                200 if hab.pk in expected_habs else 404
            )
        assert c.post("/api/demandes").status_code == 405
