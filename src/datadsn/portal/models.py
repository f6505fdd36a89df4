"""Portal data model: organisations, users and roles, use cases, access requests, comité, habilitations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

CLOCK_DAYS = 30
RETENTION_JUSTIFY_ABOVE_MONTHS = 36


def validate_siret(value: str) -> None:
    """A SIRET is 14 digits passing the Luhn check (La Poste establishments excepted)."""
    if len(value) != 14 or not value.isdigit():
        raise ValidationError("Le SIRET doit comporter exactement 14 chiffres.")
    if value.startswith("356000000"):
        if sum(int(c) for c in value) % 5 != 0:
            raise ValidationError("Ce SIRET n'est pas valide (clé de contrôle).")
        return
    total = 0
    for i, c in enumerate(reversed(value)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    if total % 10:
        raise ValidationError("Ce SIRET n'est pas valide (clé de contrôle).")


class ActorType(models.TextChoices):
    STATE = "etat", "Administration centrale de l'État"
    DECONCENTRATED = "deconcentre", "Service déconcentré de l'État"
    OPERATOR = "operateur", "Opérateur public (France Travail, Urssaf…)"
    LOCAL = "collectivite", "Collectivité territoriale"
    SOCIAL = "protection_sociale", "Organisme de protection sociale"
    RESEARCH = "recherche", "Service statistique ou organisme de recherche public"
    OTHER = "autre", "Autre acteur public"


class Orientation(models.TextChoices):
    """Who serves a request best: DataDSN itself, or a partner that already publishes the data."""

    DATADSN = "datadsn", "DataDSN (données consolidées et indicateurs)"
    URSSAF = "urssaf", "Urssaf (effectifs et masse salariale publiés)"
    DARES = "dares", "Dares (mouvements de main-d'œuvre, études)"
    INSEE = "insee", "Insee (estimations d'emploi, accès sécurisé CASD)"
    DREES = "drees", "Drees (secteur sanitaire et social)"
    FRANCE_TRAVAIL = "france_travail", "France Travail (demandeurs d'emploi, retour à l'emploi)"
    OTHER = "autre", "Autre partenaire"


class PolicyDomain(models.TextChoices):
    EMPLOYMENT = "emploi", "Emploi et insertion"
    LABOUR = "travail", "Travail et conditions de travail"
    TRAINING = "formation", "Formation et apprentissage"
    SOCIAL = "social", "Protection sociale et solidarités"
    HEALTH = "sante", "Santé et médico-social"
    ECONOMY = "economie", "Développement économique et territoires"
    EQUALITY = "egalite", "Égalité professionnelle"


class Organisation(models.Model):
    name = models.CharField("raison sociale", max_length=200)
    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    actor_type = models.CharField("type d'acteur public", max_length=30, choices=ActorType.choices)
    email_domains = models.CharField(
        "domaines de messagerie déclarés",
        max_length=500,
        blank=True,
        help_text="Séparés par des virgules (ex. region-hdf.fr). Une adresse vérifiée de l'un de "
        "ces domaines rattache son compte à l'organisation sans autre confirmation.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "organisation"

    def __str__(self) -> str:
        return f"{self.name} ({self.siret})"

    def domains(self) -> set[str]:
        return {
            d.strip().lower().lstrip("@")
            for d in self.email_domains.replace(";", ",").split(",")
            if d.strip()
        }

    def owns_address(self, email: str) -> bool:
        """Whether ``email`` belongs to one of the organisation's declared mail domains."""
        return email.rsplit("@", 1)[-1].strip().lower() in self.domains()


class Role(models.TextChoices):
    REQUESTER = "demandeur", "Demandeur"
    INSTRUCTOR = "instructeur", "Instructeur"
    MEMBER = "membre", "Membre du comité des usages"
    CHAIR = "president", "Président du comité des usages"
    ADMIN = "admin", "Administrateur"


class MembershipVerification(models.TextChoices):
    """How a local account was verified as a member of its organisation."""

    DOMAIN = "domaine", "adresse d'un domaine déclaré par l'organisation"
    MEMBER = "membre", "confirmé par un membre vérifié de l'organisation"
    INSTRUCTOR = "instructeur", "confirmé par un instructeur"
    ADMIN = "administrateur", "confirmé par un administrateur"


