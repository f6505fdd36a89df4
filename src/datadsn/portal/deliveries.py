"""Flow deliveries in the portal: registration, access rule, downloads (pages and API).

Only confirmed requesters of the habilitated organisation reach a delivery, only while the
habilitation is active and between its start and end dates; every other case answers 404 (no
hint that the id exists). Each download is an audit event.
"""

from __future__ import annotations

import json
import mimetypes
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from datadsn.engine import publication

from .models import Delivery, Habilitation, HabilitationStatus, Role, User
from .services import record

MANIFEST = "manifest.json"


@transaction.atomic
def register_folder(folder: Path) -> Delivery:
    """Record (or update) the delivery published in ``folder`` by ``flows.run``."""
    manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    hab = Habilitation.objects.get(pk=int(str(manifest["habilitation"]).lstrip("H")))
    files = [{k: f[k] for k in ("nom", "octets", "sha256")} for f in manifest["fichiers"]]
    delivery, created = Delivery.objects.get_or_create(
        habilitation=hab,
        flow=manifest["flux"],
        month=manifest["mois"],
        defaults={"folder": str(Path(folder).absolute()), "files": files, "manifest": manifest},
    )
    if created:
        record(None, "livraison", delivery, _summary(delivery), hab.request)
    elif delivery.files != files:
        delivery.folder = str(Path(folder).absolute())
        delivery.files = files
        delivery.manifest = manifest
        delivery.save()
        record(None, "livraison_remplacee", delivery, _summary(delivery), hab.request)
    return delivery


@transaction.atomic
def purge_expired(today: date | None = None) -> list[Delivery]:
    """Erase the files of every delivery whose habilitation has ended or was revoked.

    The delivery row stays (with no files) so that the audit trail keeps what was delivered.
    """
    today = today or timezone.localdate()
    purged = []
    for delivery in Delivery.objects.select_related("habilitation").exclude(files=[]):
        hab = delivery.habilitation
        if hab.status == HabilitationStatus.ACTIVE and today <= hab.end_date:
            continue  # still running (or not started yet): keep
        publication.remove(Path(delivery.folder))
        erased = [f["nom"] for f in delivery.files]
        delivery.files = []
        delivery.save()
        record(None, "livraison_effacee", delivery, {"fichiers": erased}, hab.request)
        purged.append(delivery)
    return purged


def _summary(d: Delivery) -> dict[str, Any]:
    return {"flux": d.flow, "mois": d.month, "fichiers": [f["nom"] for f in d.files]}


def servable(hab: Habilitation, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return hab.status == HabilitationStatus.ACTIVE and hab.start_date <= today <= hab.end_date


def downloadable(user: User) -> QuerySet[Delivery]:
    """Deliveries ``user`` may download right now."""
    qs = Delivery.objects.select_related("habilitation", "habilitation__request")
    if (
        not user.is_authenticated
        or user.role != Role.REQUESTER
        or user.organisation_id is None
        or not user.organisation_confirmed
        or not user.is_active
    ):
        return qs.none()
    today = timezone.localdate()
    return qs.filter(
        habilitation__organisation_id=user.organisation_id,
        habilitation__status=HabilitationStatus.ACTIVE,
        habilitation__start_date__lte=today,
        habilitation__end_date__gte=today,
    )


def open_file(user: User, pk: int, name: str, via: str) -> FileResponse:
    """The file ``name`` of delivery ``pk`` for ``user``, logged; 404 whenever it is not theirs."""
    delivery = downloadable(user).filter(pk=pk).first()
    if delivery is None or name not in {f["nom"] for f in delivery.files}:
        raise Http404("Fichier introuvable.")
    path = Path(delivery.folder) / name
    if path.parent != Path(delivery.folder) or not path.is_file():
        raise Http404("Fichier introuvable.")
    record(
        user,
        "telechargement",
        delivery,
        {"fichier": name, "flux": delivery.flow, "mois": delivery.month, "canal": via},
        delivery.habilitation.request,
    )
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=kind)


def first_delivery_days() -> list[float]:
    """Per approved request: days from the decision to its first delivery."""
    firsts: dict[int, Any] = {}
    for d in Delivery.objects.select_related("habilitation__request"):
        req = d.habilitation.request
        if req.decided_at is None:
            continue
        if req.pk not in firsts or d.created_at < firsts[req.pk][1]:
            firsts[req.pk] = (req.decided_at, d.created_at)
    return [max((b - a).total_seconds(), 0) / 86400 for a, b in firsts.values()]


# --- Views ---------------------------------------------------------------------------------------


@login_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    return render(request, "portal/deliveries.html", {"deliveries": downloadable(user)})


@login_required
def delivery_file(request: HttpRequest, pk: int, name: str) -> FileResponse:
    return open_file(request.user, pk, name, "portail")


def delivery_or_404(user: User, pk: int) -> Delivery:
    return get_object_or_404(downloadable(user), pk=pk)
