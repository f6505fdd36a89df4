"""Server-rendered DSFR pages. Every view checks the role and, for objects, their visibility."""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.views.decorators.http import require_POST

from . import published_views, services, stats, threads, workflow
from .catalogue import INDICATOR_NAMES, INDICATORS, dictionary
from .forms import (
    STEP_FORMS,
    STEPS,
    ChangePasswordForm,
    ChangesForm,
    DecisionForm,
    LoginForm,
    MessageForm,
    MinutesForm,
    NewPasswordForm,
    OrientationForm,
    PasswordForgottenForm,
    RegistrationForm,
    RenewForm,
    RevokeForm,
    ScheduleForm,
    SessionForm,
    VoteForm,
    WithdrawForm,
)
from .models import (
    AccessRequest,
    ActorType,
    ComiteSession,
    DataKind,
    Event,
    Organisation,
    PolicyDomain,
    Role,
    SessionStatus,
    State,
    UseCase,
    UseCaseStatus,
    User,
)

View = Callable[..., HttpResponse]


def roles_required(*roles: Any) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.role not in roles:
                raise PermissionDenied("Accès réservé.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


STAFF = (Role.INSTRUCTOR, Role.MEMBER, Role.CHAIR, Role.ADMIN)
ANY_ROLE = (Role.REQUESTER, *STAFF)


# --- Public pages ------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    cases = UseCase.objects.filter(published=True)[:3]
    return render(request, "portal/home.html", {"cases": cases, "stats": stats.cached()})


def usecase_list(request: HttpRequest) -> HttpResponse:
    qs = UseCase.objects.filter(published=True)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(summary__icontains=q)
            | Q(description__icontains=q)
            | Q(actor__icontains=q)
            | Q(data_used__icontains=q)
        )
    filters = {
        "actor_type": ("Acteur public", ActorType.choices),
        "policy_domain": ("Politique publique", PolicyDomain.choices),
        "data_kind": ("Données utilisées", DataKind.choices),
        "status": ("Statut", UseCaseStatus.choices),
    }
    selected = {}
    for name, (_, choices) in filters.items():
        value = request.GET.get(name, "")
        if value in dict(choices):
            qs = qs.filter(**{name: value})
            selected[name] = value
    legal = request.GET.get("base_legale", "").strip()
    if legal:
        qs = qs.filter(legal_basis__icontains=legal)
    ctx = {
        "cases": qs,
        "q": q,
        "legal": legal,
        "filters": [
            (name, label, choices, selected.get(name, ""))
            for name, (label, choices) in filters.items()
        ],
    }
    return render(request, "portal/usecase_list.html", ctx)


def usecase_detail(request: HttpRequest, slug: str) -> HttpResponse:
    case = get_object_or_404(UseCase, slug=slug, published=True)
    return render(request, "portal/usecase_detail.html", {"case": case})


def documentation(request: HttpRequest) -> HttpResponse:
    d = dictionary()
    return render(
        request,
        "portal/documentation.html",
        {
            "n_blocks": len(d["blocks"]),
            "n_rubriques": sum(len(v) for v in d["rubriques"].values()),
            "version": d["version"],
        },
    )


def dictionary_index(request: HttpRequest) -> HttpResponse:
    d = dictionary()
    q = request.GET.get("q", "").strip().lower()
    hits = []
    if q:
        for rubs in d["rubriques"].values():
            hits += [r for r in rubs if q in r.name.lower() or q in r.id.lower() or q in r.column]
    return render(
        request,
        "portal/dictionary.html",
        {
            "blocks": d["blocks"],
            "counts": {k: len(v) for k, v in d["rubriques"].items()},
            "q": q,
            "hits": hits[:200],
            "version": d["version"],
        },
    )


def dictionary_block(request: HttpRequest, block_id: str) -> HttpResponse:
    d = dictionary()
    block = d["by_id"].get(block_id)
    if block is None:
        raise Http404("Bloc inconnu")
    return render(
        request,
        "portal/dictionary_block.html",
        {
            "bloc": block,  # not "block": inside {% block %} that name is the template block
            "rubriques": d["rubriques"].get(block_id, []),
            "parent": d["by_id"].get(block.parent or ""),
            "children": d["children"][block_id],
            "version": d["version"],
        },
    )


