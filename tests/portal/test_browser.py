"""End to end in headless Debian chromium (Playwright), with axe-core and screenshots."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from .conftest import PASSWORD, World, build_world

CHROMIUM = "/usr/bin/chromium"
# Screenshots go to docs/screenshots/ only when asked (DATADSN_SCREENSHOTS=1), so that ordinary
# test runs leave the working tree clean.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOTS = (
    DOCS_SCREENSHOTS
    if os.environ.get("DATADSN_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "datadsn-portal-screenshots"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=fr-FR",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} est introuvable : installez Debian chromium (apt-get install -y chromium) "
            "pour les tests navigateur, ou désélectionnez-les avec -m 'not browser'.",
            pytrace=False,
        )
    # Playwright's sync API runs an event loop in this thread; Django's ORM is still used synchronously.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def site(live_server: Any, settings: Any) -> tuple[str, World]:
    settings.SITE_URL = live_server.url
    world = build_world()
    from datadsn.portal.demo import USE_CASES
    from datadsn.portal.models import UseCase

    for case in USE_CASES:
        UseCase.objects.create(**case)
    return live_server.url, world


class Session:
    """One browser context per person, as in real life."""

    def __init__(self, browser: Any, base: str, email: str | None = None) -> None:
        self.context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.base = base
        if email:
            self.page.goto(base + "/compte/connexion/")
            self.page.get_by_label("Adresse électronique").fill(email)
            self.page.get_by_label("Mot de passe").fill(PASSWORD)
            submit(self.page, "Se connecter")
            self.page.wait_for_url("**/tableau-de-bord/")

    def go(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def close(self) -> None:
        self.context.close()


def check_axe(page: Any, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name} : " + "; ".join(
        f"{v['id']} ({v['impact']}) : {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def submit(page: Any, button: str) -> None:
    """Click a submit button and wait for the page the server answers with."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def alert_text(page: Any) -> str:
    return " ".join(page.locator(".fr-alert").all_inner_texts())


