"""Forms, rendered with the DSFR markup of django-dsfr."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    UsernameField,
)
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from .catalogue import INDICATOR_CHOICES
from .models import (
    RETENTION_JUSTIFY_ABOVE_MONTHS,
    AccessRequest,
    ActorType,
    ComiteSession,
    Organisation,
    Orientation,
    SessionStatus,
    User,
    VoteChoice,
    validate_siret,
)

DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)


class BoundedDateField(forms.DateField):
    """A date between 2000 and 2100: no date entered in a form can overflow date arithmetic."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not DATE_MIN <= value <= DATE_MAX:
            raise ValidationError(
                f"Saisissez une date entre le {DATE_MIN:%d/%m/%Y} et le {DATE_MAX:%d/%m/%Y}."
            )


class DsfrModelForm(DsfrBaseForm, forms.ModelForm):
    """A ModelForm with django-dsfr's field markup.

    Model fields are optional so that drafts can be saved, but each step asks for what the
    submission will require.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from .services import REQUIRED_FOR_SUBMISSION

        for name, field in self.fields.items():
            if name in REQUIRED_FOR_SUBMISSION:
                field.required = True


# --- Accounts ----------------------------------------------------------------------------------


class RegistrationForm(DsfrBaseForm):
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    email = forms.EmailField(label="Adresse électronique professionnelle")
    password = forms.CharField(
        label="Mot de passe",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Au moins 12 caractères, pas uniquement des chiffres.",
    )
    siret = forms.CharField(
        label="SIRET de votre organisation", max_length=14, help_text="14 chiffres, sans espace."
    )
    organisation_name = forms.CharField(label="Nom de l'organisation", max_length=200)
    actor_type = forms.ChoiceField(label="Type d'acteur public", choices=ActorType.choices)

    def clean_email(self) -> str:
        # Whether an account already uses the address is never told here (see views.register).
        return str(self.cleaned_data["email"]).strip().lower()

    def clean_siret(self) -> str:
        siret = self.cleaned_data["siret"].replace(" ", "")
        validate_siret(siret)
        return siret

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            candidate = User(
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(data["password"], candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class ThrottledLoginMixin:
    """Tell a locked account or address so, instead of « wrong password » (see ``throttle``)."""

    request: Any
    data: Any

    def clean(self) -> dict[str, Any]:
        from . import throttle

        if throttle.locked(self.request, self.data.get("username", "")):
            raise ValidationError(throttle.MESSAGE, code="throttled")
        return super().clean()  # type: ignore[misc]


class LoginForm(ThrottledLoginMixin, DsfrBaseForm, AuthenticationForm):
    """Portal login; the failures are counted by the authentication backend (``throttle``)."""

    error_messages = {
        "invalid_login": "Adresse électronique ou mot de passe incorrect, ou adresse non vérifiée.",
        "inactive": "Ce compte n'est pas encore activé : cliquez sur le lien reçu par courriel.",
    }

    username = UsernameField(
        label="Adresse électronique",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordForgottenForm(DsfrBaseForm, PasswordResetForm):
    """Django's reset form (same answer whether the address has an account or not)."""

    email = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class NewPasswordForm(DsfrBaseForm, SetPasswordForm):
    pass


class ChangePasswordForm(DsfrBaseForm, PasswordChangeForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin login, under the same limits as the portal's."""


# --- Access request steps ----------------------------------------------------------------------

STEPS = [
    (1, "Organisation et contacts"),
    (2, "Finalité et base légale"),
    (3, "Données demandées"),
    (4, "Conservation et sécurité"),
    (5, "Récapitulatif et engagement"),
]


class ContactsForm(DsfrModelForm):
    class Meta:
        model = AccessRequest
        fields = [
            "controller_name",
            "controller_email",
            "dpo_name",
            "dpo_email",
            "tech_name",
            "tech_email",
        ]


class PurposeForm(DsfrModelForm):
    class Meta:
        model = AccessRequest
        fields = [
            "title",
            "purpose",
            "policy_domain",
            "public_policy",
            "legal_basis_text",
            "legal_basis_pdf",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 4}),
            "public_policy": forms.Textarea(attrs={"rows": 3}),
            "legal_basis_text": forms.Textarea(attrs={"rows": 3}),
            "legal_basis_pdf": forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        }
        help_texts = {
            "purpose": "Ce que vous ferez des données et la décision publique qu'elles éclairent.",
            "legal_basis_text": "Article de loi ou de règlement qui fonde l'accès (ex. article L. 133-5-3 du "
            "code de la sécurité sociale).",
            "legal_basis_pdf": "Facultatif. Format PDF, 5 Mo au maximum.",
        }

    def clean_legal_basis_pdf(self) -> Any:
        f = self.cleaned_data.get("legal_basis_pdf")
        if not f or not hasattr(f, "read") or getattr(f, "_committed", False):
            return f
        if f.size > settings.LEGAL_PDF_MAX_BYTES:
            raise ValidationError("Le fichier dépasse 5 Mo.")
        if not f.name.lower().endswith(".pdf"):
            raise ValidationError("Seuls les fichiers PDF sont acceptés.")
        head = f.read(5)
        f.seek(0)
        if head != b"%PDF-":
            raise ValidationError("Ce fichier n'est pas un PDF valide.")
        return f


