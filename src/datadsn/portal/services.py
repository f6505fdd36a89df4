"""The request workflow: every transition, its permission check, its audit event and its e-mail.

Views and the API call these functions only; none of them changes ``AccessRequest.state`` itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from datadsn.flows import ledger as flow_ledger

from . import workflow
from .models import (
    EDITABLE_STATES,
    OPEN_STATES,
    RETENTION_JUSTIFY_ABOVE_MONTHS,
    AccessRequest,
    ComiteSession,
    Event,
    Habilitation,
    HabilitationStatus,
    MembershipVerification,
    Orientation,
    Role,
    SessionStatus,
    State,
    User,
    Vote,
    VoteChoice,
)

log = logging.getLogger(__name__)


# --- Audit -------------------------------------------------------------------------------------


def record(
    actor: User | None,
    action: str,
    obj: Any,
    changes: dict[str, Any] | None = None,
    request: AccessRequest | None = None,
) -> Event:
    return Event.objects.create(
        actor=actor,
        actor_label=actor.email if actor else "système",
        action=action,
        # The model's name, also through the lazy proxy views hold as request.user.
        object_type=obj._meta.object_name,
        object_id=str(obj.pk),
        request=request
        if request is not None
        else (obj if isinstance(obj, AccessRequest) else None),
        changes=changes or {},
    )


# --- Visibility (object-level permissions) -----------------------------------------------------


def visible_requests(user: User) -> QuerySet[AccessRequest]:
    qs = AccessRequest.objects.select_related("organisation", "created_by", "session")
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.REQUESTER:
        if user.organisation_id is None:
            return qs.none()
        if user.organisation_confirmed:
            return qs.filter(organisation_id=user.organisation_id)
        return qs.filter(organisation_id=user.organisation_id, created_by=user)
    if user.role in (Role.INSTRUCTOR, Role.ADMIN):
        return qs.exclude(state=State.DRAFT)
    # Comité members and chair see what is or was on an agenda.
    return qs.filter(session__isnull=False)


def visible_habilitations(user: User) -> QuerySet[Habilitation]:
    qs = Habilitation.objects.select_related("organisation", "request", "renewal")
    if not user.is_authenticated:
        return qs.none()
    if user.role == Role.REQUESTER:
        if user.organisation_id is None or not user.organisation_confirmed:
            return qs.filter(request__created_by=user)
        return qs.filter(organisation_id=user.organisation_id)
    return qs


def visible_request(user: User, pk: int) -> AccessRequest:
    """The request ``pk`` if ``user`` sees it (else 404), known as visible to ``user`` for the rest
    of the page: the thread, its form and the edit rights do not query it again."""
    req = get_object_or_404(visible_requests(user), pk=pk)
    req.__dict__["_visible_to"] = {user.pk: True}
    return req


def is_visible(user: User, req: AccessRequest) -> bool:
    known: dict[Any, bool] = req.__dict__.setdefault("_visible_to", {})
    if user.pk not in known:
        known[user.pk] = visible_requests(user).filter(pk=req.pk).exists()
    return known[user.pk]


def can_edit(user: User, req: AccessRequest) -> bool:
    return (
        user.is_authenticated
        and user.role == Role.REQUESTER
        and req.state in EDITABLE_STATES
        and is_visible(user, req)
    )


def _require(condition: bool, message: str = "Action non autorisée.") -> None:
    if not condition:
        raise PermissionDenied(message)


# --- Notifications -----------------------------------------------------------------------------


def request_link(req: AccessRequest) -> str:
    return settings.SITE_URL + reverse("portal:request_detail", args=[req.pk])


def notify(recipients: Iterable[str], subject: str, body: str) -> bool:
    to = sorted({r for r in recipients if r})
    if not to:
        return False
    try:
        send_mail(f"[DataDSN] {subject}", body, settings.DEFAULT_FROM_EMAIL, to)
    except OSError as exc:  # SMTP down: the transition stands, the failure is logged.
        log.warning("notification non envoyée (%s) : %s", subject, exc)
        return False
    return True


def requester_emails(req: AccessRequest) -> list[str]:
    emails = [req.created_by.email]
    emails += User.objects.filter(
        organisation=req.organisation,
        organisation_confirmed=True,
        role=Role.REQUESTER,
        is_active=True,
    ).values_list("email", flat=True)
    return emails


def role_emails(*roles: Any) -> list[str]:
    return list(User.objects.filter(role__in=roles, is_active=True).values_list("email", flat=True))


def audience_emails(req: AccessRequest, row: workflow.Transition) -> list[str]:
    """The addresses of the audiences the workflow table names for ``row``."""
    emails: list[str] = []
    for audience in row.notify:
        if audience == workflow.REQUESTERS:
            emails += requester_emails(req)
        elif audience == workflow.INSTRUCTORS:
            emails += role_emails(Role.INSTRUCTOR)
        elif audience == workflow.COMITE:
            emails += role_emails(Role.MEMBER, Role.CHAIR)
        elif audience == workflow.CONTROLLER:
            emails += [req.controller_email, req.dpo_email]
    return emails


# --- Transitions -------------------------------------------------------------------------------

REQUIRED_FOR_SUBMISSION = {
    "controller_name": "le responsable de traitement",
    "controller_email": "le courriel du responsable de traitement",
    "dpo_name": "le délégué à la protection des données",
    "dpo_email": "le courriel du délégué à la protection des données",
    "title": "l'intitulé",
    "purpose": "la finalité",
    "policy_domain": "la politique publique",
    "legal_basis_text": "la base légale",
    "frequency": "la fréquence",
    "retention_months": "la durée de conservation",
    "security_measures": "les mesures de sécurité",
}


def missing_fields(req: AccessRequest) -> list[str]:
    missing = [label for field, label in REQUIRED_FOR_SUBMISSION.items() if not getattr(req, field)]
    if not req.indicators and not req.extract_population:
        missing.append("les données demandées (indicateurs ou périmètre d'extraction)")
    if (
        req.retention_months
        and req.retention_months > RETENTION_JUSTIFY_ABOVE_MONTHS
        and not req.retention_justification.strip()
    ):
        missing.append("la justification d'une conservation de plus de 36 mois")
    if not req.cgu_accepted_at:
        missing.append("l'acceptation des conditions générales d'utilisation")
    return missing


@transaction.atomic
def create_draft(user: User) -> AccessRequest:
    _require(
        user.is_authenticated and user.role == Role.REQUESTER and user.organisation_id is not None
    )
    req = AccessRequest.objects.create(
        organisation_id=user.organisation_id, created_by=user, state=State.DRAFT
    )
    record(user, "creation", req)
    return req


@transaction.atomic
def save_step(user: User, req: AccessRequest, changed: dict[str, Any], step: int) -> AccessRequest:
    _require(can_edit(user, req))
    diff = {}
    for field, value in changed.items():
        old = getattr(req, field)
        if old != value:
            diff[field] = [_jsonable(old), _jsonable(value)]
            setattr(req, field, value)
    req.step = max(req.step, step)
    req.save()
    if diff:
        record(user, "modification", req, diff)
    return req


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@transaction.atomic
def submit(user: User, req: AccessRequest) -> AccessRequest:
    row = workflow.transition(user, req, "deposer")
    _require(can_edit(user, req))
    if not user.organisation_confirmed:
        raise ValidationError(
            "Votre rattachement à l'organisation n'est pas encore vérifié : vous pouvez préparer "
            "la demande, mais pas la déposer au nom de l'organisation. Il est vérifié par une "
            "adresse d'un domaine déclaré par l'organisation, ou par un membre vérifié de "
            "l'organisation ou un instructeur (page « Rattachements »)."
        )
    missing = missing_fields(req)
    if missing:
        raise ValidationError("Il manque : " + ", ".join(missing) + ".")
    now = timezone.now()
    old = workflow.fire(row, req)
    if old == State.DRAFT:
        req.submitted_at = now
    else:
        if req.paused_since:
            req.paused_seconds += int((now - req.paused_since).total_seconds())
            req.paused_since = None
    req.last_submitted_at = now
    req.save()
    record(user, row.event, req, {"etat": [old, req.state]})
    notify(
        requester_emails(req),
        f"Demande {req.reference} déposée",
        f"Votre demande « {req.title} » a bien été déposée. Elle recevra une réponse, "
        f"avec un objectif de 30 jours.\n\nSuivre la demande : {request_link(req)}\n",
    )
    notify(
        role_emails(Role.INSTRUCTOR) if workflow.INSTRUCTORS in row.notify else [],
        f"Nouvelle demande à instruire : {req.reference}",
        f"{req.organisation.name} a déposé la demande « {req.title} ».\n\n{request_link(req)}\n",
    )
    return req


@transaction.atomic
def withdraw(user: User, req: AccessRequest, reason: str = "") -> AccessRequest:
    """The requester withdraws a request not yet on the comité's agenda (the 30-day clock stops)."""
    row = workflow.transition(user, req, "retirer")
    _require(visible_requests(user).filter(pk=req.pk).exists())
    old = workflow.fire(row, req)
    req.paused_since = None
    req.save()
    record(user, row.event, req, {"etat": [old, req.state], "motif": reason.strip()})
    notify(
        audience_emails(req, row),
        f"Demande {req.reference} retirée",
        f"{user.display()} ({req.organisation.name}) a retiré la demande « {req.title} »."
        + (f"\nMotif : {reason.strip()}" if reason.strip() else "")
        + f"\n\n{request_link(req)}\n",
    )
    return req


