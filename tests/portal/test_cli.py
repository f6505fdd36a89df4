"""The Typer commands registered by the portal and the management commands."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from django.core.management import call_command
from typer.testing import CliRunner

from datadsn.cli.portal import register
from datadsn.portal.demo import DEMO_PASSWORD
from datadsn.portal.models import AccessRequest, Habilitation, State, UseCase, User

pytestmark = pytest.mark.django_db


def test_register_adds_serve_and_demo() -> None:
    app = typer.Typer()
    register(app)
    names = {c.name for c in app.registered_commands}
    assert names == {"serve", "portal-demo"}
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "--host" in result.output


def test_portal_demo_seeds_every_state_and_prints_logins(
    capsys: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    monkeypatch.setenv("DATADSN_HOME", str(tmp_path))
    # set then removed, so that monkeypatch restores its absence after the command sets it (it
    # would otherwise leak into later tests, where DATADSN_DEBUG=1 shows tracebacks)
    monkeypatch.setenv("DATADSN_DEBUG", "")
    monkeypatch.delenv("DATADSN_DEBUG")
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # a group, as in datadsn's CLI
        pass

    result = CliRunner().invoke(app, ["portal-demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    for role in ("demandeur", "instructeur", "membre", "presidente", "admin"):
        assert role in result.output
    assert {r.state for r in AccessRequest.objects.all()} == set(State.values)
    assert UseCase.objects.count() >= 5 and Habilitation.objects.count() == 1
    assert User.objects.get(email="presidente@data-dsn.example").check_password(DEMO_PASSWORD)
    counts = (AccessRequest.objects.count(), User.objects.count(), UseCase.objects.count())
    again = CliRunner().invoke(app, ["portal-demo"])  # idempotent
    assert again.exit_code == 0
    assert (AccessRequest.objects.count(), User.objects.count(), UseCase.objects.count()) == counts
    call_command("portal_reminders")
    assert "relancée" in capsys.readouterr().out