class User(AbstractUser):
    email = models.EmailField("adresse électronique", unique=True)
    role = models.CharField("rôle", max_length=20, choices=Role.choices, default=Role.REQUESTER)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    organisation_confirmed = models.BooleanField(
        "rattachement à l'organisation confirmé",
        default=False,
        help_text="Aucun compte n'est rattaché d'office : domaine de messagerie déclaré par "
        "l'organisation, ou confirmation par un membre vérifié ou un instructeur.",
    )
    organisation_verification = models.CharField(
        "rattachement vérifié par",
        max_length=20,
        choices=MembershipVerification.choices,
        blank=True,
    )
    organisation_verified_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email_verified = models.BooleanField("adresse vérifiée", default=False)
    # The ProConnect identity bound at the first login: the account is found by this pair, never
    # by the e-mail, which the provider may change (and which another identity may then claim).
    oidc_issuer = models.CharField("fournisseur d'identité", max_length=255, blank=True)
    oidc_subject = models.CharField("identifiant chez le fournisseur", max_length=255, blank=True)

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_subject"],
                condition=~models.Q(oidc_subject=""),
                name="portal_user_one_account_per_oidc_identity",
            )
        ]

    @property
    def is_requester(self) -> bool:
        return self.role == Role.REQUESTER

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR

    @property
    def is_comite(self) -> bool:
        return self.role in (Role.MEMBER, Role.CHAIR)

    @property
    def is_chair(self) -> bool:
        return self.role == Role.CHAIR

    @property
    def is_portal_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_staff_role(self) -> bool:
        """Instructors, comité and admins work on every organisation's requests."""
        return self.role in (Role.INSTRUCTOR, Role.MEMBER, Role.CHAIR, Role.ADMIN)

    def display(self) -> str:
        return self.get_full_name() or self.email

    def membership_status(self) -> str:
        """What an instructor reads about this account's link to its organisation."""
        if self.organisation_id is None:
            return "sans organisation"
        if not self.organisation_confirmed:
            return "rattachement à l'organisation NON vérifié"
        how = self.get_organisation_verification_display()
        return f"rattachement vérifié ({how})" if how else "rattachement vérifié"


class UseCaseStatus(models.TextChoices):
    PRODUCTION = "production", "En production"
    CONSTRUCTION = "construction", "En construction"
    REVIEW = "instruction", "En instruction"
    EXPLORATION = "exploration", "Exploration"


class DataKind(models.TextChoices):
    INDICATORS = "indicateurs", "Indicateurs agrégés"
    EXTRACT = "extraction", "Extraction pseudonymisée"
    BOTH = "les_deux", "Indicateurs et extraction"