def _mark_responded(req: AccessRequest, user: User) -> None:
    if req.first_response_at is None:
        req.first_response_at = timezone.now()
    if req.instructor_id is None:
        req.instructor = user


@transaction.atomic
def orient(user: User, req: AccessRequest, orientation: str, framing: str) -> AccessRequest:
    """The instructor orients a request (right partner, right data) and frames its scope."""
    row = workflow.transition(user, req, "orientation")
    if orientation not in Orientation.values:
        raise ValidationError("Orientation inconnue.")
    if not framing.strip():
        raise ValidationError("Précisez le cadrage : données, périmètre et conditions proposés.")
    before = {"orientation": req.orientation, "cadrage": req.framing}
    _mark_responded(req, user)
    req.orientation = orientation
    req.framing = framing.strip()
    req.oriented_at = timezone.now()
    workflow.fire(row, req)
    req.save()
    record(
        user,
        row.event,
        req,
        {
            "orientation": [before["orientation"], req.orientation],
            "cadrage": [before["cadrage"], req.framing],
        },
    )
    notify(
        audience_emails(req, row),
        f"Orientation de {req.reference}",
        f"Votre demande « {req.title} » est orientée vers : {req.get_orientation_display()}.\n\n"
        f"Cadrage proposé :\n{req.framing}\n\n{request_link(req)}\n",
    )
    return req


