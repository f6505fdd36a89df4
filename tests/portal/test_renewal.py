"""Issue 19, S6: renewing a habilitation does not cut the current access."""

from __future__ import annotations

import hashlib
import html
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from datadsn.portal import services
from datadsn.portal.models import Delivery

pytestmark = pytest.mark.django_db


def _delivery(world: Any, tmp_path: Any) -> Delivery:
    content = b"zone;effectif\n32;1200\n"
    (tmp_path / "effectifs.csv").write_bytes(content)
    return Delivery.objects.create(
        habilitation=world.hab_a,
        flow="effectifs",
        month="2024-12",
        folder=str(tmp_path),
        files=[
            {
                "nom": "effectifs.csv",
                "octets": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        ],
    )


def test_renewal_keeps_the_current_access_until_its_end(world: Any, tmp_path: Any) -> None:
    delivery = _delivery(world, tmp_path)
    requester = Client()
    requester.force_login(world.users["req_a"])
    url = f"/livraisons/{delivery.pk}/effectifs.csv"
    assert requester.get(url).status_code == 200
    hab = world.hab_a
    instructor = Client()
    instructor.force_login(world.users["instructor"])
    new_end = hab.end_date + timedelta(days=365)
    response = instructor.post(
        f"/habilitations/{hab.pk}/", {"op": "renouveler", "end_date": new_end.isoformat()}
    )
    assert response.status_code == 302
    assert requester.get(url).status_code == 200  # was 404 right after the renewal
    renewal = hab.__class__.objects.get(previous=hab)
    assert renewal.start_date == hab.end_date + timedelta(days=1) and renewal.end_date == new_end
    page = html.unescape(requester.get(f"/habilitations/{hab.pk}/").content.decode())
    assert f"Active jusqu'au {hab.end_date:%d/%m/%Y}" in page
    staff_page = html.unescape(instructor.get(f"/habilitations/{hab.pk}/").content.decode())
    assert "Déjà renouvelée" in staff_page and 'value="renouveler"' not in staff_page


def test_renewing_an_ended_habilitation_starts_today(world: Any) -> None:
    hab = world.hab_a
    hab.__class__.objects.filter(pk=hab.pk).update(
        start_date=timezone.localdate() - timedelta(days=400),
        end_date=timezone.localdate() - timedelta(days=10),
    )
    hab.refresh_from_db()
    today = timezone.localdate()
    new = services.renew(world.users["instructor"], hab, today + timedelta(days=30))
    assert new.start_date == today