class UseCase(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField("titre", max_length=200)
    summary = models.CharField("résumé", max_length=400)
    description = models.TextField("description")
    actor = models.CharField("acteur public", max_length=200)
    actor_type = models.CharField("type d'acteur", max_length=30, choices=ActorType.choices)
    policy_domain = models.CharField(
        "politique publique", max_length=30, choices=PolicyDomain.choices
    )
    data_kind = models.CharField("données utilisées", max_length=20, choices=DataKind.choices)
    data_used = models.TextField("détail des données utilisées")
    status = models.CharField("statut", max_length=20, choices=UseCaseStatus.choices)
    legal_basis = models.CharField("base légale", max_length=300)
    published = models.BooleanField("publié", default=True)

    class Meta:
        ordering = ["title"]
        verbose_name = "cas d'usage"
        verbose_name_plural = "cas d'usage"

    def __str__(self) -> str:
        return self.title


class State(models.TextChoices):
    DRAFT = "brouillon", "Brouillon"
    SUBMITTED = "deposee", "Déposée"
    CHANGES_REQUESTED = "modifications", "Modifications demandées"
    RESUBMITTED = "redeposee", "Déposée à nouveau"
    IN_REVIEW = "comite", "En examen par le comité"
    APPROVED = "acceptee", "Acceptée"
    REFUSED = "refusee", "Refusée"
    WITHDRAWN = "retiree", "Retirée par le demandeur"


OPEN_STATES = (State.SUBMITTED, State.RESUBMITTED, State.IN_REVIEW)
CLOSED_STATES = (State.APPROVED, State.REFUSED, State.WITHDRAWN)
EDITABLE_STATES = (State.DRAFT, State.CHANGES_REQUESTED)


class Frequency(models.TextChoices):
    ONCE = "ponctuelle", "Ponctuelle"
    MONTHLY = "mensuelle", "Mensuelle"
    QUARTERLY = "trimestrielle", "Trimestrielle"
    YEARLY = "annuelle", "Annuelle"


class AccessRequest(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="requests"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="requests_created")
    state = models.CharField("état", max_length=20, choices=State.choices, default=State.DRAFT)
    # Contacts.
    controller_name = models.CharField(
        "responsable de traitement : nom", max_length=200, blank=True
    )
    controller_email = models.EmailField("responsable de traitement : courriel", blank=True)
    dpo_name = models.CharField(
        "délégué à la protection des données : nom", max_length=200, blank=True
    )
    dpo_email = models.EmailField("délégué à la protection des données : courriel", blank=True)
    tech_name = models.CharField("contact technique : nom", max_length=200, blank=True)
    tech_email = models.EmailField("contact technique : courriel", blank=True)
    # Purpose.
    title = models.CharField("intitulé de la demande", max_length=200, blank=True)
    purpose = models.TextField("finalité", blank=True)
    policy_domain = models.CharField(
        "politique publique concernée", max_length=30, choices=PolicyDomain.choices, blank=True
    )
    public_policy = models.TextField("description de la politique publique", blank=True)
    legal_basis_text = models.TextField("base légale", blank=True)
    legal_basis_pdf = models.FileField(
        "texte de la base légale (PDF)", upload_to="bases-legales/", blank=True
    )
    # Data requested.
    indicators = models.JSONField("indicateurs demandés", default=list, blank=True)
    extract_population = models.TextField("population", blank=True)
    extract_dimensions = models.TextField("variables et dimensions", blank=True)
    extract_geography = models.CharField("territoire", max_length=200, blank=True)
    # Structured limits of the population, checked by the flows (empty: no limit).
    scope_naf = models.JSONField("secteurs (codes NAF)", default=list, blank=True)
    scope_natures = models.JSONField("natures de contrat", default=list, blank=True)
    period_start = models.DateField("début de la période", null=True, blank=True)
    period_end = models.DateField("fin de la période", null=True, blank=True)
    frequency = models.CharField("fréquence", max_length=20, choices=Frequency.choices, blank=True)
    # Retention and security.
    retention_months = models.PositiveIntegerField(
        "durée de conservation (mois)", null=True, blank=True
    )
    retention_justification = models.TextField(
        "justification de la durée de conservation", blank=True
    )
    security_measures = models.TextField("mesures de sécurité", blank=True)
    cgu_accepted_at = models.DateTimeField(
        "conditions générales acceptées le", null=True, blank=True
    )
    # Instruction: where the request is oriented and how it is framed.
    orientation = models.CharField(
        "orientation", max_length=20, choices=Orientation.choices, blank=True
    )
    framing = models.TextField("cadrage (données, périmètre, conditions)", blank=True)
    oriented_at = models.DateTimeField(null=True, blank=True)
    # Workflow bookkeeping.
    step = models.PositiveSmallIntegerField(default=1)
    instructor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="requests_instructed"
    )
    session = models.ForeignKey(
        "ComiteSession", null=True, blank=True, on_delete=models.PROTECT, related_name="agenda"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_submitted_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)
    changes_message = models.TextField("modifications demandées", blank=True)
    decision_reason = models.TextField("motif de la décision", blank=True)
    decision_override = models.BooleanField(
        "décision contraire à la majorité des votes", default=False
    )
    decision_votes = models.JSONField("votes au moment de la décision", default=dict, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="requests_decided"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "demande d'accès"
        verbose_name_plural = "demandes d'accès"

    def __str__(self) -> str:
        return f"{self.reference} {self.title or '(sans titre)'}"

    @property
    def reference(self) -> str:
        return f"D{self.pk}"

    # The 30-day clock: starts at the first submission, paused while the requester has the hand
    # (changes requested), stops at the decision.
    def due_at(self) -> Any:
        if not self.submitted_at:
            return None
        return self.submitted_at + timedelta(days=CLOCK_DAYS, seconds=self.paused_seconds)

    def clock_days_left(self, now: Any = None) -> int | None:
        due = self.due_at()
        if due is None or self.state in (*CLOSED_STATES, State.DRAFT):
            return None
        now = now or timezone.now()
        if self.paused_since:
            due = due + (now - self.paused_since)
        # Calendar days, as a requester counts them: 30 on the day of submission, 0 on the due day.
        return (timezone.localtime(due).date() - timezone.localtime(now).date()).days

    @property
    def overdue(self) -> bool:
        left = self.clock_days_left()
        return left is not None and left < 0 and self.state in OPEN_STATES

    def scope(self) -> dict[str, Any]:
        """The data scope frozen into a habilitation."""
        return {
            "demande": self.reference,
            "organisation": {"nom": self.organisation.name, "siret": self.organisation.siret},
            "intitule": self.title,
            "finalite": self.purpose,
            "politique_publique": self.get_policy_domain_display(),
            "base_legale": self.legal_basis_text,
            "indicateurs": list(self.indicators),
            "extraction": {
                "population": self.extract_population,
                "dimensions": self.extract_dimensions,
                "territoire": self.extract_geography,
                "naf": list(self.scope_naf),
                "natures_contrat": list(self.scope_natures),
                "periode_debut": self.period_start.isoformat() if self.period_start else None,
                "periode_fin": self.period_end.isoformat() if self.period_end else None,
            },
            "frequence": self.frequency,
            "orientation": self.orientation,
            "cadrage": self.framing,
            "conservation_mois": self.retention_months,
            "mesures_securite": self.security_measures,
            "contacts": {
                "responsable_traitement": [self.controller_name, self.controller_email],
                "dpo": [self.dpo_name, self.dpo_email],
                "technique": [self.tech_name, self.tech_email],
            },
        }


class SessionStatus(models.TextChoices):
    PLANNED = "prevue", "Prévue"
    CLOSED = "close", "Close"


class ComiteSession(models.Model):
    title = models.CharField("intitulé", max_length=200)
    date = models.DateField("date de séance")
    quorum = models.PositiveSmallIntegerField("quorum (votes requis)", default=2)
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    minutes = models.TextField("procès-verbal", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = "séance du comité"

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%d/%m/%Y})"