@transaction.atomic
def request_changes(user: User, req: AccessRequest, message: str) -> AccessRequest:
    row = workflow.transition(user, req, "modifications")
    if not message.strip():
        raise ValidationError("Précisez les modifications attendues.")
    _mark_responded(req, user)
    old = workflow.fire(row, req)
    req.changes_message = message.strip()
    req.paused_since = timezone.now()
    req.save()
    record(user, row.event, req, {"etat": [old, req.state], "message": message})
    notify(
        audience_emails(req, row),
        f"Modifications demandées sur {req.reference}",
        f"L'équipe DataDSN demande des compléments sur « {req.title} » :\n\n{message}\n\n"
        f"Modifier et déposer à nouveau : {request_link(req)}\n",
    )
    return req


@transaction.atomic
def schedule(user: User, req: AccessRequest, session: ComiteSession) -> AccessRequest:
    row = workflow.transition(user, req, "comite")
    if session.status != SessionStatus.PLANNED:
        raise ValidationError("Cette séance est close.")
    _mark_responded(req, user)
    old = workflow.fire(row, req)
    req.session = session
    req.save()
    record(user, row.event, req, {"etat": [old, req.state], "seance": session.pk})
    notify(
        requester_emails(req),
        f"{req.reference} inscrite au comité des usages",
        f"Votre demande « {req.title} » sera examinée par le comité des usages le "
        f"{session.date:%d/%m/%Y}.\n\n{request_link(req)}\n",
    )
    notify(
        role_emails(Role.MEMBER, Role.CHAIR),
        f"Ordre du jour : {req.reference}",
        f"La demande « {req.title} » est inscrite à la séance « {session.title} ».\n\n{request_link(req)}\n",
    )
    return req


