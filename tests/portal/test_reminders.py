"""Expiry reminders for habilitations (``datadsn portal remind``) and the decision e-mail to the
data controller and the DPO of the request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import typer
from django.utils import timezone
from typer.testing import CliRunner

from datadsn.cli.portal import register
from datadsn.portal import services
from datadsn.portal.models import Event, Habilitation

from .conftest import World, filled_request

pytestmark = pytest.mark.django_db


def _ending_in(hab: Any, days: int) -> Any:
    Habilitation.objects.filter(pk=hab.pk).update(
        end_date=timezone.localdate() + timedelta(days=days)
    )
    hab.refresh_from_db()
    return hab


def _reminders(hab: Any) -> int:
    return Event.objects.filter(
        action="rappel_echeance_habilitation", object_id=str(hab.pk)
    ).count()


def test_each_threshold_is_reminded_once(world: World, mailbox: Any) -> None:
    hab = _ending_in(world.hab_a, 60)
    today = timezone.localdate()
    mailbox.messages.clear()

    assert services.remind_expiring_habilitations(today, (60, 15)) == [(hab, 60)]
    mailbox.wait_for(lambda: len(mailbox.messages) == 1)
    (mail,) = mailbox.messages
    for address in ("demandeur.a@orga.example", "dgs@orga.example", "dpo@orga.example"):
        assert address in mail["X-Rcpt"]
    assert "dans 60 jour(s)" in mailbox.body(mail)
    # The same day again, and the next days down to the second threshold: nothing more.
    for later in (0, 1, 30, 44):
        assert services.remind_expiring_habilitations(today + timedelta(days=later), (60, 15)) == []
    assert _reminders(hab) == 1
    assert services.remind_expiring_habilitations(today + timedelta(days=45), (60, 15)) == [
        (hab, 15)
    ]
    assert services.remind_expiring_habilitations(today + timedelta(days=46), (60, 15)) == []
    assert _reminders(hab) == 2
    mailbox.wait_for(lambda: len(mailbox.messages) == 2)


def test_a_missed_threshold_sends_only_the_nearest(world: World) -> None:
    hab = _ending_in(world.hab_a, 10)
    assert services.remind_expiring_habilitations(None, (60, 15)) == [(hab, 15)]
    assert services.remind_expiring_habilitations(None, (60, 15)) == []
    assert _reminders(hab) == 1


def test_renewed_revoked_ended_or_distant_habilitations_are_not_reminded(world: World) -> None:
    u = world.users
    renewed = _ending_in(world.hab_a, 30)
    services.renew(u["instructor"], renewed, renewed.end_date + timedelta(days=300))
    revoked = _ending_in(world.hab_b, 30)
    services.revoke(u["instructor"], revoked, "Finalité abandonnée.")
    assert services.remind_expiring_habilitations(None, (60, 15)) == []
    # The renewal itself ends far away; an ended habilitation is past reminding.
    Habilitation.objects.filter(pk=renewed.pk).update(
        end_date=timezone.localdate() - timedelta(days=1)
    )
    assert services.remind_expiring_habilitations(None, (60, 15)) == []


def test_cli_remind_is_idempotent(world: World) -> None:
    _ending_in(world.hab_a, 59)
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        pass

    first = CliRunner().invoke(app, ["portal", "remind", "--days", "60", "--days", "15"])
    assert first.exit_code == 0, first.output
    assert f"habilitation {world.hab_a.reference}" in first.output
    assert "1 rappel(s) de fin d'habilitation" in first.output
    second = CliRunner().invoke(app, ["portal", "remind"])
    assert second.exit_code == 0, second.output
    assert "0 rappel(s) de fin d'habilitation" in second.output
    assert _reminders(world.hab_a) == 1


def test_decision_is_mailed_to_the_controller_and_the_dpo(world: World, mailbox: Any) -> None:
    u = world.users
    req = filled_request(u["req_a"], "Contrôle des contacts")
    req.controller_email, req.dpo_email = "rt@region-a.example", "dpd@region-a.example"
    req.save()
    services.submit(u["req_a"], req)
    services.schedule(u["instructor"], req, world.session)
    services.vote(u["member"], req, "defavorable", "Finalité trop large.")
    services.vote(u["member2"], req, "defavorable", "Finalité trop large.")
    mailbox.messages.clear()
    services.decide(u["chair"], req, False, "Finalité trop large.")
    mailbox.wait_for(lambda: mailbox.to("dpd@region-a.example"))
    (mail,) = mailbox.to("rt@region-a.example")
    assert "refusée" in str(mail["Subject"]) and "Finalité trop large" in mailbox.body(mail)