class VoteChoice(models.TextChoices):
    FAVOURABLE = "favorable", "Avis favorable"
    UNFAVOURABLE = "defavorable", "Avis défavorable"
    ABSTAIN = "abstention", "Abstention"


class Vote(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(User, on_delete=models.PROTECT, related_name="votes")
    choice = models.CharField("vote", max_length=20, choices=VoteChoice.choices)
    opinion = models.TextField("avis motivé", blank=True)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "member"], name="one_vote_per_member")
        ]


class HabilitationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    # Before issue 19 a renewal ended the current habilitation at once; since then the current one
    # stays active until its end date and the renewal (``renewal``) starts the day after.
    RENEWED = "renouvelee", "Remplacée par un renouvellement"
    REVOKED = "revoquee", "Révoquée"


class Habilitation(models.Model):
    request = models.ForeignKey(
        AccessRequest, on_delete=models.PROTECT, related_name="habilitations"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="habilitations"
    )
    scope = models.JSONField("périmètre figé")
    start_date = models.DateField("début")
    end_date = models.DateField("fin")
    status = models.CharField(
        max_length=20, choices=HabilitationStatus.choices, default=HabilitationStatus.ACTIVE
    )
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewal"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    # The smallest number of days before the end at which the expiry reminder was sent
    # (``reminders``): each threshold is reminded once.
    expiry_reminded_days = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"H{self.pk}"

    @property
    def expired(self) -> bool:
        return self.end_date < date.today()

    @property
    def effective_status(self) -> str:
        if self.status == HabilitationStatus.ACTIVE:
            if self.expired:
                return "Expirée"
            if self.start_date > date.today():
                return f"À venir (à partir du {self.start_date:%d/%m/%Y})"
            # Through the reverse one-to-one: lists select_related("renewal") (no query per row).
            try:
                renewal: Habilitation | None = self.renewal
            except Habilitation.DoesNotExist:
                renewal = None
            if renewal is not None:
                return f"Active jusqu'au {self.end_date:%d/%m/%Y}, puis renouvelée ({renewal.reference})"
        return self.get_status_display()