@transaction.atomic
def vote(user: User, req: AccessRequest, choice: str, opinion: str) -> Vote:
    """A comité member votes once: a vote cannot be changed after the others' votes are visible."""
    row = workflow.transition(user, req, "vote")
    if choice not in VoteChoice.values:
        raise ValidationError("Vote inconnu.")
    if choice == VoteChoice.UNFAVOURABLE and not opinion.strip():
        raise ValidationError("Un avis défavorable doit être motivé.")
    if Vote.objects.filter(request=req, member=user).exists():
        raise ValidationError("Votre vote est déjà enregistré ; il ne peut plus être modifié.")
    v = Vote.objects.create(request=req, member=user, choice=choice, opinion=opinion.strip())
    workflow.fire(row, req)
    record(user, row.event, v, {"vote": choice, "avis": opinion}, req)
    return v


def has_voted(user: User, req: AccessRequest) -> bool:
    return req.votes.filter(member_id=user.pk).exists()


def can_see_votes(user: User, req: AccessRequest) -> bool:
    """Comité members see the others' votes only once they have voted (or the request is decided)."""
    if not user.is_authenticated or user.role == Role.REQUESTER:
        return False
    if user.role in (Role.MEMBER, Role.CHAIR) and req.state == State.IN_REVIEW:
        return has_voted(user, req)
    return True


def votes_hidden_from(user: User) -> set[int]:
    """Requests whose votes ``user`` may not read yet (in review, and not voted on by them)."""
    if not user.is_authenticated or user.role not in (Role.MEMBER, Role.CHAIR):
        return set()
    in_review = AccessRequest.objects.filter(state=State.IN_REVIEW).exclude(votes__member=user)
    return set(in_review.values_list("pk", flat=True))


def event_changes_for(user: User, event: Event, hidden: set[int]) -> Any:
    """An event's changes as ``user`` may read them in the journal (votes masked if needed)."""
    if event.action.startswith("vote") and event.request_id in hidden:
        return {"vote": "masqué jusqu'à votre propre vote"}
    return event.changes


def tally(req: AccessRequest, exclude: User | None = None) -> dict[Any, int]:
    counts: dict[Any, int] = {c: 0 for c in VoteChoice.values}
    for v in req.votes.all():
        if exclude is not None and v.member_id == exclude.pk:
            continue
        counts[v.choice] += 1
    return counts


def majority(counts: dict[Any, int]) -> bool | None:
    """The majority of expressed votes (abstentions aside): True, False, or None when tied."""
    for_, against = counts[VoteChoice.FAVOURABLE], counts[VoteChoice.UNFAVOURABLE]
    if for_ == against:
        return None
    return for_ > against


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


HABILITATION_MAX_START_DELAY_DAYS = 365


def check_habilitation_dates(start: date, end: date | None, decided_on: date) -> None:
    """A habilitation starts on or after the decision day and lasts at most the configured years."""
    if start < decided_on:
        raise ValidationError(
            f"L'habilitation ne peut pas commencer avant le jour de la décision "
            f"({decided_on:%d/%m/%Y})."
        )
    if start > decided_on + timedelta(days=HABILITATION_MAX_START_DELAY_DAYS):
        raise ValidationError(
            "L'habilitation doit commencer au plus tard un an après le jour de la décision."
        )
    if end is None:
        return
    if end <= start:
        raise ValidationError("La fin de l'habilitation doit suivre son début.")
    years = settings.HABILITATION_MAX_YEARS
    if end > add_years(start, years):
        raise ValidationError(f"Une habilitation dure au plus {years} ans.")


