"""Issue 19, S5: no production server in debug mode or with a known secret key; no date
entered in a form can overflow."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from django.core.exceptions import ValidationError
from django.test import Client
from typer.testing import CliRunner

from datadsn.cli.portal import register
from datadsn.portal.forms import DataForm, DecisionForm, RenewForm, SessionForm
from datadsn.portal.models import AccessRequest, Habilitation, State


def _serve(monkeypatch: Any, env: dict[str, str], *args: str) -> Any:
    for name in ("DATADSN_DEBUG", "DATADSN_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["serve", *args])


def test_serve_refuses_debug_without_dev(monkeypatch: Any) -> None:
    result = _serve(monkeypatch, {"DATADSN_DEBUG": "1", "DATADSN_SECRET_KEY": "x" * 50})
    assert result.exit_code == 2
    assert "DATADSN_DEBUG est activé" in result.output and "--dev" in result.output


def test_serve_refuses_to_start_without_a_secret_key(monkeypatch: Any) -> None:
    result = _serve(monkeypatch, {})
    assert result.exit_code == 2 and "DATADSN_SECRET_KEY n'est pas définie" in result.output


def _secret_key(home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATADSN_", "DJANGO_"))}
    env.update(DATADSN_DEBUG="1", DATADSN_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-c", "import datadsn.portal.settings as s; print(s.SECRET_KEY)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_development_secret_key_is_random_and_kept_in_the_home(tmp_path: Path) -> None:
    first = _secret_key(tmp_path / "a")
    assert first == _secret_key(tmp_path / "a")  # stable for one home (sessions survive)
    assert first != _secret_key(tmp_path / "b")  # nobody else knows it
    assert first == (tmp_path / "a" / "secret_key").read_text().strip() and len(first) >= 50
    assert (tmp_path / "a" / "secret_key").stat().st_mode & 0o077 == 0
    assert "insecure" not in first


@pytest.mark.parametrize(
    ("form", "data", "field"),
    [
        (DecisionForm, {"decision": "accepter", "start_date": "9999-12-31"}, "start_date"),
        (DecisionForm, {"decision": "accepter", "end_date": "9999-12-31"}, "end_date"),
        (RenewForm, {"end_date": "9999-12-31"}, "end_date"),
        (SessionForm, {"title": "T", "date": "9999-12-31", "quorum": 2}, "date"),
        (DataForm, {"frequency": "mensuelle", "period_start": "0001-01-01"}, "period_start"),
    ],
)
def test_dates_are_bounded_in_forms(form: Any, data: dict[str, Any], field: str) -> None:
    f = form(data)
    assert not f.is_valid() and field in f.errors
    assert "Saisissez une date entre le 01/01/2000 et le 31/12/2100" in str(f.errors[field])


@pytest.mark.django_db
def test_far_dates_do_not_crash_the_decision_or_the_renewal(world: Any) -> None:
    from datadsn.portal import services

    u = world.users
    r = world.req["review_a"]
    services.vote(u["member"], r, "favorable", "")
    services.vote(u["member2"], r, "favorable", "")
    chair = Client(raise_request_exception=True)
    chair.force_login(u["chair"])
    response = chair.post(
        f"/demandes/{r.pk}/action/decision/", {"decision": "accepter", "start_date": "9999-12-31"}
    )
    assert response.status_code == 302
    assert AccessRequest.objects.get(pk=r.pk).state == State.IN_REVIEW
    with pytest.raises(ValidationError, match="un an"):
        services.decide(u["chair"], r, True, "", date(9999, 12, 31))
    response = chair.post(
        f"/habilitations/{world.hab_a.pk}/", {"op": "renouveler", "end_date": "9999-12-31"}
    )
    assert response.status_code == 200 and "31/12/2100" in response.content.decode()
    assert not Habilitation.objects.filter(previous=world.hab_a).exists()
