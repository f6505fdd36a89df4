"""What each establishment and contract declares in one month, as polars frames.

`contract_frame` resolves the planned defects (identity changes, number and start-date changes,
transfers, ends, cancelled ends) into the values of one month's rows; `declarations` and `users`
give the per-declaration header and the S21.G00.85 user establishments.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from . import hashrand
from .careers import INTERIM
from .economy import NEVER
from .events import NAMED, NO_NIR, PERSON_KINDS, UNBLOCKED, WRONG_NIR
from .payroll import MonthRows
from .restructure import KIND_NAMES
from .workdays import add_months, day, month_end

if TYPE_CHECKING:
    from .runner import MonthContext

NULL = np.array(None, dtype=object)  # missing rubrique in object columns
TRANSFER_KINDS = {0: "employer_change", **KIND_NAMES}  # Plan.moved_kind -> anomaly type


def contract_frame(
    ctx: MonthContext,
    mi: int,
    month: dt.date,
    rows: MonthRows,
    etab: np.ndarray,
    person: np.ndarray,
    fraction: np.ndarray,
    file_group: np.ndarray,
) -> pl.DataFrame:
    """One row per contract declared this month, with every value its blocks need."""
    eco, con, per, plan = ctx.eco, ctx.con, ctx.per, ctx.plan
    c = rows.c
    m0, m1 = day(month), day(month_end(month))
    kday = (
        (plan.person_mi[person] + ctx.base)
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    pkind = plan.person_kind[person]
    before = mi < plan.person_mi[person]
    named, wrong_nir = np.isin(pkind, NAMED), np.isin(pkind, WRONG_NIR)
    nom = np.where(named & before, plan.old_nom[person], per.nom[person])
    old_ddn = (pkind == 3) | (pkind == 6)
    ddn_day = np.where(old_ddn & before, plan.old_ddn[person], per.birth[person])
    nir = np.where(wrong_nir & before, plan.wrong_nir[person], per.nir[person])
    nir = np.where((mi < plan.nir_absent_until[c]) | np.isin(pkind, NO_NIR), None, nir)
    declare31 = (pkind > 0) & ~before & (con.start[c] < kday) & ~plan.done31[c]
    plan.done31[c[declare31]] = True
    with_block = declare31 & ~np.isin(pkind, UNBLOCKED)
    _log_identity_changes(ctx, month, c, person, pkind, before, with_block)
    chg31_date = np.where(with_block, kday, NULL)
    chg31_nir = np.where(with_block & wrong_nir, plan.wrong_nir[person], NULL)
    chg31_nom = np.where(with_block & named, plan.old_nom[person], NULL)
    chg31_ddn = np.where(with_block & (pkind == 6), _ddmmyyyy(plan.old_ddn[person]), NULL)
    frag31_ddn = np.where(with_block & (pkind == 3), _ddmmyyyy(plan.old_ddn[person]), NULL)

    numero = np.where(mi < plan.numchg_mi[c], plan.old_numero[c], con.numero[c])
    start_decl = np.where(mi < plan.datecorr_mi[c], plan.wrong_start[c], con.declared_start[c])
    numchg_all = plan.numchg_mi[c] == mi
    numchg_now = numchg_all & ~plan.numchg_silent[c]
    datecorr_now = plan.datecorr_mi[c] == mi
    transfer_all = (con.previous[c] >= 0) & (con.start[c] >= m0) & (con.start[c] <= m1)
    transfer_now = transfer_all & ~plan.transfer_silent[c]
    chg41 = numchg_now | datecorr_now | transfer_now
    ctx.truth.anomalies(
        "contract_number_change_without_block",
        month,
        c[numchg_all & plan.numchg_silent[c]],
        con,
        per,
        eco,
        "nouveau numéro sans S21.G00.41",
    )
    chg41_date = np.where(numchg_now, m0, np.where(datecorr_now, con.start[c], con.start[c]))
    prev_siret = eco.siret[con.etab[np.maximum(con.previous[c], 0)]]
    ctx.truth.anomalies(
        "contract_number_change",
        month,
        c[numchg_now],
        con,
        per,
        eco,
        "ancien numéro déclaré en S21.G00.41.014",
    )
    ctx.truth.anomalies(
        "start_date_correction",
        month,
        c[datecorr_now],
        con,
        per,
        eco,
        "ancienne date de début en S21.G00.41.021",
    )
    for kind, cause in TRANSFER_KINDS.items():
        moved = transfer_all & (plan.moved_kind[c] == kind)
        for silent, suffix, detail in (
            (False, "", "ancien SIRET en S21.G00.41.012"),
            (True, "_without_block", "nouvel employeur sans S21.G00.41.012"),
        ):
            ctx.truth.anomalies(
                cause + suffix,
                month,
                c[moved & (plan.transfer_silent[c] == silent)],
                con,
                per,
                eco,
                detail,
            )
    nir_back = plan.nir_absent_until[c] == mi
    ctx.truth.anomalies(
        "nir_absent_then_present",
        month,
        c[nir_back],
        con,
        per,
        eco,
        "NIR absent les mois précédents",
    )

    # End blocks: declared ends, forgotten ones, silent closures, cancelled ends.
    ends_now = (con.end[c] <= m1) & (con.motif_fin[c] != "998")
    silent = plan.silent[etab] & (con.motif_fin[c] == "012")
    forgotten = ends_now & plan.forgot_end[c] & ~silent
    declared_end = ends_now & ~plan.forgot_end[c] & ~silent
    ctx.truth.anomalies(
        "forgotten_end",
        month,
        c[forgotten & ~plan.rehired[c]],
        con,
        per,
        eco,
        "fin de contrat sans bloc S21.G00.62",
    )
    ctx.truth.anomalies(
        "forgotten_end_then_rehire",
        month,
        c[forgotten & plan.rehired[c]],
        con,
        per,
        eco,
        "fin de contrat sans bloc S21.G00.62, réembauche plus tard dans l'établissement",
    )
    fake = plan.cancel_mi[c] == mi
    cancel = (plan.cancel_mi[c] >= 0) & (plan.cancel_mi[c] == mi - 1)
    ctx.truth.anomalies(
        "cancelled_end",
        month,
        c[fake],
        con,
        per,
        eco,
        "fin déclarée à tort, annulée (099) le mois suivant",
    )
    end62_date = np.where(
        declared_end, con.end[c], np.where(fake | cancel, plan.cancel_date[c], NEVER)
    )
    end62_motif = np.where(
        declared_end, con.motif_fin[c], np.where(fake, "059", np.where(cancel, "099", NULL))
    )
    ctx.truth.anomalies(
        "negative_correction",
        month,
        c[rows.inflated > 0],
        con,
        per,
        eco,
        "heures surdéclarées, corrigées le mois suivant",
    )

    job = con.job[c]
    interim = con.nature[c] == INTERIM
    moved_user = (plan.user_mi[c] >= 0) & (mi >= plan.user_mi[c])
    user = np.maximum(np.where(moved_user, plan.second_user[c], con.user_etab[c]), 0)
    ctx.truth.anomalies(
        "interim_user_change",
        month,
        c[plan.user_mi[c] == mi],
        con,
        per,
        eco,
        "nouvel établissement utilisateur en S21.G00.40.046",
    )
    seniority = np.maximum(0, (m1 - con.declared_start[c]) // 30)
    # Home address and commune derived from the person id (stable over months).
    commune = (person * 7919) % len(ctx.com_name)
    street = (
        (person % 97 + 1).astype(str).astype(object) + ", " + ctx.streets[person % len(ctx.streets)]
    )
    days_unit = eco.day_unit[eco.company[etab]] & (con.weekly[c] == 35.0)
    ot_amount = (rows.ot017 + rows.ot018) * rows.hourly * 125 // 10000
    cols: dict[str, object] = {
        "c": c,
        "person": person,
        "etab": etab,
        "fraction": fraction,
        "file_group": file_group,
        "decl": etab * 2 + fraction - 1,
        "nir": nir,
        "nom": nom,
        "prenoms": per.prenoms[person],
        "sexe": per.sexe[person],
        "ddn": _ddmmyyyy(ddn_day),
        "lieu_naissance": ctx.com_name[per.birth_commune[person]],
        "dep_naissance": ctx.com_dep[per.birth_commune[person]],
        "adresse": street,
        "cp": ctx.com_cp[commune],
        "localite": ctx.com_name[commune],
        "matricule": _matricule(ctx, etab, person, c),
        "chg31_date": chg31_date,
        "chg31_nir": chg31_nir,
        "chg31_nom": chg31_nom,
        "chg31_ddn": chg31_ddn,
        "frag31_ddn": frag31_ddn,
        "start_decl": start_decl,
        "statut": np.where(interim, "07", ctx.job_statut[job]),
        "statut_rc": np.where(ctx.job_cadre[job], "01", "04"),
        "pcs": ctx.job_pcs[job],
        "libelle": ctx.job_label[job],
        "nature": con.nature[c],
        "dispositif": np.where(con.dispositif[c] == "", None, con.dispositif[c]),
        "numero": numero,
        "planned_end": np.where(con.planned_end[c] >= NEVER, None, con.planned_end[c]),
        "quotite": np.round(con.weekly[c] * 52 / 12 * 100).astype(np.int64),
        "modalite": np.where(con.weekly[c] < 35, "20", "10"),
        "idcc": eco.idcc[etab],
        "lieu": np.where(interim, eco.siret[user], eco.siret[etab]),
        "recours": np.where(con.recours[c] == "", None, con.recours[c]),
        "risque_at": np.where(interim, "745BA", "511AA"),
        "user_siret": np.where(interim, eco.siret[user], NULL),
        "user_etab": np.where(interim, user, -1),
        "chg41_date": np.where(chg41, chg41_date, NULL),
        "chg41_siret": np.where(transfer_now, prev_siret, NULL),
        "chg41_numero": np.where(numchg_now, plan.old_numero[c], NULL),
        "chg41_start": np.where(datecorr_now, plan.wrong_start[c], NULL),
        "abs_kind": rows.abs_kind,
        "abs_from": rows.abs_from,
        "abs_to": rows.abs_to,
        "end62_date": end62_date,
        "end62_motif": end62_motif,
        "brut": rows.brut,
        "ot_amount": ot_amount,
        "corr_amount": rows.corr_amount,
        "pas_rate": (hashrand.uniform(ctx.seed, "pas", person) * 1200).astype(np.int64),
        "pay_date": np.full(len(c), m1),
        "a": rows.a,
        "b": rows.b,
        "m0": np.full(len(c), m0),
        "m1": np.full(len(c), m1),
        "days": days_unit,
        "paid": rows.paid,
        "unpaid": rows.unpaid,
        "ot017": rows.ot017,
        "ot018": rows.ot018,
        "hourly": rows.hourly,
        "corr_a": rows.corr_a,
        "corr_b": rows.corr_b,
        "corr_hours": rows.corr_hours,
        "seniority": seniority,
    }
    df = pl.DataFrame(
        {
            k: (v.tolist() if isinstance(v, np.ndarray) and v.dtype == object else v)
            for k, v in cols.items()
        }
    )
    df = df.with_columns([pl.col(k).cast(pl.String) for k, t in df.schema.items() if t == pl.Null])
    date_cols = ["chg31_date", "start_decl", "planned_end", "chg41_date", "chg41_start"]
    df = _one_identity_per_person(df.with_columns([pl.col(k).cast(pl.Int64) for k in date_cols]))
    return df.with_columns(
        pl.when(pl.col("end62_motif").is_null())
        .then(None)
        .otherwise(pl.col("end62_date"))
        .alias("end62_date")
    )


# The payroll's employee number (30.019). Most payroll software keeps a person's number when
# the employer hires them again; about one employer in four numbers each hire anew (an
# assumption: no published figure). Keyed by company, so the other draws of a seed are unchanged.
RENUMBERING_EMPLOYERS = 0.25


def _matricule(
    ctx: MonthContext, etab: np.ndarray, person: np.ndarray, c: np.ndarray
) -> np.ndarray:
    company = ctx.eco.company[etab]
    renumbers = hashrand.uniform(ctx.seed, "matricule", company) < RENUMBERING_EMPLOYERS
    return np.where(
        renumbers, np.char.add("C", c.astype(str)), np.char.add("M", person.astype(str))
    ).astype(object)


# Without a block, a change is listed as the kind of change it is without one. NIR, name and
# birth date changed at once without a block (a person back under a whole new identity) have
# nothing in the declarations that links the two: a kind of their own.
_UNBLOCKED_LABELS = {
    **{k: PERSON_KINDS[v] for k, v in {1: 2, 2: 2, 3: 2, 4: 5, 5: 5, 7: 8, 8: 8}.items()},
    6: "several_fields_change_without_block",
}


def _log_identity_changes(
    ctx: MonthContext,
    month: dt.date,
    c: np.ndarray,
    person: np.ndarray,
    pkind: np.ndarray,
    before: np.ndarray,
    with_block: np.ndarray,
) -> None:
    """One anomaly per person, the first month its new identity follows a declared old one:
    with its change block, or without when none of its contracts carries one (a person whose
    only contract starts after the change is declared under the new identity, no block)."""
    plan = ctx.plan
    plan.seen_old[person[(pkind > 0) & before]] = True
    now = (pkind > 0) & ~before & plan.seen_old[person] & ~plan.person_done[person]
    persons, first = np.unique(person[now], return_index=True)
    if not len(persons):
        return
    rows = np.flatnonzero(now)[first]
    blocked = np.isin(persons, person[with_block])
    plan.person_done[persons] = True
    for kind in PERSON_KINDS:
        for has_block in (True, False):
            sel = rows[(pkind[rows] == kind) & (blocked == has_block)]
            label = PERSON_KINDS[kind] if has_block else _UNBLOCKED_LABELS[kind]
            ctx.truth.anomalies(
                label,
                month,
                c[sel],
                ctx.con,
                ctx.per,
                ctx.eco,
                "identité modifiée à partir de ce mois",
            )


# What S21.G00.30/31 say once per person and declaration, whichever of its contracts set them.
_IDENTITY = ["nir", "nom", "prenoms", "ddn", "chg31_date", "chg31_nir", "chg31_nom", "chg31_ddn"]
_IDENTITY.append("frag31_ddn")


def _one_identity_per_person(df: pl.DataFrame) -> pl.DataFrame:
    """A person's contracts in one declaration share one individual block (the renderer writes
    it once): its values are the first known of its rows in the renderer's order, so that the
    truth's declared identities and the DSNP3 export say what the files say (a NIR known from
    one contract is declared for all; a change block carried by any contract is declared)."""
    first = (
        df.select("decl", "person", "start_decl", "c", *_IDENTITY)
        .sort("decl", "person", "start_decl", "c")
        .group_by("decl", "person", maintain_order=True)
        .agg(pl.col(k).drop_nulls().first() for k in _IDENTITY)
    )
    return (
        df.drop(_IDENTITY)
        .join(first, on=["decl", "person"], how="left", maintain_order="left")
        .select(df.columns)
    )


def declarations(ctx: MonthContext, mi: int, month: dt.date, open_etab: np.ndarray) -> pl.DataFrame:
    eco = ctx.eco
    e = np.flatnonzero(open_etab)
    frac_n = eco.fractions[e]
    etab = np.repeat(e, frac_n)
    fraction = (
        np.concatenate([np.arange(1, k + 1) for k in frac_n])
        if len(e)
        else np.zeros(0, dtype=np.int64)
    )
    company = eco.company[etab]
    multi = eco.multi_envoi[company]
    com = eco.commune[etab]
    siege = np.searchsorted(eco.company, company, side="left")
    frac_text = np.where(frac_n.repeat(frac_n) == 2, np.char.add(fraction.astype(str), "2"), "11")
    date_fichier = _ddmmyyyy(np.full(len(etab), day(add_months(month, 1)) + 4))
    df = pl.DataFrame(
        {
            "etab": etab,
            "company": company,
            "file_group": np.where(multi, -1 - company, etab * 2 + fraction - 1),
            "file_kind": np.where(multi, "multi", "etab"),
            "decl": etab * 2 + fraction - 1,
            "type_decl": np.full(len(etab), "01"),
            "fraction": frac_text.astype(str),
            "rang": np.full(len(etab), "1"),
            "mois_declare": np.full(len(etab), month.strftime("01%m%Y")),
            "date_fichier": date_fichier.astype(str),
            "siren": eco.siren[company].astype(str),
            "nic_siege": eco.nic[siege].astype(str),
            "nic": eco.nic[etab].astype(str),
            "naf": eco.naf[etab].astype(str),
            "adresse": eco.street[etab].astype(str),
            "cp": ctx.com_cp[com].astype(str),
            "localite": ctx.com_name[com].astype(str),
            "commune": ctx.com_insee[com].astype(str),
            "idcc": eco.idcc[etab].astype(str),
            "siret": eco.siret[etab].astype(str),
        }
    )
    return df


def users(ctx: MonthContext, frame: pl.DataFrame) -> pl.DataFrame:
    eco = ctx.eco
    users = (
        frame.filter(pl.col("user_etab") >= 0)
        .select("file", "decl", "user_etab")
        .unique()
        .sort(["file", "decl", "user_etab"])
        .with_columns(pl.int_range(pl.len()).over(["file", "decl"]).alias("user_rank"))
    )
    u = users["user_etab"].to_numpy()
    com = eco.commune[u]
    return users.with_columns(
        pl.Series("user_siret", eco.siret[u].astype(str)),
        pl.Series("user_naf", eco.naf[u].astype(str)),
        pl.Series("user_adresse", eco.street[u].astype(str)),
        pl.Series("user_cp", ctx.com_cp[com].astype(str)),
        pl.Series("user_localite", ctx.com_name[com].astype(str)),
        pl.Series("user_commune", ctx.com_insee[com].astype(str)),
    )


# -- files -----------------------------------------------------------------------------------


def _ddmmyyyy(days: np.ndarray) -> np.ndarray:
    text = pl.Series(np.asarray(days, dtype=np.int64)).cast(pl.Date).dt.strftime("%d%m%Y")
    return text.to_numpy().astype(object)