@transaction.atomic
def decide(
    user: User,
    req: AccessRequest,
    approve: bool,
    reason: str,
    start: date | None = None,
    end: date | None = None,
    override: bool = False,
    unit_level_reason: str = "",
) -> Habilitation | None:
    """The chair records the comité's decision; approval creates the habilitation.

    The decision follows the majority of expressed votes once the quorum is reached. Deciding
    against that majority (or without one, when votes are tied) is an explicit override that
    needs a reason; it is shown to the requester and recorded in the journal.

    A non-empty ``unit_level_reason`` grants unit-level data: the habilitation's frozen scope
    carries the grant and its reason (flows then lift the enterprise rules and the population
    checks for it). This is the only place that sets it.
    """
    row = workflow.transition(user, req, "accepter" if approve else "refuser")
    reason = reason.strip()
    unit_level_reason = unit_level_reason.strip()
    if not approve and not reason:
        raise ValidationError("Un refus doit toujours être motivé.")
    if unit_level_reason and not approve:
        raise ValidationError("Les données unitaires ne s'accordent qu'avec une acceptation.")
    session = req.session
    assert session is not None
    today = timezone.localdate()
    if today < session.date:
        raise ValidationError(
            f"La décision ne peut pas être enregistrée avant la séance du {session.date:%d/%m/%Y}."
        )
    instructed_by_chair = req.instructor_id == user.pk
    counts = tally(req, exclude=user if instructed_by_chair else None)
    cast = sum(counts.values())
    quorum = max(session.quorum, settings.COMITE_MIN_QUORUM)
    if cast < quorum:
        raise ValidationError(
            f"Quorum non atteint : {cast} vote(s) sur {quorum} requis"
            + (
                " (hors votre propre vote, puisque vous avez instruit la demande)."
                if instructed_by_chair
                else "."
            )
        )
    follows = majority(counts)
    contrary = follows is None or follows != approve
    if contrary and instructed_by_chair:
        raise PermissionDenied(
            "Vous avez instruit cette demande : votre décision doit suivre la majorité des autres membres."
        )
    if contrary and not override:
        raise ValidationError(
            "Cette décision ne suit pas la majorité des votes exprimés"
            f" ({counts[VoteChoice.FAVOURABLE]} favorable(s), "
            f"{counts[VoteChoice.UNFAVOURABLE]} défavorable(s)) : cochez « décision contraire à la "
            "majorité » et motivez-la."
        )
    if contrary and not reason:
        raise ValidationError("Une décision contraire à la majorité des votes doit être motivée.")
    if approve:
        start = start or today
        check_habilitation_dates(start, None, today)  # before any date arithmetic on it
        end = end or start + timedelta(days=365)
        check_habilitation_dates(start, end, today)
    old = workflow.fire(row, req)
    req.decision_reason = reason
    req.decision_override = contrary
    req.decision_votes = dict(counts)
    req.decided_at = timezone.now()
    req.decided_by = user
    if req.first_response_at is None:
        req.first_response_at = req.decided_at
    req.save()
    record(
        user,
        row.event,
        req,
        {
            "etat": [old, req.state],
            "motif": reason,
            "votes": counts,
            "majorite": {True: "favorable", False: "defavorable", None: "partage"}[follows],
            "contraire_a_la_majorite": contrary,
            **unit_level_grant(unit_level_reason),
        },
    )
    summary = decision_summary(req)
    hab = None
    if approve:
        assert start is not None and end is not None
        hab = Habilitation.objects.create(
            request=req,
            organisation=req.organisation,
            scope={**req.scope(), **unit_level_grant(unit_level_reason)},
            start_date=start,
            end_date=end,
        )
        record(
            user,
            "habilitation_creee",
            hab,
            {
                "debut": start.isoformat(),
                "fin": end.isoformat(),
                **unit_level_grant(unit_level_reason),
            },
            req,
        )
        body = (
            f"Votre demande « {req.title} » est acceptée.\n{summary}\n"
            f"Habilitation {hab.reference} du {start:%d/%m/%Y} au {end:%d/%m/%Y}.\n"
            + (
                f"Données unitaires accordées. Motif : {unit_level_reason}\n"
                if unit_level_reason
                else ""
            )
            + f"\n{request_link(req)}\n"
        )
        notify(audience_emails(req, row), f"{req.reference} acceptée", body)
    else:
        notify(
            audience_emails(req, row),
            f"{req.reference} refusée",
            f"Votre demande « {req.title} » est refusée.\n{summary}\nMotif : {reason}\n\n"
            f"{request_link(req)}\n",
        )
    return hab


