"""The simulation driver: economy, careers, then month by month NEODES, DSNP3 CSV and truth."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from . import hashrand, neodes, texts
from . import referentials as ref
from .careers import INTERIM, build_contracts
from .dsnp3 import Dsnp3Writer
from .economy import NEVER, build_economy
from .events import plan_events
from .noise import profile
from .payroll import calendar_split, month_rows
from .truth import TruthWriter
from .workdays import WorkCalendar, add_months, day, month_end, parse_months

VERSION = "0.1.0"
BATCH_ROWS = 40_000  # contract rows rendered at once
NULL = np.array(None, dtype=object)  # missing rubrique in object columns
Progress = Callable[[str, int, int], None]


@dataclass
class SimulationResult:
    out: Path
    files: int = 0
    bytes: int = 0
    lines: int = 0
    declarations: int = 0
    employee_months: int = 0
    seconds: float = 0.0
    employers: int = 0
    establishments: int = 0
    persons: int = 0
    contracts: int = 0
    anomalies: int = 0
    counts_by_month: dict[str, int] = field(default_factory=dict)


def _default_employers(employees: int) -> int:
    return max(1, round(employees / 7.5))


def simulate(
    out: Path,
    employers: int | None = None,
    employees: int | None = None,
    months: str = "2023-01..2024-12",
    seed: int = 0,
    noise: str = "default",
    progress: Progress | None = None,
    write_dsnp3: bool = True,
) -> SimulationResult:
    """Write a synthetic DSN economy under ``out`` and return what was produced."""
    t0 = time.perf_counter()
    noise_profile = profile(noise)
    month_list = parse_months(months)
    if employers is None and employees is None:
        employers = 300
    if (employers is not None and employers < 1) or (employees is not None and employees < 1):
        raise ValueError("le nombre d'employeurs et de salariés doit être positif")
    n_employers = employers if employers is not None else _default_employers(employees or 0)
    out = Path(out)
    for sub in ("dsn", "truth", "dsnp3"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda label, done, total: None)

    rng = np.random.default_rng(seed)
    first, last = month_list[0], month_end(month_list[-1])
    eco = build_economy(rng, n_employers, employees, first, last)
    con, per = build_contracts(rng, eco, first, last)
    w0, w1 = day(first), day(last)
    base = (first.year - 1970) * 12 + first.month - 1
    plan = plan_events(rng, con, per, eco, noise_profile, w0, w1, base, len(month_list))
    cal = WorkCalendar.build(add_months(first, -2), add_months(last, 2))
    result = SimulationResult(
        out=out,
        employers=n_employers,
        establishments=eco.n_etab,
        persons=len(per.nir),
        contracts=len(con),
    )
    truth = TruthWriter(out / "truth")
    dsnp3 = Dsnp3Writer(out / "dsnp3") if write_dsnp3 else None
    ctx = _Context(
        eco,
        con,
        per,
        plan,
        cal,
        noise_profile,
        seed,
        base,
        len(month_list),
        truth,
        dsnp3,
        out,
        result,
    )
    total = len(month_list)
    for mi, month in enumerate(month_list):
        report("Génération des déclarations mensuelles", mi, total)
        ctx.run_month(mi, month)
    ctx.writer.shutdown()
    report("Génération des déclarations mensuelles", total, total)
    report("Écriture de la vérité terrain", 0, 1)
    truth.finish(eco, con, per, plan, w1)
    if dsnp3 is not None:
        dsnp3.finish()
    result.anomalies = truth.anomaly_count
    result.seconds = time.perf_counter() - t0
    report("Écriture de la vérité terrain", 1, 1)
    manifest = {
        "version": VERSION,
        "norme": texts.NORM,
        "arguments": {
            "employers": employers,
            "employees": employees,
            "months": months,
            "seed": seed,
            "noise": noise,
            "write_dsnp3": write_dsnp3,
        },
        "counts": {k: v for k, v in asdict(result).items() if k not in ("out", "seconds")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return result


class _Context:
    def __init__(
        self, eco, con, per, plan, cal, noise, seed, base, n_months, truth, dsnp3, out, result
    ):
        self.eco, self.con, self.per, self.plan, self.cal = eco, con, per, plan, cal
        self.noise, self.seed, self.base, self.n_months = noise, seed, base, n_months
        self.truth, self.dsnp3, self.out, self.result = truth, dsnp3, out, result
        self._late_groups: set[int] = set()
        self._dsnp3_first = True
        self.writer = ThreadPoolExecutor(max_workers=4)
        jobs = ref.JOBS
        self.job_pcs = np.array([j[0] for j in jobs], dtype=object)
        self.job_label = np.array([j[1] for j in jobs], dtype=object)
        self.job_statut = np.array([j[2] for j in jobs], dtype=object)
        self.job_cadre = np.array([j[3] for j in jobs])
        com = ref.COMMUNES
        self.com_insee = np.array([c[0] for c in com], dtype=object)
        self.com_cp = np.array([c[1] for c in com], dtype=object)
        self.com_name = np.array([c[2] for c in com], dtype=object)
        self.com_dep = np.array([c[3][:2] for c in com], dtype=object)
        self.streets = np.array(ref.STREETS, dtype=object)
        self.etab_nic_siege = eco.nic[np.searchsorted(eco.company, eco.company, side="left")]

    # -- one month ---------------------------------------------------------------------------
    def run_month(self, mi: int, month: dt.date) -> None:
        eco, con, plan = self.eco, self.con, self.plan
        m0, m1 = day(month), day(month_end(month))
        open_etab = (eco.created <= m1) & (eco.closed >= m0)
        c = np.flatnonzero((con.start <= m1) & (con.end >= m0) & open_etab[con.etab])
        rows = month_rows(
            con,
            eco,
            self.cal,
            c,
            month,
            mi,
            self.n_months,
            self.seed,
            self.noise.negative_correction,
        )
        closing = plan.silent & (eco.closed >= m0) & (eco.closed <= m1)
        self.truth.etab_anomaly(
            "silent_closure",
            month,
            eco.siret[closing].astype(str).tolist(),
            "fermeture sans blocs de fin",
        )
        self.result.employee_months += len(c)
        self.result.counts_by_month[month.strftime("%Y-%m")] = len(c)

        etab = con.etab[c]
        person = con.person[c]
        company = eco.company[etab]
        fraction = np.where(
            eco.fractions[etab] == 2, 1 + (hashrand.uniform(self.seed, "fraction", person) < 0.5), 1
        )
        multi = eco.multi_envoi[company]
        file_group = np.where(multi, -1 - company, etab * 2 + fraction - 1)
        decls_all = self._declarations(mi, month, open_etab)

        # Batches of whole envois bound the memory of one month, whatever the economy's size.
        groups, first_decl = np.unique(decls_all["file_group"].to_numpy(), return_index=True)
        weight = np.searchsorted(np.sort(file_group), groups, side="right") - np.searchsorted(
            np.sort(file_group), groups, side="left"
        )
        batch_of_group = np.cumsum(weight + 5) // BATCH_ROWS
        row_batch = batch_of_group[np.searchsorted(groups, file_group)]
        decl_batch = batch_of_group[np.searchsorted(groups, decls_all["file_group"].to_numpy())]
        self._dsnp3_first = True
        for b in np.unique(batch_of_group):
            idx = np.flatnonzero(row_batch == b)
            sub = rows.take(idx)
            decls = decls_all.filter(pl.Series(decl_batch == b))
            self._run_batch(
                mi, month, sub, etab[idx], person[idx], fraction[idx], file_group[idx], decls
            )
            self.truth.add_month(month, sub, calendar_split(sub, self.cal))
        _ = first_decl

    def _run_batch(self, mi, month, rows, etab, person, fraction, file_group, decls) -> None:
        frame = self._contract_frame(mi, month, rows, etab, person, fraction, file_group)
        files = decls.select("file_group", "file_kind", "company", "etab").unique(
            "file_group", keep="first"
        )
        # Dense file ids in a stable order.
        fid = decls.select("file_group").unique().sort("file_group").with_row_index("file")
        frame = frame.join(fid, on="file_group", how="left")
        decls = decls.join(fid, on="file_group", how="left")
        users = self._users(frame)

        parts = (
            neodes.individual_parts(frame)
            + neodes.declaration_parts(decls)
            + neodes.user_parts(users)
        )
        bodies = neodes.assemble(parts)
        ndecl = decls.group_by("file").agg(pl.len().alias("ndecl"))
        files = (
            files.join(fid, on="file_group")
            .join(bodies, on="file", how="left")
            .join(ndecl, on="file")
        )
        self._write_files(mi, month, files.sort("file"))
        if self.dsnp3 is not None:
            self.dsnp3.add_month(month, frame, decls, self._late_groups, self._dsnp3_first, users)
            self._dsnp3_first = False

    def _contract_frame(self, mi, month, rows, etab, person, fraction, file_group) -> pl.DataFrame:
        eco, con, per, plan = self.eco, self.con, self.per, self.plan
        c = rows.c
        m0, m1 = day(month), day(month_end(month))
        kday = (
            (plan.person_mi[person] + self.base)
            .astype("datetime64[M]")
            .astype("datetime64[D]")
            .astype(np.int64)
        )
        pkind = plan.person_kind[person]
        before = mi < plan.person_mi[person]
        nom = np.where((pkind > 0) & (pkind <= 3) & before, plan.old_nom[person], per.nom[person])
        ddn_day = np.where((pkind == 3) & before, plan.old_ddn[person], per.birth[person])
        nir = np.where((pkind == 4) & before, plan.wrong_nir[person], per.nir[person])
        nir = np.where(mi < plan.nir_absent_until[c], None, nir)
        declare31 = (pkind > 0) & ~before & (con.start[c] < kday) & ~plan.done31[c]
        plan.done31[c[declare31]] = True
        with_block = declare31 & (pkind != 2)
        for kind_code, label in (
            (1, "identity_change_with_block"),
            (2, "identity_change_without_block"),
            (3, "fragmented_change"),
            (4, "nir_correction"),
        ):
            sel = declare31 & (pkind == kind_code)
            self.truth.anomalies(
                label, month, c[sel], con, per, eco, "identité modifiée à partir de ce mois"
            )
        chg31_date = np.where(with_block, kday, NULL)
        chg31_nir = np.where(with_block & (pkind == 4), plan.wrong_nir[person], NULL)
        chg31_nom = np.where(with_block & ((pkind == 1) | (pkind == 3)), plan.old_nom[person], NULL)
        frag31_ddn = np.where(with_block & (pkind == 3), _ddmmyyyy(plan.old_ddn[person]), NULL)

        numero = np.where(mi < plan.numchg_mi[c], plan.old_numero[c], con.numero[c])
        start_decl = np.where(mi < plan.datecorr_mi[c], plan.wrong_start[c], con.declared_start[c])
        numchg_now = plan.numchg_mi[c] == mi
        datecorr_now = plan.datecorr_mi[c] == mi
        transfer_now = (con.previous[c] >= 0) & (con.start[c] >= m0) & (con.start[c] <= m1)
        chg41 = numchg_now | datecorr_now | transfer_now
        chg41_date = np.where(numchg_now, m0, np.where(datecorr_now, con.start[c], con.start[c]))
        prev_siret = eco.siret[con.etab[np.maximum(con.previous[c], 0)]]
        self.truth.anomalies(
            "contract_number_change",
            month,
            c[numchg_now],
            con,
            per,
            eco,
            "ancien numéro déclaré en S21.G00.41.014",
        )
        self.truth.anomalies(
            "start_date_correction",
            month,
            c[datecorr_now],
            con,
            per,
            eco,
            "ancienne date de début en S21.G00.41.021",
        )
        self.truth.anomalies(
            "employer_change",
            month,
            c[transfer_now],
            con,
            per,
            eco,
            "ancien SIRET en S21.G00.41.012",
        )
        nir_back = plan.nir_absent_until[c] == mi
        self.truth.anomalies(
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
        self.truth.anomalies(
            "forgotten_end",
            month,
            c[forgotten],
            con,
            per,
            eco,
            "fin de contrat sans bloc S21.G00.62",
        )
        fake = plan.cancel_mi[c] == mi
        cancel = (plan.cancel_mi[c] >= 0) & (plan.cancel_mi[c] == mi - 1)
        self.truth.anomalies(
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
        self.truth.anomalies(
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
        user = np.maximum(con.user_etab[c], 0)
        seniority = np.maximum(0, (m1 - con.declared_start[c]) // 30)
        # Home address and commune derived from the person id (stable over months).
        commune = (person * 7919) % len(self.com_name)
        street = (
            (person % 97 + 1).astype(str).astype(object)
            + ", "
            + self.streets[person % len(self.streets)]
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
            "lieu_naissance": self.com_name[per.birth_commune[person]],
            "dep_naissance": self.com_dep[per.birth_commune[person]],
            "adresse": street,
            "cp": self.com_cp[commune],
            "localite": self.com_name[commune],
            "matricule": np.char.add("M", person.astype(str)).astype(object),
            "chg31_date": chg31_date,
            "chg31_nir": chg31_nir,
            "chg31_nom": chg31_nom,
            "frag31_ddn": frag31_ddn,
            "start_decl": start_decl,
            "statut": np.where(interim, "07", self.job_statut[job]),
            "statut_rc": np.where(self.job_cadre[job], "01", "04"),
            "pcs": self.job_pcs[job],
            "libelle": self.job_label[job],
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
            "pas_rate": (hashrand.uniform(self.seed, "pas", person) * 1200).astype(np.int64),
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
        df = df.with_columns(
            [pl.col(k).cast(pl.String) for k, t in df.schema.items() if t == pl.Null]
        )
        date_cols = ["chg31_date", "start_decl", "planned_end", "chg41_date", "chg41_start"]
        return df.with_columns([pl.col(k).cast(pl.Int64) for k in date_cols]).with_columns(
            pl.when(pl.col("end62_motif").is_null())
            .then(None)
            .otherwise(pl.col("end62_date"))
            .alias("end62_date")
        )

    def _declarations(self, mi: int, month: dt.date, open_etab: np.ndarray) -> pl.DataFrame:
        eco = self.eco
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
        frac_text = np.where(
            frac_n.repeat(frac_n) == 2, np.char.add(fraction.astype(str), "2"), "11"
        )
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
                "cp": self.com_cp[com].astype(str),
                "localite": self.com_name[com].astype(str),
                "commune": self.com_insee[com].astype(str),
                "idcc": eco.idcc[etab].astype(str),
                "siret": eco.siret[etab].astype(str),
            }
        )
        return df

    def _users(self, frame: pl.DataFrame) -> pl.DataFrame:
        eco = self.eco
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
            pl.Series("user_cp", self.com_cp[com].astype(str)),
            pl.Series("user_localite", self.com_name[com].astype(str)),
            pl.Series("user_commune", self.com_insee[com].astype(str)),
        )

    # -- files -----------------------------------------------------------------------------------

    def _write_files(self, mi: int, month: dt.date, files: pl.DataFrame) -> None:
        eco, noise, seed = self.eco, self.noise, self.seed
        tag = month.strftime("%Y%m")
        here = self.out / "dsn" / month.strftime("%Y-%m")
        later = self.out / "dsn" / add_months(month, 1).strftime("%Y-%m")
        groups = files["file_group"].to_numpy()
        key = groups + 2**40
        late = (hashrand.uniform(seed, "late", key, mi) < noise.late_declaration) & (
            mi < self.n_months - 1
        )
        replace = (hashrand.uniform(seed, "replace", key, mi) < noise.cancel_and_replace) & ~late
        dup = (
            (hashrand.uniform(seed, "duplicate", key, mi) < noise.duplicate_declaration)
            & ~late
            & ~replace
        )
        crlf = hashrand.uniform(seed, "crlf", key, mi) < 0.10
        self._late_groups = set(groups[late].tolist())
        u_mal, u_unk = texts.defect_draws(key, mi, seed)
        here.mkdir(parents=True, exist_ok=True)
        if late.any():
            later.mkdir(parents=True, exist_ok=True)
        pending: list[tuple[Path, bytes]] = []
        for i, row in enumerate(files.iter_rows(named=True)):
            company = int(row["company"])
            siren = str(eco.siren[company])
            siege = int(np.searchsorted(eco.company, company, side="left"))
            com = int(eco.commune[siege])
            header = texts.envoi_header(
                siren,
                str(eco.nic[siege]),
                str(eco.company_name[company]),
                str(eco.street[siege]),
                str(self.com_cp[com]),
                str(self.com_name[com]),
            )
            if row["file_kind"] == "multi":
                name = f"{siren}_multi_{tag}"
                siret = None
            else:
                etab = int(row["etab"])
                name = f"{eco.siret[etab]}_{tag}_{int(row['file_group']) % 2 + 1}"
                siret = str(eco.siret[etab])
            text = texts.envoi_text(
                header, row["text"] or "", int(row["n"] or 0), int(row["ndecl"])
            )
            folder = later if late[i] else here
            rel = f"dsn/{folder.name}/{name}.dsn"
            text, defects = texts.inject_line_defects(
                text, int(key[i]), mi, seed, noise, float(u_mal[i]), float(u_unk[i])
            )
            for d in defects:
                self.truth.line_anomaly(d.kind, month, rel, d.line, d.rubrique, siret, d.detail)
            if late[i]:
                self.truth.file_anomaly(
                    "late_declaration", month, rel, siret, "envoyée avec le mois suivant"
                )
            outputs = [(rel, text)]
            if replace[i]:
                outputs = [(rel, texts.inflate_amounts(text))]
                fixed = text.replace("S20.G00.05.002,'01'", "S20.G00.05.002,'03'").replace(
                    "S20.G00.05.004,'1'", "S20.G00.05.004,'2'"
                )
                rel_ar = f"dsn/{folder.name}/{name}_ar.dsn"
                outputs.append((rel_ar, fixed))
                self.truth.file_anomaly(
                    "cancel_and_replace", month, rel_ar, siret, f"remplace {rel}"
                )
                # Line defects of the original are repeated in the replacement.
                for d in defects:
                    self.truth.line_anomaly(
                        d.kind, month, rel_ar, d.line, d.rubrique, siret, d.detail
                    )
            if dup[i]:
                rel_dup = f"dsn/{folder.name}/{name}_doublon.dsn"
                outputs.append((rel_dup, text))
                self.truth.file_anomaly(
                    "duplicate_declaration", month, rel_dup, siret, f"copie de {rel}"
                )
                for d in defects:
                    self.truth.line_anomaly(
                        d.kind, month, rel_dup, d.line, d.rubrique, siret, d.detail
                    )
            for path, content in outputs:
                if crlf[i]:
                    content = content.replace("\n", "\r\n")
                data = content.encode("latin-1")
                pending.append((self.out / path, data))
                self.result.files += 1
                self.result.bytes += len(data)
                self.result.lines += content.count("\n")
                self.result.declarations += int(row["ndecl"])
        # File creation dominates on slow file systems; threads overlap it (order-independent).
        list(self.writer.map(lambda item: item[0].write_bytes(item[1]), pending))


def _ddmmyyyy(days: np.ndarray) -> np.ndarray:
    text = pl.Series(np.asarray(days, dtype=np.int64)).cast(pl.Date).dt.strftime("%d%m%Y")
    return text.to_numpy().astype(object)
