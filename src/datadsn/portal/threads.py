"""Messages between the instructors and the requesters on a request.

A message does not change the request's state, so it stays outside the workflow table; like a
transition it is checked against the request's visibility, journalled and e-mailed to the other
side. The journal keeps a SHA-256 digest of the text rather than the text itself: the journal is
read by roles that may not see every request, and the chained digest still proves what was said.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from . import services
from .models import AccessRequest, Message, Role, State, User

MAX_LENGTH = 5000
# Who writes in a thread; other roles who see the request (comité) read it.
WRITERS = (Role.REQUESTER, Role.INSTRUCTOR)


def visible_messages(user: User, req: AccessRequest) -> QuerySet[Message]:
    if not services.is_visible(user, req):
        return Message.objects.none()
    return req.messages.select_related("author")


def can_write(user: User, req: AccessRequest) -> bool:
    """Drafts are the requester's own: the thread opens once the request is filed."""
    return (
        user.is_authenticated
        and user.role in WRITERS
        and req.state != State.DRAFT
        and services.is_visible(user, req)
    )


def _instructor_emails(req: AccessRequest) -> list[str]:
    """The request's instructor once one has taken it up, otherwise every instructor."""
    if req.instructor is not None and req.instructor.is_active:
        return [req.instructor.email]
    return services.role_emails(Role.INSTRUCTOR)


@transaction.atomic
def post(user: User, req: AccessRequest, body: str) -> Message:
    if not can_write(user, req):
        raise PermissionDenied("Vous ne pouvez pas écrire sur cette demande.")
    body = body.strip()
    if not body:
        raise ValidationError("Le message est vide.")
    if len(body) > MAX_LENGTH:
        raise ValidationError(f"Un message compte au plus {MAX_LENGTH} caractères.")
    msg = Message.objects.create(request=req, author=user, body=body)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    services.record(user, "message", msg, {"message": msg.pk, "empreinte": digest}, req)
    if user.role == Role.REQUESTER:
        to = _instructor_emails(req)
        subject = f"Message du demandeur sur {req.reference}"
    else:
        to = services.requester_emails(req)
        subject = f"Message de l'équipe DataDSN sur {req.reference}"
    services.notify(
        to,
        subject,
        f"{user.display()} a écrit sur la demande « {req.title} » :\n\n{body}\n\n"
        f"Répondre : {services.request_link(req)}#messages\n",
    )
    return msg