def unit_level_grant(reason: str) -> dict[str, Any]:
    """The keys a grant of unit-level data adds to a frozen scope (none without a reason)."""
    if not reason:
        return {}
    return {flow_ledger.UNIT_LEVEL: True, flow_ledger.UNIT_LEVEL_REASON: reason}


def decision_votes(req: AccessRequest) -> dict[Any, int]:
    # Decisions taken before the votes were stored with them read the votes still on record.
    return req.decision_votes or tally(req)


def against_majority(req: AccessRequest) -> bool:
    """Whether the decision did not follow the majority of expressed votes."""
    return req.decision_override or majority(decision_votes(req)) != (req.state == State.APPROVED)


def decision_summary(req: AccessRequest) -> str:
    """What the requester reads about a decision: the comité's votes and any override."""
    counts = decision_votes(req)
    approved = req.state == State.APPROVED
    contrary = against_majority(req)
    line = (
        f"Votes du comité des usages : {counts.get(VoteChoice.FAVOURABLE, 0)} favorable(s), "
        f"{counts.get(VoteChoice.UNFAVOURABLE, 0)} défavorable(s), "
        f"{counts.get(VoteChoice.ABSTAIN, 0)} abstention(s)."
    )
    verb = "acceptée" if approved else "refusée"
    if contrary:
        line += (
            f"\nLa présidence du comité a {verb} la demande sans suivre la majorité des votes"
            f" exprimés. Motif : {req.decision_reason}"
        )
    elif approved:
        line += "\nLe comité des usages a rendu un avis favorable à la majorité des votes exprimés."
    else:
        line += (
            "\nLe comité des usages a rendu un avis défavorable à la majorité des votes exprimés."
        )
    return line


@transaction.atomic
def create_session(user: User, title: str, day: date, quorum: int) -> ComiteSession:
    _require(user.is_authenticated and user.role in (Role.INSTRUCTOR, Role.CHAIR, Role.ADMIN))
    if quorum < settings.COMITE_MIN_QUORUM:
        raise ValidationError(f"Le quorum doit être d'au moins {settings.COMITE_MIN_QUORUM} votes.")
    s = ComiteSession.objects.create(title=title, date=day, quorum=quorum)
    record(user, "seance_creee", s, {"titre": title, "date": day.isoformat(), "quorum": quorum})
    return s


@transaction.atomic
def close_session(user: User, session: ComiteSession, minutes: str) -> ComiteSession:
    _require(user.is_authenticated and user.role == Role.CHAIR)
    if session.status != SessionStatus.PLANNED:
        raise ValidationError("Séance déjà close.")
    if session.agenda.filter(state=State.IN_REVIEW).exists():
        raise ValidationError("Des demandes de l'ordre du jour attendent encore une décision.")
    if not minutes.strip():
        raise ValidationError("Le procès-verbal est obligatoire.")
    session.status = SessionStatus.CLOSED
    session.minutes = minutes.strip()
    session.save()
    record(user, "seance_close", session, {"proces_verbal": minutes})
    return session


@transaction.atomic
def revoke(user: User, hab: Habilitation, reason: str) -> Habilitation:
    _require(user.is_authenticated and user.role in (Role.INSTRUCTOR, Role.CHAIR, Role.ADMIN))
    if hab.status != HabilitationStatus.ACTIVE:
        raise ValidationError("Seule une habilitation active peut être révoquée.")
    if not reason.strip():
        raise ValidationError("Une révocation doit être motivée.")
    hab.status = HabilitationStatus.REVOKED
    hab.revoked_at = timezone.now()
    hab.revocation_reason = reason.strip()
    hab.save()
    record(user, "habilitation_revoquee", hab, {"motif": reason}, hab.request)
    notify(
        requester_emails(hab.request),
        f"Habilitation {hab.reference} révoquée",
        f"L'habilitation {hab.reference} a été révoquée.\nMotif : {reason}\n",
    )
    return hab