def test_journey_changes_votes_approval_and_habilitation(
    browser: Any, site: tuple[str, World], mailbox: Any
) -> None:
    base, world = site
    u = world.users
    # The requester files a request through the five steps.
    req = Session(browser, base, u["req_a"].email)
    page = req.go("/demandes/nouvelle/")
    check_axe(page, "formulaire étape 1")
    shot(page, "demande-etape-1")
    page.get_by_label("Responsable de traitement : nom").fill("Direction générale des services")
    page.get_by_label("Responsable de traitement : courriel").fill("dgs@orga.example")
    page.get_by_label("Délégué à la protection des données : nom").fill("Mme DPO")
    page.get_by_label("Délégué à la protection des données : courriel").fill("dpo@orga.example")
    submit(page, "Enregistrer et continuer")
    page.wait_for_url(re.compile(r"/etape/2/$"))
    page.get_by_label("Intitulé de la demande").fill("Suivi des embauches en Région A")
    page.locator("#id_purpose").fill("Piloter les aides régionales à l'embauche.")
    page.get_by_label("Politique publique concernée").select_option("emploi")
    page.locator("#id_legal_basis_text").fill("Article L. 133-5-3 du code de la sécurité sociale.")
    submit(page, "Enregistrer et continuer")
    page.wait_for_url(re.compile(r"/etape/3/$"))
    page.get_by_label("Embauches", exact=True).check(force=True)
    page.get_by_label("Territoire").fill("Région A")
    page.get_by_label("Fréquence").select_option("mensuelle")
    submit(page, "Enregistrer et continuer")
    page.wait_for_url(re.compile(r"/etape/4/$"))
    page.get_by_label("Durée de conservation (mois)").fill("48")
    page.get_by_label("Mesures de sécurité").fill("Hébergement qualifié, accès nominatifs.")
    submit(page, "Enregistrer et continuer")
    assert "36 mois" in page.content()  # justification required above 36 months
    page.get_by_label("Justification de la durée de conservation").fill(
        "Évaluation sur quatre ans."
    )
    submit(page, "Enregistrer et continuer")
    page.wait_for_url(re.compile(r"/etape/5/$"))
    page.get_by_label(re.compile("J'accepte les conditions")).check(force=True)
    submit(page, "Déposer la demande")
    page.wait_for_url(re.compile(r"/demandes/\d+/$"))
    assert "Déposée" in page.content()
    ref_path = page.url.replace(base, "")
    check_axe(page, "détail de la demande")
    shot(page, "demande-detail-demandeur")

    # The instructor asks for changes.
    ins = Session(browser, base, u["instructor"].email)
    shot(ins.page, "tableau-de-bord-instructeur")
    page = ins.go(ref_path)
    page.get_by_label("Modifications attendues").fill("Précisez la population visée.")
    submit(page, "Demander des modifications")
    assert "Modifications demandées au demandeur" in alert_text(page)

    # The requester resubmits.
    page = req.go(ref_path)
    assert "Précisez la population visée." in page.content()
    page.get_by_role("link", name="Modifier et déposer à nouveau").click()
    page.get_by_role("link", name="3. Données demandées").click()
    page.locator("#id_extract_population").fill("Salariés des établissements de la région")
    submit(page, "Enregistrer et continuer")
    submit(page, "Enregistrer et continuer")
    page.wait_for_url(re.compile(r"/etape/5/$"))
    submit(page, "Déposer la demande")
    page.wait_for_url(re.compile(r"/demandes/\d+/$"))
    assert "Déposée à nouveau" in page.content()

    # The instructor puts it on the comité agenda.
    page = ins.go(ref_path)
    page.get_by_label("Séance du comité").select_option(str(world.session.pk))
    submit(page, "Inscrire à l'ordre du jour")
    assert "En examen par le comité" in page.content()

    # Two members vote, the chair approves.
    for who in ("member", "member2"):
        m = Session(browser, base, u[who].email)
        page = m.go(ref_path)
        page.get_by_label("Avis favorable").check(force=True)
        page.get_by_label("Avis motivé").fill("Finalité claire et proportionnée.")
        submit(page, "Enregistrer mon vote")
        assert "Vote enregistré" in alert_text(page)
        m.close()
    chair = Session(browser, base, u["chair"].email)
    page = chair.go(ref_path)
    # The chair reads the others' votes only once she has voted herself.
    assert "2 favorable(s)" not in page.content()
    page.get_by_label("Avis favorable").check(force=True)
    submit(page, "Enregistrer mon vote")
    assert "3 favorable(s)" in page.content()
    check_axe(page, "décision du comité")
    shot(page, "decision-comite")
    start = timezone.localdate()
    end = start + timedelta(days=365)
    page.get_by_label("Accepter la demande").check(force=True)
    page.get_by_label("Début de l'habilitation").fill(start.isoformat())
    page.get_by_label("Fin de l'habilitation").fill(end.isoformat())
    submit(page, "Enregistrer la décision")
    assert "habilitation H" in alert_text(page)

    # The habilitation appears for the requester, with its dates.
    page = req.go(ref_path)
    habs = page.locator("#habilitations").inner_text()
    assert f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}" in habs
    page.locator("#habilitations a").first.click()
    assert f"{end:%d/%m/%Y}" in page.locator("#hab-dates").inner_text()
    shot(page, "habilitation")
    assert any("acceptée" in s for s in mailbox.subjects())
    for s in (req, ins, chair):
        s.close()


def test_refusal_path(browser: Any, site: tuple[str, World], mailbox: Any) -> None:
    from datadsn.portal import services

    base, world = site
    u = world.users
    r = world.req["review_a"]
    services.vote(u["member"], r, "defavorable", "Données disproportionnées.")
    services.vote(u["member2"], r, "defavorable", "Idem.")
    chair = Session(browser, base, u["chair"].email)
    page = chair.go(f"/demandes/{r.pk}/")
    page.get_by_label("Refuser la demande").check(force=True)
    submit(page, "Enregistrer la décision")
    assert "motivé" in alert_text(page)  # a refusal without a reason is rejected
    page.get_by_label("Refuser la demande").check(force=True)
    page.locator("#id_reason").fill("Finalité insuffisamment précise.")
    submit(page, "Enregistrer la décision")
    assert "Décision enregistrée" in alert_text(page)
    req = Session(browser, base, u["req_a"].email)
    page = req.go(f"/demandes/{r.pk}/")
    assert (
        "Demande refusée" in page.content() and "Finalité insuffisamment précise." in page.content()
    )
    mailbox.wait_for(lambda: any("refusée" in s for s in mailbox.subjects()))
    chair.close()
    req.close()


