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

from datadsn.months import index as month_index
from datadsn.months import of_date

from . import envois, frames, hashrand, neodes, texts
from . import referentials as ref
from .careers import Contracts, Persons, build_contracts
from .dsnp3 import Dsnp3Writer
from .economy import Economy, build_economy
from .events import Plan, plan_events
from .noise import NoiseProfile, profile
from .payroll import MonthRows, calendar_split, month_rows
from .restructure import none, restructure, restructure_rates
from .truth import TruthWriter
from .workdays import WorkCalendar, add_months, day, month_end, parse_months

VERSION = "0.1.0"
BATCH_ROWS = 40_000  # contract rows rendered at once
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
    w0, w1 = day(first), day(last)
    moves, moves_rng = none(), None
    if restructure_rates(noise_profile) != (0.0,) * 4:
        # own stream: the profiles without restructurings keep every draw
        seeds = rng.bit_generator.seed_seq.spawn(1)  # type: ignore[attr-defined]
        moves_rng = np.random.default_rng(seeds[0])
        eco, moves = restructure(moves_rng, eco, w0, w1, *restructure_rates(noise_profile))
    con, per = build_contracts(rng, eco, first, last, moves, moves_rng)
    base = month_index(of_date(first)) - month_index("1970-01")  # numpy's month 0
    plan = plan_events(rng, con, per, eco, moves, noise_profile, w0, w1, base, len(month_list))
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
    ctx = MonthContext(
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


class MonthContext:
    """Everything the month loop reads (the economy, plans) and writes to (truth, files)."""

    def __init__(
        self,
        eco: Economy,
        con: Contracts,
        per: Persons,
        plan: Plan,
        cal: WorkCalendar,
        noise: NoiseProfile,
        seed: int,
        base: int,
        n_months: int,
        truth: TruthWriter,
        dsnp3: Dsnp3Writer | None,
        out: Path,
        result: SimulationResult,
    ) -> None:
        self.eco, self.con, self.per, self.plan, self.cal = eco, con, per, plan, cal
        self.noise, self.seed, self.base, self.n_months = noise, seed, base, n_months
        self.truth, self.dsnp3, self.out, self.result = truth, dsnp3, out, result
        self._late_groups: dict[int, int] = {}  # file group -> months after its month it is sent
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
        decls_all = frames.declarations(self, mi, month, open_etab)

        # Batches of whole envois bound the memory of one month, whatever the economy's size.
        groups = np.unique(decls_all["file_group"].to_numpy())
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

    def _run_batch(
        self,
        mi: int,
        month: dt.date,
        rows: MonthRows,
        etab: np.ndarray,
        person: np.ndarray,
        fraction: np.ndarray,
        file_group: np.ndarray,
        decls: pl.DataFrame,
    ) -> None:
        """Render, write and export one batch of whole envois."""
        frame = frames.contract_frame(self, mi, month, rows, etab, person, fraction, file_group)
        self.truth.add_identities(month, frame, self.eco.siret)
        files = decls.select("file_group", "file_kind", "company", "etab").unique(
            "file_group", keep="first"
        )
        # Dense file ids in a stable order.
        fid = decls.select("file_group").unique().sort("file_group").with_row_index("file")
        frame = frame.join(fid, on="file_group", how="left")
        decls = decls.join(fid, on="file_group", how="left")
        users = frames.users(self, frame)

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
        envois.write_envois(self, mi, month, files.sort("file"))
        if self.dsnp3 is not None:
            self.dsnp3.add_month(month, frame, decls, self._late_groups, self._dsnp3_first, users)
            self._dsnp3_first = False