@transaction.atomic
def renew(user: User, hab: Habilitation, end: date) -> Habilitation:
    """Renew a habilitation: the current one keeps serving until its end date, the renewal
    starts the day after (today if the current one has already ended)."""
    _require(user.is_authenticated and user.role in (Role.INSTRUCTOR, Role.CHAIR, Role.ADMIN))
    if hab.status != HabilitationStatus.ACTIVE:
        raise ValidationError("Seule une habilitation active peut être renouvelée.")
    if Habilitation.objects.filter(previous=hab).exists():
        raise ValidationError("Cette habilitation a déjà été renouvelée.")
    today = timezone.localdate()
    start = max(hab.end_date + timedelta(days=1), today)
    if end <= start:
        raise ValidationError(
            f"La nouvelle date de fin doit suivre le début du renouvellement ({start:%d/%m/%Y})."
        )
    years = settings.HABILITATION_MAX_YEARS
    if end > add_years(start, years):
        raise ValidationError(f"Une habilitation dure au plus {years} ans.")
    new = Habilitation.objects.create(
        request=hab.request,
        organisation=hab.organisation,
        scope=hab.scope,
        start_date=start,
        end_date=end,
        previous=hab,
    )
    record(
        user,
        "habilitation_renouvelee",
        new,
        {"precedente": hab.reference, "debut": start.isoformat(), "fin": end.isoformat()},
        hab.request,
    )
    notify(
        requester_emails(hab.request),
        f"Habilitation {hab.reference} renouvelée",
        f"L'habilitation {hab.reference} reste valable jusqu'au {hab.end_date:%d/%m/%Y}.\n"
        f"Nouvelle habilitation {new.reference} du {start:%d/%m/%Y} au {end:%d/%m/%Y}.\n",
    )
    return new


# --- Organisation membership -------------------------------------------------------------------


def pending_members(user: User) -> QuerySet[User]:
    """Accounts awaiting confirmation that ``user`` may confirm."""
    qs = User.objects.filter(
        role=Role.REQUESTER,
        organisation__isnull=False,
        organisation_confirmed=False,
        email_verified=True,
        is_active=True,
    ).select_related("organisation")
    if not user.is_authenticated:
        return qs.none()
    if user.role in (Role.INSTRUCTOR, Role.ADMIN):
        return qs
    if user.role == Role.REQUESTER and user.organisation_confirmed and user.organisation_id:
        return qs.filter(organisation_id=user.organisation_id)
    return qs.none()


def _confirm(member: User, how: Any, by: User | None) -> None:
    member.organisation_confirmed = True
    member.organisation_verification = how
    member.organisation_verified_by = by
    member.save(
        update_fields=[
            "organisation_confirmed",
            "organisation_verification",
            "organisation_verified_by",
        ]
    )
    assert member.organisation is not None
    record(
        by,
        "rattachement_confirme",
        member,
        {"membre": member.email, "organisation": member.organisation.siret, "par": how},
    )


@transaction.atomic
def confirm_membership(user: User, member: User) -> User:
    """A verified member of the same organisation, or an instructor, confirms an account."""
    _require(pending_members(user).filter(pk=member.pk).exists())
    how = {
        Role.INSTRUCTOR: MembershipVerification.INSTRUCTOR,
        Role.ADMIN: MembershipVerification.ADMIN,
    }.get(Role(user.role), MembershipVerification.MEMBER)
    _confirm(member, how, user)
    assert member.organisation is not None
    notify(
        [member.email],
        "Rattachement confirmé",
        f"Votre rattachement à {member.organisation.name} est confirmé : vous pouvez déposer des "
        "demandes en son nom.\n",
    )
    return member


