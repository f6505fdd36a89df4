"""Demo data: use cases, one account per role, organisations and requests in every state."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from . import services, threads
from .models import (
    AccessRequest,
    ActorType,
    MembershipVerification,
    Organisation,
    Role,
    State,
    UseCase,
    User,
    VoteChoice,
)

DEMO_PASSWORD = "demo-DataDSN-2026"


def complete_siret(prefix13: str) -> str:
    """Append the Luhn check digit to a 13-digit prefix."""
    for d in "0123456789":
        candidate = prefix13 + d
        total = 0
        for i, c in enumerate(reversed(candidate)):
            v = int(c) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


USE_CASES = [
    dict(
        slug="pilotage-emploi-region",
        title="Piloter la politique régionale de l'emploi",
        summary="Suivre chaque mois les embauches et les fins de contrat par zone d'emploi pour ajuster les "
        "aides régionales.",
        description="La région reçoit des indicateurs mensuels d'embauches, de fins de contrat et d'effectifs "
        "par zone d'emploi et secteur. "
        "Ils alimentent le tableau de bord du service développement économique et l'évaluation des aides à "
        "l'embauche.",
        actor="Région Hauts-de-France",
        actor_type=ActorType.LOCAL,
        policy_domain="economie",
        data_kind="indicateurs",
        data_used="Effectifs, embauches et fins de contrat par zone d'emploi et secteur (APE), mensuels.",
        status="production",
        legal_basis="Article L. 133-5-3 du code de la sécurité sociale ; article L. 4251-12 du CGCT",
    ),
    dict(
        slug="dares-etudes-contrats-courts",
        title="Étudier les contrats courts et la réembauche",
        summary="La DARES mesure le recours aux CDD de moins d'un mois et la réembauche chez le même employeur.",
        description="Extraction pseudonymisée des contrats et de leurs fins pour reconstituer les "
        "trajectoires et évaluer le bonus-malus sur les contrats courts.",
        actor="DARES (ministère du Travail)",
        actor_type=ActorType.RESEARCH,
        policy_domain="travail",
        data_kind="extraction",
        data_used="Contrats, fins de contrat, établissements ; identifiants pseudonymisés.",
        status="production",
        legal_basis="Loi n° 51-711 du 7 juin 1951 sur le secret statistique ; article L. 133-5-3 du CSS",
    ),
    dict(
        slug="ciblage-inspection-travail",
        title="Cibler les contrôles de l'inspection du travail",
        summary="Repérer les établissements au recours atypique aux contrats précaires ou aux heures supplémentaires.",
        description="Indicateurs par établissement (rotation, part de CDD, heures) transmis aux DREETS pour "
        "prioriser les contrôles.",
        actor="Direction générale du travail et DREETS",
        actor_type=ActorType.DECONCENTRATED,
        policy_domain="travail",
        data_kind="indicateurs",
        data_used="Taux de rotation, heures rémunérées, part des contrats courts par établissement.",
        status="construction",
        legal_basis="Article L. 8113-5-2 du code du travail",
    ),
    dict(
        slug="france-travail-retour-emploi",
        title="Mesurer le retour à l'emploi des demandeurs d'emploi",
        summary="France Travail suit la reprise d'emploi durable de ses bénéficiaires après une formation.",
        description="Rapprochement pseudonymisé des parcours de formation et des contrats déclarés en DSN "
        "dans les 6 et 12 mois.",
        actor="France Travail",
        actor_type=ActorType.OPERATOR,
        policy_domain="emploi",
        data_kind="les_deux",
        data_used="Contrats et durées d'emploi des personnes sorties de formation.",
        status="production",
        legal_basis="Article L. 5312-1 du code du travail",
    ),
    dict(
        slug="apprentissage-ruptures",
        title="Prévenir les ruptures de contrats d'apprentissage",
        summary="Suivre les ruptures anticipées et l'insertion des apprentis pour les OPCO et les CFA.",
        description="Indicateurs de ruptures et de situation à 6 mois par CFA et par diplôme, issus du "
        "hackathon DSN 2024.",
        actor="DGEFP",
        actor_type=ActorType.STATE,
        policy_domain="formation",
        data_kind="indicateurs",
        data_used="Contrats d'apprentissage, fins de contrat, emploi à 6 mois.",
        status="instruction",
        legal_basis="Article L. 6211-1 du code du travail",
    ),
    dict(
        slug="ehpad-tensions-rh",
        title="Mesurer les tensions de recrutement en EHPAD",
        summary="Stocks et flux mensuels de contrats par métier dans les établissements médico-sociaux.",
        description="Les ARS et les départements suivent les recrutements et les départs par profession pour "
        "cibler leurs plans d'attractivité.",
        actor="Agence régionale de santé Occitanie",
        actor_type=ActorType.STATE,
        policy_domain="sante",
        data_kind="indicateurs",
        data_used="Contrats par profession (PCS-ESE) et motif de fin, par établissement.",
        status="exploration",
        legal_basis="Article L. 1431-2 du code de la santé publique",
    ),
]

ORGS = [
    ("Région Hauts-de-France", "2000410000001", ActorType.LOCAL, "region-hdf.example"),
    (
        "Direction de l'animation de la recherche, des études et des statistiques",
        "1100000000001",
        ActorType.RESEARCH,
        "dares.example",
    ),
]

USERS = [
    (Role.REQUESTER, "demandeur@region-hdf.example", "Camille", "Martin", 0),
    (Role.REQUESTER, "demandeur@dares.example", "Nour", "Benali", 1),
    (Role.INSTRUCTOR, "instructeur@data-dsn.example", "Louise", "Bernard", None),
    (Role.MEMBER, "membre1@data-dsn.example", "Hugo", "Petit", None),
    (Role.MEMBER, "membre2@data-dsn.example", "Inès", "Moreau", None),
    (Role.CHAIR, "presidente@data-dsn.example", "Claire", "Dubois", None),
    (Role.ADMIN, "admin@data-dsn.example", "Alex", "Laurent", None),
]


def _filled(req: AccessRequest, title: str, retention: int = 24) -> dict[str, object]:
    return dict(
        controller_name="Direction générale des services",
        controller_email="dgs@collectivite.example",
        dpo_name="Délégué à la protection des données",
        dpo_email="dpo@collectivite.example",
        tech_name="Service des données",
        tech_email="donnees@collectivite.example",
        title=title,
        purpose="Éclairer le pilotage de la politique publique par des indicateurs mensuels.",
        policy_domain="emploi",
        public_policy="Aides à l'embauche et accompagnement des entreprises.",
        legal_basis_text="Article L. 133-5-3 du code de la sécurité sociale.",
        indicators=["EFF_FIN", "EMBAUCHES"],
        extract_geography="Région",
        frequency="mensuelle",
        retention_months=retention,
        security_measures="Hébergement SecNumCloud, accès nominatifs, journalisation.",
        cgu_accepted_at=timezone.now(),
    )


@transaction.atomic
def seed() -> list[tuple[str, str]]:
    """Create (idempotently) the demo content; return (role label, login) pairs."""
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return _seed()


def _seed() -> list[tuple[str, str]]:
    for case in USE_CASES:
        UseCase.objects.get_or_create(slug=case["slug"], defaults=case)
    orgs = []
    for name, prefix, kind, domain in ORGS:
        org, _ = Organisation.objects.get_or_create(
            siret=complete_siret(prefix),
            defaults={"name": name, "actor_type": kind, "email_domains": domain},
        )
        orgs.append(org)
    users: dict[str, User] = {}
    for role, email, first, last, org_index in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User(
                username=email,
                email=email,
                first_name=first,
                last_name=last,
                role=role,
                organisation=orgs[org_index] if org_index is not None else None,
                organisation_confirmed=org_index is not None,
                organisation_verification=MembershipVerification.DOMAIN
                if org_index is not None
                else "",
                email_verified=True,
                is_staff=role == Role.ADMIN,
                is_superuser=role == Role.ADMIN,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[email] = user
    if not AccessRequest.objects.exists():
        _seed_requests(users)
    return [(Role(u.role).label, u.email) for u in users.values()]


def _seed_requests(users: dict[str, User]) -> None:
    req_hdf = users["demandeur@region-hdf.example"]
    req_dares = users["demandeur@dares.example"]
    instr = users["instructeur@data-dsn.example"]
    m1, m2 = users["membre1@data-dsn.example"], users["membre2@data-dsn.example"]
    chair = users["presidente@data-dsn.example"]
    now = timezone.now()
    # Decisions are taken at a séance that has taken place; the next one is still to come.
    past = services.create_session(instr, "Comité des usages du mois", timezone.localdate(), 2)
    session = services.create_session(
        instr, "Comité des usages du mois prochain", (now + timedelta(days=10)).date(), 2
    )

    def new(user: User, title: str, step_all: bool = True) -> AccessRequest:
        r = services.create_draft(user)
        if step_all:
            services.save_step(user, r, _filled(r, title), 5)
        else:
            services.save_step(user, r, {"title": title}, 2)
        return r

    new(req_hdf, "Tableau de bord de l'apprentissage (brouillon)", step_all=False)
    r = new(req_hdf, "Suivi mensuel des embauches par zone d'emploi")
    services.submit(req_hdf, r)
    threads.post(req_hdf, r, "Faut-il préciser le zonage des zones d'emploi (celui de 2020) ?")
    threads.post(instr, r, "Non : le zonage en vigueur de l'Insee (2020) est appliqué d'office.")
    r = new(req_dares, "Trajectoires des salariés en contrats courts")
    services.submit(req_dares, r)
    services.request_changes(
        instr, r, "Précisez la liste des variables et la durée de conservation."
    )
    r = new(req_hdf, "Évaluation des aides à l'embauche")
    services.submit(req_hdf, r)
    services.request_changes(instr, r, "Joignez la délibération du conseil régional.")
    services.submit(req_hdf, r)
    r = new(req_dares, "Effectifs intérimaires par département")
    services.submit(req_dares, r)
    services.withdraw(req_dares, r, "Besoin couvert par les publications de la Dares.")
    r = new(req_hdf, "Indicateurs de tension sur les métiers du BTP")
    services.submit(req_hdf, r)
    services.schedule(instr, r, session)
    services.vote(m1, r, VoteChoice.FAVOURABLE, "Finalité claire.")
    for title, approve in [
        ("Effectifs salariés par secteur", True),
        ("Extraction nominative des salariés", False),
    ]:
        r = new(req_dares if approve else req_hdf, title)
        services.submit(r.created_by, r)
        services.schedule(instr, r, past)
        services.vote(
            m1, r, VoteChoice.FAVOURABLE if approve else VoteChoice.UNFAVOURABLE, "Avis motivé."
        )
        services.vote(
            m2, r, VoteChoice.FAVOURABLE if approve else VoteChoice.UNFAVOURABLE, "Avis motivé."
        )
        services.decide(
            chair,
            r,
            approve,
            ""
            if approve
            else "Données directement identifiantes : non proportionné à la finalité.",
        )
    # Spread the timestamps so that the statistics and the 30-day clock show something realistic.
    for i, req in enumerate(AccessRequest.objects.exclude(state=State.DRAFT).order_by("pk")):
        shift = timedelta(days=8 * i + 3)
        AccessRequest.objects.filter(pk=req.pk).update(
            submitted_at=req.submitted_at - shift if req.submitted_at else None,
            last_submitted_at=req.last_submitted_at - shift if req.last_submitted_at else None,
            first_response_at=req.first_response_at - shift + timedelta(days=2 + i)
            if req.first_response_at
            else None,
            decided_at=req.decided_at - shift + timedelta(days=12 + 3 * i)
            if req.decided_at
            else None,
        )
    # One request left without answer past its deadline.
    late = services.create_draft(req_dares)
    services.save_step(
        req_dares,
        late,
        _filled(late, "Salaires médians par zone d'emploi", retention=48)
        | {"retention_justification": "Séries longues nécessaires à l'évaluation pluriannuelle."},
        5,
    )
    services.submit(req_dares, late)
    AccessRequest.objects.filter(pk=late.pk).update(
        submitted_at=now - timedelta(days=41), last_submitted_at=now - timedelta(days=41)
    )
