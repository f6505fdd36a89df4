"""End to end: approve a request in the portal, create its flow from a template, run it on a
simulated and consolidated warehouse, download as the requester (pages and API), and fail to
download as another organisation, by guessing ids, or once the habilitation has expired."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from datadsn.cli import app as datadsn_app
from datadsn.flows.spec import load
from tests.portal.conftest import filled_request, make_user

from .conftest import Economy


def app() -> typer.Typer:
    return datadsn_app


def approve(region: str) -> tuple[Any, dict[str, Any]]:
    from datadsn.portal import services
    from datadsn.portal.demo import complete_siret
    from datadsn.portal.models import Organisation

    org_a = Organisation.objects.create(
        name="Région A", siret=complete_siret("2000000000001"), actor_type="collectivite"
    )
    org_b = Organisation.objects.create(
        name="Ministère B", siret=complete_siret("1100000000002"), actor_type="etat"
    )
    u = {
        "a": make_user("demandeur.a@orga.example", "demandeur", org_a),
        "a2": make_user("collegue.a@orga.example", "demandeur", org_a),
        "b": make_user("demandeur.b@orgb.example", "demandeur", org_b),
        "instructor": make_user("instructeur@data-dsn.example", "instructeur"),
        "m1": make_user("membre1@data-dsn.example", "membre"),
        "m2": make_user("membre2@data-dsn.example", "membre"),
        "chair": make_user("presidente@data-dsn.example", "president"),
    }
    req = filled_request(u["a"], "Emploi régional")
    services.save_step(
        u["a"],
        req,
        {"indicators": ["EFF_FIN", "EMBAUCHES"], "extract_geography": f"Région {region}"},
        5,
    )
    services.submit(u["a"], req)
    session = services.create_session(u["instructor"], "Séance", date.today(), 2)
    services.schedule(u["instructor"], req, session)
    services.vote(u["m1"], req, "favorable", "")
    services.vote(u["m2"], req, "favorable", "")
    hab = services.decide(u["chair"], req, True, "Finalité établie.")
    return hab, u


def test_request_to_download(economy: Economy, db: Any, client: Any, tmp_path: Path) -> None:
    from datadsn.portal import stats
    from datadsn.portal.models import ApiToken, Delivery, Event, Habilitation

    hab, u = approve(economy.region)
    runner = CliRunner()
    spec_path = tmp_path / "flux.yaml"
    result = runner.invoke(
        app(),
        ["flow", "new", "--template", "effectifs-embauches-region",
         "--habilitation", hab.reference, "--out", str(spec_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    spec = load(spec_path)
    assert spec.habilitation == hab.reference and spec.perimetre.regions == (economy.region,)
    result = runner.invoke(app(), ["flow", "validate", str(spec_path)])
    assert result.exit_code == 0, result.output

    run_args = ["flow", "run", str(spec_path), "--month", "2023-02", "-w", str(economy.store.root)]
    result = runner.invoke(app(), run_args)
    assert result.exit_code == 0, result.output
    assert "livré" in result.output
    result = runner.invoke(app(), run_args)
    assert result.exit_code == 0 and "inchangé" in result.output

    delivery = Delivery.objects.get(habilitation=hab)
    assert delivery.month == "2023-02"
    assert Event.objects.filter(action="livraison", object_id=str(delivery.pk)).count() == 1
    names = [f["nom"] for f in delivery.files]
    csv_name = next(n for n in names if n.endswith("_eff_fin.csv"))
    folder = Path(delivery.folder)
    assert folder.parts[-4:] == ("deliveries", hab.reference, "2023-02", spec.nom)

    # The requester and a colleague of the same organisation download from the portal.
    url = f"/livraisons/{delivery.pk}/{csv_name}"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(u["a"])
    page = client.get("/livraisons/")
    assert page.status_code == 200 and csv_name in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (folder / csv_name).read_bytes()
    client.force_login(u["a2"])
    assert client.get(url).status_code == 200
    downloads = Event.objects.filter(action="telechargement", object_id=str(delivery.pk))
    assert downloads.count() == 2
    assert downloads.first().changes["fichier"] == csv_name

    # Through the API with the requester's token.
    key = ApiToken.issue(u["a"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    listed = client.get("/api/livraisons", **auth).json()
    assert [d["id"] for d in listed] == [delivery.pk]
    api_url = f"/api/livraisons/{delivery.pk}/fichiers/{csv_name}"
    response = client.get(api_url, **auth)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (folder / csv_name).read_bytes()
    assert Event.objects.filter(action="telechargement", changes__canal="api").count() == 1
    assert client.get(api_url).status_code == 401

    # Nobody else: another organisation, staff, guessed ids and names.
    client.force_login(u["a"])
    for pk in (delivery.pk + 1, delivery.pk + 100, 0):
        assert client.get(f"/livraisons/{pk}/{csv_name}").status_code == 404
    for name in ("manifest.json", "..%2Fjournal.jsonl", "inconnu.csv"):
        assert client.get(f"/livraisons/{delivery.pk}/{name}").status_code == 404
    for who in ("b", "instructor", "chair"):
        client.force_login(u[who])
        assert client.get(url).status_code == 404
        assert delivery.files[0]["nom"] not in client.get("/livraisons/").content.decode()
    other = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(u['b'])}"}
    assert client.get("/api/livraisons", **other).json() == []
    assert client.get(api_url, **other).status_code == 404

    # Time to serve appears on the statistics page.
    figures = stats.compute()
    assert figures["served"] == 1 and figures["serve_median"] != "—"
    assert (
        "De l'acceptation à la première livraison" in client.get("/statistiques/").content.decode()
    )

    # After the habilitation's end date: no more downloads, no more runs.
    Habilitation.objects.filter(pk=hab.pk).update(
        start_date=date.today() - timedelta(days=30), end_date=date.today() - timedelta(days=1)
    )
    client.force_login(u["a"])
    assert client.get(url).status_code == 404
    assert client.get(api_url, **auth).status_code == 404
    assert client.get("/api/livraisons", **auth).json() == []
    result = runner.invoke(app(), [*run_args[:3], "--month", "2023-03", *run_args[5:]])
    assert result.exit_code == 1 and "expiré" in result.output

    # The daily purge erases the expired habilitation's files, and says so in the audit log.
    purged = runner.invoke(app(), ["flow", "purge"])
    assert purged.exit_code == 0, purged.output
    assert "1 livraison(s) effacée(s)" in purged.output
    assert not folder.exists()
    delivery.refresh_from_db()
    assert delivery.files == []
    assert Event.objects.filter(action="livraison_effacee", object_id=str(delivery.pk)).exists()
    assert "0 livraison(s)" in runner.invoke(app(), ["flow", "purge"]).output