def confirm_by_domain(member: User) -> bool:
    """After its address is verified, an account of a declared domain joins its organisation."""
    org = member.organisation
    if (
        org is None
        or member.organisation_confirmed
        or not member.email_verified
        or not org.owns_address(member.email)
    ):
        return False
    _confirm(member, MembershipVerification.DOMAIN, None)
    return True


# --- Reminders ---------------------------------------------------------------------------------


def send_reminders(now: Any = None, warn_days: int = 5) -> list[AccessRequest]:
    """E-mail the instructors about open requests due within ``warn_days`` or overdue (once a day)."""
    now = now or timezone.now()
    due: list[AccessRequest] = []
    for req in AccessRequest.objects.filter(state__in=OPEN_STATES).filter(
        Q(reminded_at__isnull=True) | Q(reminded_at__lt=now - timedelta(hours=20))
    ):
        left = req.clock_days_left(now)
        if left is not None and left <= warn_days:
            due.append(req)
    if not due:
        return due
    lines = []
    for r in due:
        left = r.clock_days_left(now) or 0
        when = f"en retard de {-left} jour(s)" if left < 0 else f"échéance dans {left} jour(s)"
        lines.append(
            f"- {r.reference} « {r.title} » ({r.organisation.name}) : {when} — {request_link(r)}"
        )
    recipients = set(role_emails(Role.INSTRUCTOR))
    recipients |= {r.instructor.email for r in due if r.instructor}
    notify(recipients, f"{len(due)} demande(s) à traiter sous 30 jours", "\n".join(lines) + "\n")
    AccessRequest.objects.filter(pk__in=[r.pk for r in due]).update(reminded_at=now)
    for r in due:
        record(None, "relance", r, {"jours_restants": r.clock_days_left(now)})
    return due


def remind_expiring_habilitations(
    today: date | None = None, thresholds: Iterable[int] | None = None
) -> list[tuple[Habilitation, int]]:
    """E-mail the organisation, its data controller and DPO once per threshold (days before the
    end) of each active habilitation that no renewal follows.

    Each (habilitation, threshold) is claimed by a conditional UPDATE before the e-mail goes out,
    so that two runs, even concurrent ones, never send the same reminder twice; a run that
    missed a threshold sends only the nearest one."""
    today = today or timezone.localdate()
    days = sorted({int(d) for d in (thresholds or settings.HABILITATION_REMINDER_DAYS) if d > 0})
    if not days:
        return []
    sent: list[tuple[Habilitation, int]] = []
    candidates = (
        Habilitation.objects.filter(
            status=HabilitationStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + timedelta(days=days[-1]),
            renewal__isnull=True,
        )
        .select_related("request", "organisation")
        .order_by("end_date", "pk")
    )
    for hab in candidates:
        left = (hab.end_date - today).days
        threshold = min(d for d in days if d >= left)
        claimed = (
            Habilitation.objects.filter(pk=hab.pk)
            .filter(Q(expiry_reminded_days__isnull=True) | Q(expiry_reminded_days__gt=threshold))
            .update(expiry_reminded_days=threshold)
        )
        if not claimed:
            continue
        req = hab.request
        record(
            None,
            "rappel_echeance_habilitation",
            hab,
            {"fin": hab.end_date.isoformat(), "jours_restants": left, "seuil": threshold},
            req,
        )
        notify(
            [*requester_emails(req), req.controller_email, req.dpo_email],
            f"Habilitation {hab.reference} : fin le {hab.end_date:%d/%m/%Y}",
            f"L'habilitation {hab.reference} de {hab.organisation.name} (demande {req.reference} "
            f"« {req.title} ») prend fin le {hab.end_date:%d/%m/%Y}, dans {left} jour(s). "
            "Après cette date, plus aucune livraison n'est faite et les fichiers livrés sont "
            "effacés.\n\nPour continuer, demandez son renouvellement à l'équipe DataDSN en "
            f"répondant sur la demande : {request_link(req)}#messages\n",
        )
        sent.append((hab, threshold))
    return sent
