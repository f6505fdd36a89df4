"""The access-request workflow, declared once.

Each row of ``TRANSITIONS`` says, for one state and one action: who may fire it, the state it
leads to, the condition checked beyond role and state (``guard``, enforced by the service of the
same name in ``services``), the journal event it writes and who is notified. Services fire
transitions through ``fire`` only; views and templates ask ``actions`` which ones a user may
fire on a request; ``docs/portail.md`` prints the same table.

This follows the way etalab/data_pass declares its state machine (states, events and the
transitions between them in one place), written for this project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from .models import Role, State

# Who hears about a transition (see ``services.audience_emails``).
REQUESTERS = "demandeurs"  # the author and the verified members of the requesting organisation
INSTRUCTORS = "instructeurs"
COMITE = "comite"  # members and chair of the comité des usages
# The data controller and the DPO named on the request (they answer for the processing).
CONTROLLER = "responsables"


@dataclass(frozen=True)
class Transition:
    # State and Role members (str subclasses; typed Any, as the project runs mypy without the
    # Django plugin that knows TextChoices).
    source: Any
    action: str
    roles: tuple[Any, ...]
    target: Any
    label: str
    event: str
    guard: str = ""
    notify: tuple[str, ...] = ()


_OPEN = (State.SUBMITTED, State.RESUBMITTED)
_INSTRUCTOR = (Role.INSTRUCTOR,)
_COMITE = (Role.MEMBER, Role.CHAIR)
_SUBMIT_GUARD = (
    "demande complète (champs obligatoires, conditions générales acceptées) et rattachement "
    "du demandeur à son organisation vérifié"
)


def _rows() -> tuple[Transition, ...]:
    rows = [
        Transition(
            State.DRAFT,
            "deposer",
            (Role.REQUESTER,),
            State.SUBMITTED,
            "Déposer la demande",
            "depot",
            _SUBMIT_GUARD,
            (REQUESTERS, INSTRUCTORS),
        ),
        Transition(
            State.CHANGES_REQUESTED,
            "deposer",
            (Role.REQUESTER,),
            State.RESUBMITTED,
            "Déposer à nouveau",
            "nouveau_depot",
            _SUBMIT_GUARD + " ; le délai de 30 jours reprend",
            (REQUESTERS, INSTRUCTORS),
        ),
    ]
    for source in _OPEN:
        rows += [
            Transition(
                source,
                "orientation",
                _INSTRUCTOR,
                source,
                "Orienter et cadrer",
                "orientation",
                "orientation connue et cadrage rédigé",
                (REQUESTERS,),
            ),
            Transition(
                source,
                "modifications",
                _INSTRUCTOR,
                State.CHANGES_REQUESTED,
                "Demander des modifications",
                "modifications_demandees",
                "message au demandeur ; le délai de 30 jours est suspendu",
                (REQUESTERS,),
            ),
            Transition(
                source,
                "comite",
                _INSTRUCTOR,
                State.IN_REVIEW,
                "Inscrire au comité des usages",
                "inscription_comite",
                "séance prévue (non close)",
                (REQUESTERS, COMITE),
            ),
        ]
    rows += [
        Transition(
            State.IN_REVIEW,
            "vote",
            _COMITE,
            State.IN_REVIEW,
            "Voter",
            "vote",
            "un seul vote par membre, définitif ; un avis défavorable est motivé",
        ),
        Transition(
            State.IN_REVIEW,
            "accepter",
            (Role.CHAIR,),
            State.APPROVED,
            "Accepter",
            "decision",
            "séance passée ou du jour, quorum atteint, majorité suivie ou décision contraire "
            "motivée ; crée l'habilitation",
            (REQUESTERS, CONTROLLER),
        ),
        Transition(
            State.IN_REVIEW,
            "refuser",
            (Role.CHAIR,),
            State.REFUSED,
            "Refuser",
            "decision",
            "séance passée ou du jour, quorum atteint, motif obligatoire",
            (REQUESTERS, CONTROLLER),
        ),
    ]
    for source in (State.DRAFT, State.SUBMITTED, State.CHANGES_REQUESTED, State.RESUBMITTED):
        rows.append(
            Transition(
                source,
                "retirer",
                (Role.REQUESTER,),
                State.WITHDRAWN,
                "Retirer la demande",
                "retrait",
                "demande de son organisation, pas encore inscrite au comité",
                () if source == State.DRAFT else (REQUESTERS, INSTRUCTORS),
            )
        )
    return tuple(rows)


TRANSITIONS: tuple[Transition, ...] = _rows()
_BY_KEY = {(t.source, t.action): t for t in TRANSITIONS}
ACTIONS = {t.action for t in TRANSITIONS}

# Called with (transition, request) each time a transition is fired (the tests collect them).
observers: list[Callable[[Transition, Any], None]] = []


def transition(user: Any, req: Any, action: str) -> Transition:
    """The row ``user`` may fire on ``req`` for ``action``; PermissionDenied for a role that never
    may, ValidationError for a state that does not allow it."""
    if action not in ACTIONS:
        raise ValidationError(f"Action inconnue : {action}.")
    role = getattr(user, "role", None) if user.is_authenticated else None
    if not any(role in t.roles for t in TRANSITIONS if t.action == action):
        raise PermissionDenied("Action non autorisée.")
    row = _BY_KEY.get((req.state, action))
    if row is None:
        raise ValidationError(f"Action impossible dans l'état « {req.get_state_display()} ».")
    if role not in row.roles:
        raise PermissionDenied("Action non autorisée.")
    return row


def fire(row: Transition, req: Any) -> str:
    """Move ``req`` along ``row`` (the caller saves it); returns the previous state."""
    if req.state != row.source:
        raise ValidationError(f"Action impossible dans l'état « {req.get_state_display()} ».")
    old = req.state
    req.state = row.target
    for observer in observers:
        observer(row, req)
    return str(old)


def actions(user: Any, req: Any) -> dict[str, Transition]:
    """The actions ``user``'s role may fire on ``req`` in its state (object visibility and guards
    are checked by the services)."""
    if not user.is_authenticated:
        return {}
    return {t.action: t for t in TRANSITIONS if t.source == req.state and user.role in t.roles}


def state_label(value: str) -> str:
    return str(State(value).label)


def role_label(value: str) -> str:
    return str(Role(value).label)


_AUDIENCE_LABELS = {
    REQUESTERS: "demandeurs de l'organisation",
    INSTRUCTORS: "instructeurs",
    COMITE: "comité",
    CONTROLLER: "responsable de traitement et DPO de la demande",
}


def markdown_table() -> str:
    """The table as ``docs/portail.md`` prints it (a test keeps the two identical)."""
    lines = [
        "| État | Action | Rôles | État suivant | Condition | Notifiés |",
        "|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        roles = ", ".join(role_label(r) for r in t.roles)
        notified = ", ".join(_AUDIENCE_LABELS[a] for a in t.notify) or "—"
        lines.append(
            f"| {state_label(t.source)} | {t.label} | {roles} | {state_label(t.target)} "
            f"| {t.guard or '—'} | {notified} |"
        )
    return "\n".join(lines) + "\n"