NAF_CODE = re.compile(r"^\d{2}(\.\d{1,2}[A-Z]?)?$")


class CodeListField(forms.CharField):
    """Codes separated by commas or spaces, stored as a list."""

    def __init__(self, *, pattern: re.Pattern[str], example: str, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.pattern, self.example = pattern, example

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def clean(self, value: Any) -> list[str]:
        codes = [c for c in re.split(r"[\s,;]+", (value or "").strip().upper()) if c]
        bad = [c for c in codes if not self.pattern.match(c)]
        if bad:
            raise forms.ValidationError(
                f"Codes non reconnus : {', '.join(bad)} (exemple attendu : {self.example})."
            )
        return sorted(set(codes))


class DataForm(DsfrModelForm):
    indicators = forms.MultipleChoiceField(
        label="Indicateurs du catalogue",
        choices=INDICATOR_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    scope_naf = CodeListField(
        label="Secteurs visés (codes NAF, facultatif)",
        pattern=NAF_CODE,
        example="47, 56.10A",
        help_text="Divisions ou sous-classes NAF séparées par des virgules ; vide : tous secteurs.",
    )
    period_start = BoundedDateField(label="Début de la période", required=False)
    period_end = BoundedDateField(label="Fin de la période", required=False)
    scope_natures = CodeListField(
        label="Natures de contrat visées (codes S21.G00.40.007, facultatif)",
        pattern=re.compile(r"^\d{2}$"),
        example="01, 02, 03",
        help_text="Ex. 01 (CDI), 02 (CDD), 03 (mission d'intérim) ; vide : toutes natures.",
    )

    class Meta:
        model = AccessRequest
        fields = [
            "indicators",
            "extract_population",
            "extract_dimensions",
            "extract_geography",
            "scope_naf",
            "scope_natures",
            "period_start",
            "period_end",
            "frequency",
        ]
        widgets = {
            "extract_population": forms.Textarea(attrs={"rows": 2}),
            "extract_dimensions": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "extract_population": "Pour une extraction : population visée (ex. salariés des établissements de "
            "la région).",
            "extract_geography": "Ex. région Hauts-de-France, département 59, zone d'emploi.",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "La fin de la période doit suivre son début.")
        return data


class RetentionForm(DsfrModelForm):
    class Meta:
        model = AccessRequest
        fields = ["retention_months", "retention_justification", "security_measures"]
        widgets = {
            "retention_justification": forms.Textarea(attrs={"rows": 3}),
            "security_measures": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "retention_justification": "Obligatoire au-delà de 36 mois.",
            "security_measures": "Hébergement, contrôle des accès, journalisation, chiffrement.",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        months = data.get("retention_months")
        if (
            months
            and months > RETENTION_JUSTIFY_ABOVE_MONTHS
            and not (data.get("retention_justification") or "").strip()
        ):
            self.add_error(
                "retention_justification",
                "Justifiez une durée de conservation supérieure à 36 mois.",
            )
        return data


class CguForm(DsfrBaseForm):
    cgu = forms.BooleanField(
        label="J'accepte les conditions générales d'utilisation et je certifie l'exactitude des informations fournies",
        required=True,
    )


STEP_FORMS: dict[int, type[forms.BaseForm]] = {
    1: ContactsForm,
    2: PurposeForm,
    3: DataForm,
    4: RetentionForm,
    5: CguForm,
}


# --- Instruction, comité, habilitations --------------------------------------------------------


class ChangesForm(DsfrBaseForm):
    message = forms.CharField(
        label="Modifications attendues", widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawForm(DsfrBaseForm):
    reason = forms.CharField(
        label="Motif du retrait",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MessageForm(DsfrBaseForm):
    body = forms.CharField(
        label="Votre message",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OrientationForm(DsfrBaseForm):
    orientation = forms.ChoiceField(label="Orienter vers", choices=Orientation.choices)
    framing = forms.CharField(
        label="Cadrage : données, périmètre et conditions proposés",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ScheduleForm(DsfrBaseForm):
    session = forms.ModelChoiceField(
        label="Séance du comité",
        queryset=ComiteSession.objects.filter(status=SessionStatus.PLANNED),
    )


class VoteForm(DsfrBaseForm):
    choice = forms.ChoiceField(
        label="Votre vote", choices=VoteChoice.choices, widget=forms.RadioSelect
    )
    opinion = forms.CharField(
        label="Avis motivé", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(DsfrBaseForm):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[("accepter", "Accepter la demande"), ("refuser", "Refuser la demande")],
        widget=forms.RadioSelect,
    )
    override = forms.BooleanField(
        label="Décision contraire à la majorité des votes exprimés (ou votes partagés)",
        required=False,
        help_text="Le motif est alors obligatoire ; il est communiqué au demandeur et journalisé.",
    )
    reason = forms.CharField(
        label="Motif",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Obligatoire en cas de refus ou de décision contraire à la majorité.",
    )
    start_date = BoundedDateField(label="Début de l'habilitation", required=False)
    end_date = BoundedDateField(label="Fin de l'habilitation", required=False)
    unit_level = forms.BooleanField(
        label="Accorder les données unitaires",
        required=False,
        help_text=(
            "Lève, pour les flux de cette habilitation, les règles propres aux entreprises "
            "(nombre, dominance, règle p %) et le contrôle des populations voisines : un flux "
            "sur une seule entreprise est livré ; les seuils de salariés et d'établissements "
            "restent. Motif obligatoire, inscrit dans le périmètre figé de l'habilitation et "
            "au journal."
        ),
    )
    unit_level_reason = forms.CharField(
        label="Motif de l'accord de données unitaires",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start_date"].initial = today
        self.fields["end_date"].initial = today + timedelta(days=365)
        years = settings.HABILITATION_MAX_YEARS
        self.fields["end_date"].help_text = f"Au plus {years} ans après le début."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reason = (data.get("reason") or "").strip()
        if data.get("decision") == "refuser" and not reason:
            self.add_error("reason", "Un refus doit toujours être motivé.")
        if data.get("override") and not reason:
            self.add_error("reason", "Une décision contraire à la majorité doit être motivée.")
        if data.get("unit_level"):
            if data.get("decision") != "accepter":
                self.add_error(
                    "unit_level", "Les données unitaires ne s'accordent qu'avec une acceptation."
                )
            if not (data.get("unit_level_reason") or "").strip():
                self.add_error(
                    "unit_level_reason", "L'accord de données unitaires doit être motivé."
                )
        if data.get("decision") == "accepter":
            from .services import check_habilitation_dates

            today = timezone.localdate()
            start = data.get("start_date") or today
            try:
                check_habilitation_dates(start, None, today)
            except ValidationError as exc:
                self.add_error("start_date", exc)
                return data
            end = data.get("end_date") or start + timedelta(days=365)
            try:
                check_habilitation_dates(start, end, today)
            except ValidationError as exc:
                self.add_error("end_date", exc)
        return data

    def unit_level_grant(self) -> str:
        """The reason of the grant of unit-level data, empty when none is granted."""
        data = self.cleaned_data
        return (data.get("unit_level_reason") or "").strip() if data.get("unit_level") else ""


class SessionForm(DsfrBaseForm):
    title = forms.CharField(label="Intitulé", max_length=200)
    date = BoundedDateField(label="Date de séance")
    quorum = forms.IntegerField(label="Quorum (nombre de votes requis)", initial=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        minimum = settings.COMITE_MIN_QUORUM
        field = self.fields["quorum"]
        field.initial = minimum
        field.min_value = minimum
        field.validators.append(MinValueValidator(minimum))
        field.widget.attrs["min"] = str(minimum)


class MinutesForm(DsfrBaseForm):
    minutes = forms.CharField(label="Procès-verbal", widget=forms.Textarea(attrs={"rows": 5}))


class RevokeForm(DsfrBaseForm):
    reason = forms.CharField(
        label="Motif de la révocation", widget=forms.Textarea(attrs={"rows": 2})
    )


class RenewForm(DsfrBaseForm):
    end_date = BoundedDateField(label="Nouvelle date de fin")


__all__ = ["STEPS", "STEP_FORMS", "Organisation"]