class Message(models.Model):
    """One message of the thread between the instructors and the requesters on a request.

    Never edited nor deleted: the journal holds a digest of each message (``threads``)."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField("message")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Message {self.pk} sur {self.request.reference}"


# What the journal page calls each journalled object (``Event.object_type``, a model name).
OBJECT_LABELS = {
    "AccessRequest": "demande",
    "ApiToken": "jeton d'API",
    "ComiteSession": "séance",
    "Delivery": "livraison",
    "Habilitation": "habilitation",
    "Message": "message",
    "Organisation": "organisation",
    "UseCase": "cas d'usage",
    "User": "compte",
    "Vote": "vote",
}

ACTION_LABELS = {
    "creation": "Création du brouillon",
    "modification": "Modification",
    "depot": "Dépôt",
    "nouveau_depot": "Nouveau dépôt après modifications",
    "modifications_demandees": "Modifications demandées",
    "inscription_comite": "Inscription au comité des usages",
    "vote": "Vote",
    "vote_modifie": "Vote modifié",
    "decision": "Décision",
    "retrait": "Demande retirée par le demandeur",
    "habilitation_creee": "Habilitation délivrée",
    "habilitation_revoquee": "Habilitation révoquée",
    "habilitation_renouvelee": "Habilitation renouvelée",
    "seance_creee": "Séance créée",
    "seance_close": "Séance close",
    "relance": "Relance (délai de 30 jours)",
    "inscription": "Inscription",
    "rattachement_confirme": "Rattachement à l'organisation confirmé",
    "adresse_verifiee": "Adresse vérifiée",
    "mot_de_passe_reinitialise": "Mot de passe réinitialisé par lien",
    "mot_de_passe_modifie": "Mot de passe modifié",
    "jeton_api_cree": "Jeton d'API créé",
    "jeton_api_revoque": "Jeton d'API révoqué",
    "inscription_adresse_existante": "Inscription tentée avec une adresse existante",
    "export_journal": "Export du journal",
    "connexion_oidc": "Connexion par OpenID Connect",
    "inscription_oidc": "Inscription par OpenID Connect",
    "liaison_oidc": "Compte lié à une identité OpenID Connect",
    "livraison": "Livraison d'un flux",
    "livraison_remplacee": "Livraison d'un flux remplacée",
    "telechargement": "Téléchargement d'un fichier livré",
    "message": "Message",
    "rappel_echeance_habilitation": "Rappel de fin d'habilitation",
}


class Event(models.Model):
    """Append-only audit log: rows are never updated nor deleted.

    The database refuses UPDATE and DELETE on the table (triggers, see ``journal``), the rows it
    refers to cannot be deleted (PROTECT), and each row carries a hash chained to the previous one.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    changes = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField("empreinte précédente", max_length=64, blank=True)
    hash = models.CharField("empreinte (SHA-256)", max_length=64, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def object_label(self) -> str:
        return OBJECT_LABELS.get(self.object_type, self.object_type)

    def save(self, *args: Any, **kwargs: Any) -> None:
        from django.db import transaction

        from . import journal

        if self.pk is not None:
            raise ValidationError("Le journal d'audit est en ajout seul.")
        with transaction.atomic():
            journal.lock()
            self.prev_hash = journal.last_hash()
            self.changes = journal.normalise(self.changes)
            self.hash = journal.event_digest(self)
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("Le journal d'audit est en ajout seul.")


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    name = models.CharField("nom", max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("expire le", null=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str = "") -> str:
        """Create a token and return the clear key (shown once, only its hash is stored)."""
        from django.conf import settings

        key = "ddsn_" + secrets.token_urlsafe(32)
        cls.objects.create(
            user=user,
            digest=cls.hash(key),
            name=name,
            expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
        )
        return key

    @property
    def valid(self) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "Révoqué"
        return "Valide" if self.valid else "Expiré"


siret_validator = RegexValidator(r"^\d{14}$", "Le SIRET doit comporter exactement 14 chiffres.")


class Delivery(models.Model):
    """One month of a flow delivered to a habilitation (files under ``folder``, see flows.run)."""

    habilitation = models.ForeignKey(
        Habilitation, on_delete=models.PROTECT, related_name="deliveries"
    )
    flow = models.CharField("flux", max_length=64)
    month = models.CharField("mois", max_length=7)
    folder = models.CharField("dossier", max_length=500)
    files = models.JSONField("fichiers", default=list)
    manifest = models.JSONField("manifeste", default=dict)
    created_at = models.DateTimeField("première livraison", default=timezone.now)
    updated_at = models.DateTimeField("dernière mise à jour", auto_now=True)

    class Meta:
        ordering = ["-month", "flow"]
        verbose_name = "livraison"
        constraints = [
            models.UniqueConstraint(
                fields=["habilitation", "flow", "month"], name="one_delivery_per_flow_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.habilitation.reference} {self.flow} {self.month}"
