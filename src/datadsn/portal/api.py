"""JSON API (django-ninja): public catalogue, token-authenticated requests and habilitations."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError, ValidationError
from ninja.security import HttpBearer

from . import published, services
from .catalogue import INDICATORS
from .models import AccessRequest, ApiToken, Habilitation, UseCase, User

LAST_USE_PRECISION = timedelta(hours=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        row = (
            ApiToken.objects.select_related("user")
            .filter(
                digest=ApiToken.hash(token),
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if row is None or not row.user.is_active:
            return None
        # Reads must not write: the last use is recorded at most once an hour per token
        # (a write per call made concurrent clients fail with « database is locked »).
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USE_PRECISION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


api = NinjaAPI(
    title="API DataDSN",
    version="1.0.0",
    description="Catalogue des cas d'usage, indicateurs publiés, demandes d'accès et habilitations. "
    "Les demandes et habilitations exigent un jeton (en-tête « Authorization: Bearer … »).",
    urls_namespace="api",
    # Swagger UI would load scripts from a third-party CDN: the site documents the API itself
    # (/documentation/api/) and publishes the schema at /api/openapi.json.
    docs_url=None,
)
auth = TokenAuth()

# django-ninja answers in English (« Unauthorized », « Not Found », pydantic messages): the API
# speaks French like the rest of the service, with the same status codes.
_HTTP_MESSAGES = {
    401: "Authentification requise : jeton absent, invalide, expiré ou révoqué.",
    403: "Accès refusé.",
    429: "Trop de requêtes : réessayez dans un moment.",
}
_FIELD_PROBLEMS = {
    "int_parsing": "doit être un nombre entier",
    "missing": "est obligatoire",
    "date_from_datetime_parsing": "doit être une date AAAA-MM-JJ",
    "date_parsing": "doit être une date AAAA-MM-JJ",
}
_PLACES = {"path": "chemin", "query": "paramètre", "body": "corps", "header": "en-tête"}


# Authentication failures and throttling are HttpError subclasses (handlers follow the MRO).
@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = _HTTP_MESSAGES.get(exc.status_code, str(exc))
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Introuvable."}, status=404)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for e in exc.errors:
        loc = [str(part) for part in e.get("loc", ())]
        place = _PLACES.get(loc[0], loc[0]) if loc else "requête"
        name = ".".join(loc[1:]) or place
        problem = _FIELD_PROBLEMS.get(str(e.get("type")), "est invalide")
        errors.append({"loc": loc, "type": e.get("type"), "msg": f"{place} « {name} » {problem}."})
    return api.create_response(request, {"detail": errors}, status=422)


class UseCaseOut(Schema):
    slug: str
    title: str
    summary: str
    actor: str
    actor_type: str
    policy_domain: str
    data_kind: str
    status: str
    legal_basis: str


class IndicatorOut(Schema):
    code: str
    name: str
    definition: str
    unit: str
    dimensions: str


class RequestOut(Schema):
    reference: str
    id: int
    title: str
    state: str
    state_label: str
    organisation: str
    siret: str
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_reason: str
    due_at: datetime | None


class HabilitationOut(Schema):
    reference: str
    id: int
    request: str
    organisation: str
    status: str
    start_date: date
    end_date: date
    scope: dict[str, Any]


def _request_out(r: AccessRequest) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "id": r.pk,
        "title": r.title,
        "state": r.state,
        "state_label": r.get_state_display(),
        "organisation": r.organisation.name,
        "siret": r.organisation.siret,
        "submitted_at": r.submitted_at,
        "decided_at": r.decided_at,
        "decision_reason": r.decision_reason,
        "due_at": r.due_at(),
    }


def _hab_out(h: Habilitation) -> dict[str, Any]:
    return {
        "reference": h.reference,
        "id": h.pk,
        "request": h.request.reference,
        "organisation": h.organisation.name,
        "status": h.status,
        "start_date": h.start_date,
        "end_date": h.end_date,
        "scope": h.scope,
    }


@api.get(
    "/cas-usage",
    response=list[UseCaseOut],
    tags=["catalogue"],
    summary="Liste des cas d'usage publiés",
)
def list_use_cases(request: HttpRequest) -> Any:
    return UseCase.objects.filter(published=True)


@api.get("/cas-usage/{slug}", response=UseCaseOut, tags=["catalogue"], summary="Un cas d'usage")
def get_use_case(request: HttpRequest, slug: str) -> Any:
    return get_object_or_404(UseCase, slug=slug, published=True)


@api.get(
    "/indicateurs",
    response=list[IndicatorOut],
    tags=["catalogue"],
    summary="Catalogue des indicateurs",
)
def list_indicators(request: HttpRequest) -> Any:
    return [i.__dict__ for i in INDICATORS]


class CellOut(Schema):
    periode: str
    dimension: str
    code: str | None
    libelle: str | None
    valeur: float | None
    unite: str
    statut: str


class ValuesOut(Schema):
    indicateur: str
    titre: str
    publication: str
    version: int
    cellules: list[CellOut]


class ErrorOut(Schema):
    detail: str


@api.get(
    "/indicateurs/{code}/valeurs",
    response={200: ValuesOut, 400: ErrorOut, 404: ErrorOut},
    tags=["indicateurs publiés"],
    summary="Valeurs publiées d'un indicateur (dernière publication)",
    description="Les cellules de la dernière publication mensuelle, protégées par le secret "
    "statistique : une cellule masquée a une valeur nulle et son statut (masque_primaire ou "
    "masque_secondaire). Par défaut, la série nationale sur toute la période publiée.",
)
def indicator_values(
    request: HttpRequest,
    code: str,
    periode: str = Query("", description="Mois AAAA-MM (par défaut : tous les mois publiés)."),
    par: str = Query(
        "", description="Ventilation : national (défaut), region, departement, naf_section…"
    ),
    territoire: str = Query(
        "",
        description="Un territoire : « region:32 », « departement:59 », ou le code seul avec par.",
    ),
) -> Any:
    pub, entry = published.find(code)
    if pub is None:
        return Status(404, {"detail": "Aucune publication n'est encore disponible."})
    if entry is None:
        return Status(
            404, {"detail": f"Indicateur « {code} » absent de la publication de {pub.month}."}
        )
    try:
        rows = published.api_cells(published.cells(pub, code), periode, par, territoire)
    except published.FilterError as exc:
        return Status(400, {"detail": str(exc)})
    return {
        "indicateur": code,
        "titre": entry["titre"],
        "publication": pub.month,
        "version": pub.version,
        "cellules": rows.drop("indicateur").to_dicts(),
    }


@api.get(
    "/demandes",
    response=list[RequestOut],
    auth=auth,
    tags=["demandes"],
    summary="Demandes visibles par le compte",
)
def list_requests(request: HttpRequest) -> Any:
    return [_request_out(r) for r in services.visible_requests(request.auth)]


@api.get("/demandes/{pk}", response=RequestOut, auth=auth, tags=["demandes"], summary="Une demande")
def get_request(request: HttpRequest, pk: int) -> Any:
    return _request_out(get_object_or_404(services.visible_requests(request.auth), pk=pk))


@api.get(
    "/habilitations",
    response=list[HabilitationOut],
    auth=auth,
    tags=["habilitations"],
    summary="Habilitations visibles par le compte",
)
def list_habilitations(request: HttpRequest) -> Any:
    return [_hab_out(h) for h in services.visible_habilitations(request.auth)]


@api.get(
    "/habilitations/{pk}",
    response=HabilitationOut,
    auth=auth,
    tags=["habilitations"],
    summary="Une habilitation",
)
def get_habilitation(request: HttpRequest, pk: int) -> Any:
    return _hab_out(get_object_or_404(services.visible_habilitations(request.auth), pk=pk))


class DeliveryFileOut(Schema):
    nom: str
    octets: int
    sha256: str


class DeliveryOut(Schema):
    id: int
    habilitation: str
    flow: str
    month: str
    files: list[DeliveryFileOut]


@api.get(
    "/livraisons",
    response=list[DeliveryOut],
    auth=auth,
    tags=["livraisons"],
    summary="Livraisons téléchargeables par le compte",
)
def list_deliveries(request: HttpRequest) -> Any:
    from .deliveries import downloadable

    return [
        {
            "id": d.pk,
            "habilitation": d.habilitation.reference,
            "flow": d.flow,
            "month": d.month,
            "files": d.files,
        }
        for d in downloadable(request.auth)
    ]


@api.get(
    "/livraisons/{pk}/fichiers/{name}",
    auth=auth,
    tags=["livraisons"],
    summary="Télécharger un fichier livré (journalisé)",
)
def download_delivery_file(request: HttpRequest, pk: int, name: str) -> Any:
    from .deliveries import open_file

    return open_file(request.auth, pk, name, "api")
