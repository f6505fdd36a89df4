"""Issue 19, item 8: journeys that were broken or incomplete."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from datadsn.portal import services
from datadsn.portal.models import AccessRequest, Delivery, Event

from .conftest import PASSWORD, filled_request

pytestmark = pytest.mark.django_db


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return " ".join(found.group(1).split())


def test_dictionary_block_pages_name_their_block(client: Client) -> None:
    html = client.get("/documentation/dictionnaire/S21.G00.40/").content.decode()
    assert _title(html).startswith("Bloc S21.G00.40")
    from datadsn.portal.catalogue import dictionary

    name = dictionary()["by_id"]["S21.G00.40"].name
    h1 = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert name and h1 and h1.group(1).strip() == f"S21.G00.40 — {name}"
    assert "Rubriques du bloc S21.G00.40" in html and "S21.G00.40.001" in html


def test_summary_before_submission_shows_the_whole_request(world: Any) -> None:
    user = world.users["req_a"]
    r = filled_request(user, "Récapitulatif complet")
    services.save_step(
        user,
        r,
        {
            "scope_naf": ["8610Z"],
            "scope_natures": ["01"],
            "period_start": timezone.localdate().replace(year=2023, month=1, day=1),
            "period_end": timezone.localdate().replace(year=2024, month=12, day=31),
        },
        5,
    )
    c = Client()
    c.force_login(user)
    html = c.get(f"/demandes/{r.pk}/etape/5/").content.decode()
    for shown in (
        "dgs@orga.example",  # controller
        "dpo@orga.example",  # DPO
        "tech@orga.example",  # technical contact
        "8610Z",  # sector limit
        "natures de contrat 01",
        "du 01/01/2023 au 31/12/2024",
        "Accès nominatifs et journalisés.",  # security measures
        "Récapitulatif complet",
    ):
        assert shown in html, shown


def test_the_cgu_box_links_the_conditions_it_accepts(world: Any) -> None:
    user = world.users["req_a"]
    r = filled_request(user, "Conditions")
    c = Client()
    c.force_login(user)
    html = c.get(f"/demandes/{r.pk}/etape/5/").content.decode()
    assert 'href="/conditions-generales/"' in html and 'name="cgu"' in html
    text = Client().get("/conditions-generales/").content.decode()
    assert _title(text).startswith("Conditions générales d'utilisation")
    assert "réidentification" in text and "3 ans au plus" in text


def test_clock_shows_thirty_days_on_the_day_of_submission(world: Any, client: Client) -> None:
    r = world.req["submitted_a"]
    assert r.clock_days_left() == 30
    assert r.clock_days_left(r.submitted_at + timedelta(days=30)) == 0
    assert r.clock_days_left(r.submitted_at + timedelta(days=31)) == -1
    client.force_login(world.users["req_a"])
    assert "30 j restants" in client.get(f"/demandes/{r.pk}/").content.decode()


def test_habilitation_page_shows_perimeter_deliveries_and_downloads(
    world: Any, tmp_path: Path
) -> None:
    hab = world.hab_a
    folder = tmp_path / "livraison"
    folder.mkdir()
    (folder / "effectifs.csv").write_text("mois;effectif\n2024-12;12\n", encoding="utf-8")
    delivery = Delivery.objects.create(
        habilitation=hab,
        flow="effectifs-region",
        month="2024-12",
        folder=str(folder),
        files=[{"nom": "effectifs.csv", "octets": 26, "sha256": "0" * 64}],
    )
    c = Client()
    c.force_login(world.users["req_a"])
    html = c.get(f"/habilitations/{hab.pk}/").content.decode()
    for shown in (
        "Périmètre autorisé",
        "Accès nominatifs et journalisés.",  # security measures
        "dpo@orga.example",
        "Secteurs (NAF)",
        "Mensuelle",
        "effectifs-region",
        "2024-12",
        f"/livraisons/{delivery.pk}/effectifs.csv",
        "Aucun téléchargement.",
    ):
        assert shown in html, shown
    download = c.get(f"/livraisons/{delivery.pk}/effectifs.csv")
    assert download.status_code == 200
    # Reading the whole stream closes the response (closing it again would close the database
    # connection on PostgreSQL, outside the client's guard).
    assert b"".join(download.streaming_content).startswith(b"mois;effectif")  # type: ignore[attr-defined]
    html = c.get(f"/habilitations/{hab.pk}/").content.decode()
    assert "Aucun téléchargement." not in html
    assert f"{world.users['req_a'].email} — effectifs.csv (portail)" in html
    # Staff see what was delivered but download nothing.
    c.force_login(world.users["instructor"])
    html = c.get(f"/habilitations/{hab.pk}/").content.decode()
    assert "effectifs.csv" in html and f"/livraisons/{delivery.pk}/effectifs.csv" not in html
    assert Event.objects.filter(action="telechargement").count() == 1


def test_requester_withdraws_a_draft_without_notifying_anyone(world: Any, mailbox: Any) -> None:
    c = Client()
    c.login(username=world.users["req_a"].email, password=PASSWORD)
    r = world.req["draft_a"]
    mailbox.messages.clear()
    c.post(f"/demandes/{r.pk}/action/retirer/", {"reason": ""})
    r = AccessRequest.objects.get(pk=r.pk)
    assert r.state == "retiree" and not mailbox.messages


def _link(body: str) -> str:
    found = re.search(r"http://testserver(/compte/mot-de-passe/nouveau/\S+/)", body)
    assert found, body
    return found.group(1)


def test_password_reset_by_e_mail(world: Any, mailbox: Any) -> None:
    user = world.users["req_a"]
    mailbox.messages.clear()  # the world's own notifications
    c = Client()
    login_page = c.get("/compte/connexion/").content.decode()
    assert "/compte/mot-de-passe/oublie/" in login_page
    page = c.get("/compte/mot-de-passe/oublie/").content.decode()
    assert "Mot de passe oublié" in page and "Adresse électronique" in page
    # Same answer for an unknown address, and no e-mail.
    resp = c.post("/compte/mot-de-passe/oublie/", {"email": "inconnu@nulle-part.example"})
    assert resp.status_code == 302 and resp["Location"] == "/compte/mot-de-passe/oublie/envoye/"
    assert not mailbox.messages
    resp = c.post("/compte/mot-de-passe/oublie/", {"email": user.email}, follow=True)
    assert "Vérifiez votre messagerie" in resp.content.decode()
    mailbox.wait_for(lambda: mailbox.to(user.email))
    [msg] = mailbox.to(user.email)
    assert "Réinitialisation de votre mot de passe" in str(msg["Subject"])
    link = _link(mailbox.body(msg))
    page = c.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    new = "un-nouveau-mot-de-passe-solide-7"
    resp = c.post(form_url, {"new_password1": "court", "new_password2": "court"})
    assert "Ce mot de passe est trop court" in resp.content.decode()
    resp = c.post(form_url, {"new_password1": new, "new_password2": new}, follow=True)
    assert "Mot de passe modifié" in resp.content.decode()
    assert Client().login(username=user.email, password=new)
    assert Event.objects.filter(action="mot_de_passe_reinitialise", actor=user).exists()
    # The link served once.
    assert "Lien invalide ou expiré" in c.get(link, follow=True).content.decode()


def test_password_change_when_logged_in(world: Any, mailbox: Any) -> None:
    user = world.users["instructor"]
    mailbox.messages.clear()
    c = Client()
    assert c.get("/compte/mot-de-passe/").status_code == 302  # login required
    c.login(username=user.email, password=PASSWORD)
    assert "/compte/mot-de-passe/" in c.get("/tableau-de-bord/").content.decode()
    new = "encore-un-mot-de-passe-solide-8"
    resp = c.post(
        "/compte/mot-de-passe/",
        {"old_password": "faux", "new_password1": new, "new_password2": new},
    )
    assert "ancien mot de passe est incorrect" in resp.content.decode()
    resp = c.post(
        "/compte/mot-de-passe/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert "Mot de passe modifié" in resp.content.decode()
    assert c.get("/tableau-de-bord/").status_code == 200  # still logged in
    assert Client().login(username=user.email, password=new)
    mailbox.wait_for(lambda: mailbox.to(user.email))
    assert any("Mot de passe modifié" in str(m["Subject"]) for m in mailbox.to(user.email))
    assert Event.objects.filter(action="mot_de_passe_modifie", actor=user).exists()


def test_the_journal_names_actors_and_objects_in_french(world: Any) -> None:
    # Through the web, request.user is a lazy proxy: it was journalled as « SimpleLazyObject ».
    requester, instructor = Client(), Client()
    requester.force_login(world.users["req_a"])
    instructor.force_login(world.users["instructor"])
    requester.post("/compte/jeton-api/", {"name": "script de suivi"})
    b"".join(instructor.get("/journal/export.csv").streaming_content)
    types = set(Event.objects.values_list("object_type", flat=True))
    assert "SimpleLazyObject" not in types and {"User", "AccessRequest"} <= types
    page = instructor.get("/journal/").content.decode()
    cells = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", page)
    assert cells and not any(re.match(r"[A-Z][a-z]+[A-Z]|User |Event ", c) for c in cells), cells
    assert any(c.startswith("demande ") for c in cells) and any(
        c.startswith("compte ") for c in cells
    )