def test_journey_password_reset_messages_and_withdrawal(
    browser: Any, site: tuple[str, World], mailbox: Any
) -> None:
    base, world = site
    u = world.users
    r = world.req["submitted_a"]
    mailbox.messages.clear()  # the world's own notifications

    # The requester has forgotten her password and resets it from the login page.
    req = Session(browser, base)
    page = req.go("/compte/connexion/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.locator("#id_email").fill(u["req_a"].email)
    with page.expect_navigation():
        page.locator("#id_email").press("Enter")
    assert "Vérifiez votre messagerie" in page.content()
    mailbox.wait_for(lambda: mailbox.to(u["req_a"].email))
    found = re.search(r"(/compte/mot-de-passe/nouveau/\S+/)", mailbox.body(mailbox.messages[-1]))
    assert found
    page = req.go(found.group(1))
    new_password = "un-nouveau-mot-de-passe-solide-7"
    page.locator("#id_new_password1").fill(new_password)
    page.locator("#id_new_password2").fill(new_password)
    submit(page, "Enregistrer le mot de passe")
    assert "Mot de passe modifié" in page.content()
    page = req.go("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(u["req_a"].email)
    page.get_by_label("Mot de passe").fill(new_password)
    submit(page, "Se connecter")
    page.wait_for_url("**/tableau-de-bord/")

    # She asks the instructor a question on her filed request; the instructor answers.
    path = f"/demandes/{r.pk}/"
    page = req.go(path)
    page.get_by_label("Votre message").fill("Pouvons-nous ajouter le secteur 62 ?")
    submit(page, "Envoyer le message")
    assert "Message envoyé" in alert_text(page)
    mailbox.wait_for(lambda: mailbox.to(u["instructor"].email))
    ins = Session(browser, base, u["instructor"].email)
    page = ins.go(path)
    assert "secteur 62" in page.locator("#fil").inner_text()
    page.get_by_label("Votre message").fill("Oui : précisez-le à l'étape 3.")
    submit(page, "Envoyer le message")
    mailbox.wait_for(lambda: len(mailbox.to(u["req_a"].email)) >= 2)
    page = req.go(path)
    assert "précisez-le à l'étape 3" in page.locator("#fil").inner_text()
    check_axe(page, "fil de messages")
    shot(page, "demande-messages")

    # Another organisation's requester can neither read the thread nor post on it.
    intruder = Session(browser, base, u["req_b"].email)
    assert intruder.go(path).locator("#fil").count() == 0
    # A valid CSRF token of her own session, so that only the visibility check can refuse her.
    csrf = next(c["value"] for c in intruder.context.cookies() if c["name"] == "csrftoken")
    answer = intruder.page.request.post(
        base + path + "messages/",
        form={"body": "Intrusion", "csrfmiddlewaretoken": csrf},
        headers={"Referer": base + path},
    )
    assert answer.status == 404
    assert "Intrusion" not in req.go(path).locator("#fil").inner_text()

    # She withdraws the request; the instructor hears about it and the thread stays readable.
    page = req.go(path)
    page.get_by_label("Motif du retrait").fill("Besoin couvert par l'Insee.")
    submit(page, "Retirer la demande")
    assert "Demande retirée par le demandeur" in page.content()
    assert "secteur 62" in page.locator("#fil").inner_text()
    mailbox.wait_for(lambda: any("retirée" in s for s in mailbox.subjects()))
    page = ins.go(path)
    assert "Retirée par le demandeur" in page.content()
    for s in (req, ins, intruder):
        s.close()


MAIN_PAGES = [
    ("/", "accueil"),
    ("/cas-usage/", "cas-usage"),
    ("/cas-usage/pilotage-emploi-region/", "cas-usage-detail"),
    ("/documentation/", "documentation"),
    ("/documentation/dictionnaire/", "dictionnaire"),
    ("/documentation/dictionnaire/S21.G00.40/", "dictionnaire-bloc"),
    ("/documentation/indicateurs/", "indicateurs"),
    ("/statistiques/", "statistiques"),
    ("/documentation/api/", "api"),
    ("/compte/connexion/", "connexion"),
    ("/compte/inscription/", "inscription"),
]


def test_main_pages_accessibility_and_screenshots(browser: Any, site: tuple[str, World]) -> None:
    base, world = site
    visitor = Session(browser, base)
    for path, name in MAIN_PAGES:
        page = visitor.go(path)
        check_axe(page, path)
        if name != "dictionnaire-bloc":
            shot(page, name)
    visitor.close()
    for role, pages in {
        "req_a": ["/tableau-de-bord/", f"/habilitations/{world.hab_a.pk}/"],
        "instructor": ["/demandes/", f"/comite/{world.session.pk}/", "/journal/"],
    }.items():
        s = Session(browser, base, world.users[role].email)
        for path in pages:
            page = s.go(path)
            check_axe(page, f"{role} {path}")
        if role == "instructor":
            shot(s.go(f"/comite/{world.session.pk}/"), "seance-comite")
        s.close()