def indicators(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/indicators.html", {"indicators": INDICATORS})


def cgu(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/cgu.html", {"max_years": settings.HABILITATION_MAX_YEARS})


def api_documentation(request: HttpRequest) -> HttpResponse:
    from .api import api

    schema = api.get_openapi_schema()
    endpoints = []
    for path_, operations in schema["paths"].items():
        for method, op in operations.items():
            endpoints.append(
                {
                    "method": method.upper(),
                    "path": path_,
                    "summary": op.get("summary", ""),
                    "auth": bool(op.get("security")),
                }
            )
    return render(request, "portal/api_doc.html", {"endpoints": endpoints})


def statistics(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/statistics.html", {"stats": stats.cached()})


# --- Accounts ----------------------------------------------------------------------------------


class EmailTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "datadsn.portal.email-verification"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.is_active}{user.email_verified}{timestamp}"


email_tokens = EmailTokenGenerator()


def verification_link(user: User) -> str:
    from django.conf import settings

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return settings.SITE_URL + reverse(
        "portal:verify_email", args=[uid, email_tokens.make_token(user)]
    )


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        existing = User.objects.filter(email__iexact=data["email"]).first()
        if existing is not None:
            return _registration_with_existing_email(request, existing, data)
        with transaction.atomic():
            org = Organisation.objects.filter(siret=data["siret"]).first()
            joined_existing = org is not None
            if org is None:
                org = Organisation.objects.create(
                    siret=data["siret"],
                    name=data["organisation_name"],
                    actor_type=data["actor_type"],
                )
            user = User(
                username=data["email"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=Role.REQUESTER,
                organisation=org,
                # No SIRET is owned by registering first: see services.confirm_by_domain and
                # services.confirm_membership.
                organisation_confirmed=False,
                is_active=False,
            )
            user.set_password(data["password"])
            user.save()
            services.record(
                user,
                "inscription",
                user,
                {"organisation": org.siret, "rattachement_existant": joined_existing},
            )
        services.notify(
            [user.email],
            "Confirmez votre adresse électronique",
            "Bonjour,\n\nPour activer votre compte DataDSN, ouvrez ce lien :\n"
            f"{verification_link(user)}\n\nSi vous n'êtes pas à l'origine de cette inscription, ignorez ce message.\n",
        )
        return render(
            request,
            "portal/register_done.html",
            {"email": user.email},
        )
    return render(
        request,
        "portal/form_page.html",
        {
            "form": form,
            "title": "Créer un compte",
            "submit": "Créer mon compte",
            "intro": "Le compte est rattaché à l'organisation publique qui demande l'accès aux données.",
        },
    )


def _registration_with_existing_email(
    request: HttpRequest, existing: User, data: dict[str, Any]
) -> HttpResponse:
    """Answer exactly as for a new account, and tell the address's owner by e-mail instead."""
    make_password(data["password"])  # same work as a real registration: no timing hint
    services.record(None, "inscription_adresse_existante", existing)
    services.notify(
        [existing.email],
        "Tentative d'inscription avec votre adresse",
        "Bonjour,\n\nUne inscription au portail DataDSN vient d'être demandée avec votre adresse, "
        "qui a déjà un compte. Si c'est vous, connectez-vous : "
        f"{settings.SITE_URL}{reverse('portal:login')}\n\n"
        "Sinon, ignorez ce message : aucun compte n'a été créé.\n",
    )
    return render(request, "portal/register_done.html", {"email": data["email"]})


def verify_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not email_tokens.check_token(user, token):
        return render(request, "portal/verify_failed.html", status=400)
    user.is_active = True
    user.email_verified = True
    user.save(update_fields=["is_active", "email_verified"])
    services.record(user, "adresse_verifiee", user)
    if services.confirm_by_domain(user):
        messages.success(
            request,
            "Votre adresse est vérifiée et appartient à un domaine déclaré par votre "
            "organisation : votre rattachement est confirmé. Vous pouvez vous connecter.",
        )
    else:
        messages.success(request, "Votre adresse est vérifiée. Vous pouvez vous connecter.")
    return redirect("portal:login")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True


# --- Passwords: Django's views, French pages, e-mails through the configured backend ----------


class PasswordForgottenView(auth_views.PasswordResetView):
    form_class = PasswordForgottenForm
    template_name = "portal/form_page.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")
    extra_context = {
        "title": "Mot de passe oublié",
        "intro": "Indiquez l'adresse de votre compte : si elle en a un, vous recevrez un lien "
        "pour choisir un nouveau mot de passe, valable 3 jours.",
        "submit": "Recevoir le lien",
    }

    @property
    def extra_email_context(self) -> dict[str, Any]:
        # The link in the e-mail uses the configured public address, never the request's Host.
        return {"site_url": settings.SITE_URL}


class PasswordForgottenDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/account_message.html"
    extra_context = {
        "title": "Vérifiez votre messagerie",
        "message": "Si cette adresse correspond à un compte actif, un lien pour choisir un "
        "nouveau mot de passe vient de lui être envoyé.",
    }


class NewPasswordView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.record(form.user, "mot_de_passe_reinitialise", form.user)
        return response


class NewPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "portal/account_message.html"
    extra_context = {
        "title": "Mot de passe modifié",
        "message": "Votre nouveau mot de passe est enregistré ; les autres sessions ouvertes "
        "sont fermées. Vous pouvez vous connecter.",
        "login_link": True,
    }


class ChangePasswordView(auth_views.PasswordChangeView):
    form_class = ChangePasswordForm
    template_name = "portal/form_page.html"
    success_url = reverse_lazy("portal:password_change_done")
    extra_context = {"title": "Changer de mot de passe", "submit": "Changer le mot de passe"}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        services.record(user, "mot_de_passe_modifie", user)
        services.notify(
            [user.email],
            "Mot de passe modifié",
            "Bonjour,\n\nLe mot de passe de votre compte DataDSN vient d'être modifié. Si vous "
            "n'êtes pas à l'origine de ce changement, réinitialisez-le : "
            f"{settings.SITE_URL}{reverse('portal:password_reset')}\n",
        )
        return response


class ChangePasswordDoneView(auth_views.PasswordChangeDoneView):
    template_name = "portal/account_message.html"
    extra_context = {
        "title": "Mot de passe modifié",
        "message": "Votre nouveau mot de passe est enregistré ; un courriel vous le confirme.",
    }


@login_required
def api_token(request: HttpRequest) -> HttpResponse:
    """Create, list and revoke one's API tokens (the clear key is shown once, at creation)."""
    from .models import ApiToken

    user: User = request.user
    key = None
    if request.method == "POST":
        if request.POST.get("op") == "revoquer":
            token = get_object_or_404(
                ApiToken, pk=request.POST.get("token", "0") or 0, user=user, revoked_at=None
            )
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            services.record(user, "jeton_api_revoque", token)
            messages.success(request, "Jeton révoqué.")
            return redirect("portal:api_token")
        key = ApiToken.issue(user, request.POST.get("name", "").strip()[:100])
        services.record(user, "jeton_api_cree", user)
    return render(
        request,
        "portal/api_token.html",
        {"key": key, "tokens": user.api_tokens.all(), "days": settings.API_TOKEN_DAYS},
    )


@roles_required(Role.REQUESTER, Role.INSTRUCTOR, Role.ADMIN)
def memberships(request: HttpRequest) -> HttpResponse:
    """Accounts waiting to be confirmed as members of their organisation."""
    user: User = request.user
    pending = services.pending_members(user)
    if request.method == "POST":
        member = get_object_or_404(pending, pk=request.POST.get("membre", "0") or 0)
        services.confirm_membership(user, member)
        messages.success(request, f"Rattachement de {member.email} confirmé.")
        return redirect("portal:memberships")
    return render(request, "portal/memberships.html", {"pending": pending})


# --- Dashboards --------------------------------------------------------------------------------


@roles_required(*ANY_ROLE)
def dashboard(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    reqs = services.visible_requests(user)
    ctx: dict[str, Any] = {"role": user.get_role_display()}
    if user.role == Role.REQUESTER:
        ctx["requests"] = reqs
        ctx["habilitations"] = services.visible_habilitations(user)
    elif user.role in (Role.INSTRUCTOR, Role.ADMIN):
        ctx["to_instruct"] = reqs.filter(state__in=[State.SUBMITTED, State.RESUBMITTED]).order_by(
            "submitted_at"
        )
        ctx["waiting"] = reqs.filter(state=State.CHANGES_REQUESTED)
        ctx["in_review"] = reqs.filter(state=State.IN_REVIEW)
    else:
        ctx["in_review"] = reqs.filter(state=State.IN_REVIEW)
        ctx["my_votes"] = {v.request_id: v for v in user.votes.all()}
        ctx["sessions"] = ComiteSession.objects.filter(status=SessionStatus.PLANNED)
    return render(request, "portal/dashboard.html", ctx)


# --- Access requests ---------------------------------------------------------------------------


@roles_required(*ANY_ROLE)
def request_list(request: HttpRequest) -> HttpResponse:
    reqs = services.visible_requests(request.user)
    state = request.GET.get("etat", "")
    if state in State.values:
        reqs = reqs.filter(state=state)
    page = Paginator(reqs, 30).get_page(request.GET.get("page"))
    return render(
        request, "portal/request_list.html", {"page": page, "states": State.choices, "state": state}
    )


def _step_context(req: AccessRequest | None, n: int, form: Any) -> dict[str, Any]:
    return {
        "req": req,
        "form": form,
        "step": n,
        "steps": STEPS,
        "step_title": dict(STEPS)[n],
        "next_title": dict(STEPS).get(n + 1),
        "total": len(STEPS),
    }


@roles_required(Role.REQUESTER)
def request_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    if user.organisation_id is None:
        raise PermissionDenied("Compte sans organisation.")
    form = STEP_FORMS[1](
        request.POST or None, initial={"controller_email": "", "tech_name": user.display()}
    )
    if request.method == "POST" and form.is_valid():
        req = services.create_draft(user)
        services.save_step(user, req, form.cleaned_data, 1)
        messages.success(request, f"Brouillon {req.reference} enregistré.")
        return redirect("portal:request_step", pk=req.pk, n=2)
    ctx = _step_context(None, 1, form)
    ctx["organisation"] = user.organisation
    ctx.update(published_views.orientation(request.GET))
    return render(request, "portal/request_step.html", ctx)


@roles_required(Role.REQUESTER)
def request_step(request: HttpRequest, pk: int, n: int) -> HttpResponse:
    user: User = request.user
    req = get_object_or_404(services.visible_requests(user), pk=pk)
    if not services.can_edit(user, req):
        raise PermissionDenied("Cette demande n'est plus modifiable.")
    if n not in STEP_FORMS:
        raise Http404
    form_class = STEP_FORMS[n]
    if n == len(STEPS):
        form = form_class(request.POST or None, initial={"cgu": bool(req.cgu_accepted_at)})
    else:
        # The form works on its own copy: a ModelForm writes into its instance while validating,
        # and the service needs the stored values to record what changed.
        form = form_class(
            request.POST or None,
            request.FILES or None,
            instance=AccessRequest.objects.get(pk=req.pk),
        )
    if request.method == "POST" and form.is_valid():
        if n == len(STEPS):
            services.save_step(
                user, req, {"cgu_accepted_at": req.cgu_accepted_at or timezone.now()}, n
            )
            try:
                services.submit(user, req)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("portal:request_step", pk=req.pk, n=n)
            messages.success(
                request,
                f"Demande {req.reference} déposée. Un accusé de réception vous a été envoyé.",
            )
            return redirect("portal:request_detail", pk=req.pk)
        changed = {f: form.cleaned_data[f] for f in form.cleaned_data}
        if "legal_basis_pdf" in changed and changed["legal_basis_pdf"] in (None, ""):
            changed.pop("legal_basis_pdf")  # no new upload: keep the stored file
        if changed.get("legal_basis_pdf") is False:
            changed["legal_basis_pdf"] = ""
        services.save_step(user, req, changed, n)
        if "save" in request.POST:
            messages.success(request, "Brouillon enregistré.")
            return redirect("portal:request_step", pk=req.pk, n=n)
        return redirect("portal:request_step", pk=req.pk, n=n + 1)
    ctx = _step_context(req, n, form)
    ctx["organisation"] = req.organisation
    if n == len(STEPS):
        ctx["missing"] = [m for m in services.missing_fields(req) if "conditions" not in m]
        ctx["indicator_names"] = [INDICATOR_NAMES.get(c, c) for c in req.indicators]
    return render(request, "portal/request_step.html", ctx)


@roles_required(*ANY_ROLE)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    req = services.visible_request(user, pk)
    events = req.events.select_related("actor")
    if user.role == Role.REQUESTER:
        events = events.exclude(action__startswith="vote")
    # What this user may do here comes from the workflow table (services check the guards).
    actions = workflow.actions(user, req)
    show_votes = services.can_see_votes(user, req)
    ctx: dict[str, Any] = {
        "req": req,
        "actions": actions,
        "events": events,
        "can_edit": services.can_edit(user, req),
        "habilitations": req.habilitations.select_related("renewal"),
        "indicator_names": [INDICATOR_NAMES.get(c, c) for c in req.indicators],
        "show_votes": show_votes,
        "votes": req.votes.select_related("member") if show_votes else [],
        "submitter_status": req.created_by.membership_status(),
        "decided_against_majority": services.against_majority(req)
        if req.state in (State.APPROVED, State.REFUSED)
        else False,
        "decision_summary": services.decision_summary(req)
        if req.state in (State.APPROVED, State.REFUSED)
        else "",
    }
    ctx["thread"] = threads.visible_messages(user, req)
    if threads.can_write(user, req):
        ctx["message_form"] = MessageForm()
    if "modifications" in actions:
        ctx["changes_form"] = ChangesForm()
    if "comite" in actions:
        ctx["schedule_form"] = ScheduleForm()
    if "orientation" in actions:
        ctx["orientation_form"] = OrientationForm(
            initial={"orientation": req.orientation, "framing": req.framing}
        )
    if "vote" in actions:
        ctx["my_vote"] = req.votes.filter(member=user).first()
        if ctx["my_vote"] is None:
            ctx["vote_form"] = VoteForm()
    if "retirer" in actions:
        ctx["withdraw_form"] = WithdrawForm()
    if "accepter" in actions or "refuser" in actions:
        ctx["decision_form"] = DecisionForm()
        if show_votes:
            ctx["tally"] = services.tally(req)
    return render(request, "portal/request_detail.html", ctx)


# The form each action of the workflow table posts (the chair's one form decides either way).
ACTION_FORMS: dict[str, Any] = {
    "modifications": ChangesForm,
    "orientation": OrientationForm,
    "comite": ScheduleForm,
    "vote": VoteForm,
    "decision": DecisionForm,
    "retirer": WithdrawForm,
}


@require_POST
@roles_required(Role.REQUESTER, Role.INSTRUCTOR, Role.MEMBER, Role.CHAIR)
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: User = request.user
    req = get_object_or_404(services.visible_requests(user), pk=pk)
    forms_by_action = ACTION_FORMS
    if action not in forms_by_action:
        raise Http404
    form = forms_by_action[action](request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Formulaire incomplet : "
            + "; ".join(
                f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
                for f, e in form.errors.items()
            ),
        )
        return redirect("portal:request_detail", pk=pk)
    data = form.cleaned_data
    try:
        if action == "modifications":
            services.request_changes(user, req, data["message"])
            messages.success(request, "Modifications demandées au demandeur.")
        elif action == "orientation":
            services.orient(user, req, data["orientation"], data["framing"])
            messages.success(
                request, "Orientation et cadrage enregistrés ; le demandeur est prévenu."
            )
        elif action == "comite":
            services.schedule(user, req, data["session"])
            messages.success(request, "Demande inscrite à l'ordre du jour du comité.")
        elif action == "vote":
            services.vote(user, req, data["choice"], data["opinion"])
            messages.success(request, "Vote enregistré.")
        elif action == "retirer":
            services.withdraw(user, req, data["reason"])
            messages.success(request, f"Demande {req.reference} retirée.")
        else:
            hab = services.decide(
                user,
                req,
                data["decision"] == "accepter",
                data["reason"],
                data["start_date"],
                data["end_date"],
                override=data["override"],
                unit_level_reason=form.unit_level_grant(),
            )
            messages.success(
                request, f"Décision enregistrée{' : habilitation ' + hab.reference if hab else ''}."
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("portal:request_detail", pk=pk)


@require_POST
@roles_required(*threads.WRITERS)
def request_message(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    req = get_object_or_404(services.visible_requests(user), pk=pk)
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Message vide ou trop long (5 000 caractères au plus).")
    else:
        try:
            threads.post(user, req, form.cleaned_data["body"])
            messages.success(request, "Message envoyé.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(reverse("portal:request_detail", args=[pk]) + "#messages")


@roles_required(*ANY_ROLE)
def request_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_object_or_404(services.visible_requests(request.user), pk=pk)
    if not req.legal_basis_pdf:
        raise Http404
    return FileResponse(
        req.legal_basis_pdf.open("rb"),
        as_attachment=True,
        filename=f"{req.reference}-base-legale.pdf",
        content_type="application/pdf",
    )


# --- Comité ------------------------------------------------------------------------------------


@roles_required(*STAFF)
def session_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    form = SessionForm(request.POST or None)
    can_create = user.role in (Role.INSTRUCTOR, Role.CHAIR, Role.ADMIN)
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied
        if form.is_valid():
            s = services.create_session(
                user,
                form.cleaned_data["title"],
                form.cleaned_data["date"],
                form.cleaned_data["quorum"],
            )
            messages.success(request, "Séance créée.")
            return redirect("portal:session_detail", pk=s.pk)
    return render(
        request,
        "portal/session_list.html",
        {"sessions": ComiteSession.objects.all(), "form": form if can_create else None},
    )


@roles_required(*STAFF)
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(ComiteSession, pk=pk)
    user: User = request.user
    form = MinutesForm(request.POST or None)
    if request.method == "POST":
        if user.role != Role.CHAIR:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.close_session(user, session, form.cleaned_data["minutes"])
                messages.success(request, "Séance close, procès-verbal enregistré.")
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect("portal:session_detail", pk=pk)
    agenda = session.agenda.select_related("organisation").prefetch_related("votes")
    return render(
        request,
        "portal/session_detail.html",
        {
            "session": session,
            "agenda": agenda,
            "minutes_form": form
            if user.role == Role.CHAIR and session.status == SessionStatus.PLANNED
            else None,
        },
    )


# --- Habilitations -----------------------------------------------------------------------------


@roles_required(*ANY_ROLE)
def habilitation_list(request: HttpRequest) -> HttpResponse:
    habs = services.visible_habilitations(request.user)
    return render(request, "portal/habilitation_list.html", {"habilitations": habs})


def _date_fr(value: str | None) -> str:
    return "/".join(reversed(value.split("-"))) if value else ""


def scope_rows(scope: dict[str, Any]) -> list[tuple[str, str]]:
    """The perimeter frozen into a habilitation, as (label, text) rows for its page."""
    from .models import Frequency, Orientation

    ext = scope.get("extraction", {})
    start, end = _date_fr(ext.get("periode_debut")), _date_fr(ext.get("periode_fin"))
    period = " ".join(p for p in (f"du {start}" if start else "", f"au {end}" if end else "") if p)
    contacts = scope.get("contacts", {})

    def contact(key: str) -> str:
        return " ".join(x for x in contacts.get(key) or [] if x)

    rows = [
        ("Intitulé", scope.get("intitule", "")),
        ("Finalité", scope.get("finalite", "")),
        ("Politique publique", scope.get("politique_publique", "")),
        ("Base légale", scope.get("base_legale", "")),
        (
            "Indicateurs",
            ", ".join(INDICATOR_NAMES.get(c, c) for c in scope.get("indicateurs", [])),
        ),
        ("Population extraite", ext.get("population", "")),
        ("Variables et dimensions", ext.get("dimensions", "")),
        ("Territoire", ext.get("territoire", "")),
        ("Secteurs (NAF)", ", ".join(ext.get("naf", [])) or "tous"),
        ("Natures de contrat", ", ".join(ext.get("natures_contrat", [])) or "toutes"),
        ("Période", period or "sans limite"),
        (
            "Fréquence",
            str(Frequency(scope["frequence"]).label) if scope.get("frequence") else "",
        ),
        (
            "Orientation",
            str(Orientation(scope["orientation"]).label) if scope.get("orientation") else "",
        ),
        ("Cadrage", scope.get("cadrage", "")),
        (
            "Conservation",
            f"{scope['conservation_mois']} mois" if scope.get("conservation_mois") else "",
        ),
        ("Mesures de sécurité", scope.get("mesures_securite", "")),
        ("Données unitaires", unit_level_text(scope)),
        ("Responsable de traitement", contact("responsable_traitement")),
        ("Délégué à la protection des données", contact("dpo")),
        ("Contact technique", contact("technique")),
    ]
    return [(label, text or "—") for label, text in rows]


def unit_level_text(scope: dict[str, Any]) -> str:
    """Whether the comité granted unit-level data, and why."""
    from datadsn.flows.ledger import UNIT_LEVEL, UNIT_LEVEL_REASON

    if scope.get(UNIT_LEVEL) is True:
        return f"accordées par la décision du comité. Motif : {scope.get(UNIT_LEVEL_REASON, '')}"
    return "non accordées : secret statistique complet, entreprises comprises"


@roles_required(*ANY_ROLE)
def habilitation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    hab = get_object_or_404(services.visible_habilitations(user), pk=pk)
    can_manage = user.role in (Role.INSTRUCTOR, Role.CHAIR, Role.ADMIN)
    revoke_form = RevokeForm(request.POST if request.POST.get("op") == "revoquer" else None)
    renew_form = RenewForm(request.POST if request.POST.get("op") == "renouveler" else None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        try:
            if request.POST.get("op") == "revoquer" and revoke_form.is_valid():
                services.revoke(user, hab, revoke_form.cleaned_data["reason"])
                messages.success(request, "Habilitation révoquée.")
                return redirect("portal:habilitation_detail", pk=pk)
            if request.POST.get("op") == "renouveler" and renew_form.is_valid():
                new = services.renew(user, hab, renew_form.cleaned_data["end_date"])
                messages.success(request, f"Habilitation renouvelée : {new.reference}.")
                return redirect("portal:habilitation_detail", pk=new.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    from .deliveries import downloadable

    scope = hab.scope
    deliveries = hab.deliveries.all()
    downloads = (
        Event.objects.filter(action="telechargement", object_type="Delivery")
        .filter(object_id__in=[str(d.pk) for d in deliveries])
        .order_by("-at", "-pk")[:100]
    )
    return render(
        request,
        "portal/habilitation_detail.html",
        {
            "hab": hab,
            "scope": scope,
            "scope_rows": scope_rows(scope),
            "deliveries": deliveries,
            "can_download": set(
                downloadable(user).filter(habilitation=hab).values_list("pk", flat=True)
            ),
            "downloads": downloads,
            "can_manage": can_manage and hab.status == "active",
            "renewal": hab.__class__.objects.filter(previous=hab).first(),
            "revoke_form": revoke_form,
            "renew_form": renew_form,
        },
    )


# --- Audit -------------------------------------------------------------------------------------

AUDIT_ROLES = (Role.INSTRUCTOR, Role.CHAIR, Role.ADMIN)


@roles_required(*AUDIT_ROLES)
def audit_list(request: HttpRequest) -> HttpResponse:
    events = Event.objects.select_related("request").order_by("-at", "-pk")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    hidden = services.votes_hidden_from(request.user)
    for e in page.object_list:
        e.shown_changes = services.event_changes_for(request.user, e, hidden)
    return render(request, "portal/audit.html", {"page": page})


class _Echo:
    def write(self, value: str) -> str:
        return value


@roles_required(*AUDIT_ROLES)
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    import json

    writer = csv.writer(_Echo())

    hidden = services.votes_hidden_from(request.user)

    def rows() -> Any:
        yield "\ufeff" + writer.writerow(
            ["horodatage", "acteur", "action", "objet", "identifiant", "demande", "modifications"]
        )
        for e in Event.objects.order_by("at", "pk").iterator():
            yield writer.writerow(
                [
                    e.at.isoformat(),
                    e.actor_label,
                    e.action,
                    e.object_type,
                    e.object_id,
                    f"D{e.request_id}" if e.request_id else "",
                    json.dumps(
                        services.event_changes_for(request.user, e, hidden), ensure_ascii=False
                    ),
                ]
            )

    services.record(request.user, "export_journal", request.user)
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="journal-datadsn.csv"'
    return response
