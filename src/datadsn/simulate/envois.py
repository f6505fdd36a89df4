"""Writing one batch of envois: header, total, file-level defects, encoding and paths."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from . import hashrand, texts
from .workdays import add_months

if TYPE_CHECKING:
    from .runner import MonthContext

VERY_LATE = 4  # months after its own month a very late declaration is sent


def write_envois(ctx: MonthContext, mi: int, month: dt.date, files: pl.DataFrame) -> None:
    eco, noise, seed = ctx.eco, ctx.noise, ctx.seed
    tag = month.strftime("%Y%m")
    here = ctx.out / "dsn" / month.strftime("%Y-%m")
    later = ctx.out / "dsn" / add_months(month, 1).strftime("%Y-%m")
    much_later = ctx.out / "dsn" / add_months(month, VERY_LATE).strftime("%Y-%m")
    groups = files["file_group"].to_numpy()
    key = groups + 2**40
    late = (hashrand.uniform(seed, "late", key, mi) < noise.late_declaration) & (
        mi < ctx.n_months - 1
    )
    very_late = (
        (hashrand.uniform(seed, "very-late", key, mi) < noise.very_late_declaration)
        & ~late
        & (mi < ctx.n_months - VERY_LATE)
    )
    replace = (hashrand.uniform(seed, "replace", key, mi) < noise.cancel_and_replace) & ~late
    cascade = (
        (hashrand.uniform(seed, "cascade", key, mi) < noise.cancel_and_replace_cascade)
        & ~late
        & ~very_late
        & ~replace
    )
    dup = (
        (hashrand.uniform(seed, "duplicate", key, mi) < noise.duplicate_declaration)
        & ~late
        & ~replace
        & ~cascade
    )
    crlf = hashrand.uniform(seed, "crlf", key, mi) < 0.10
    # sending delay in months of the late envois, for the DSNP3 export's load-date window
    ctx._late_groups = {int(g): 1 for g in groups[late]} | {
        int(g): VERY_LATE for g in groups[very_late]
    }
    u_mal, u_unk = texts.defect_draws(key, mi, seed)
    here.mkdir(parents=True, exist_ok=True)
    if late.any():
        later.mkdir(parents=True, exist_ok=True)
    if very_late.any():
        much_later.mkdir(parents=True, exist_ok=True)
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
            str(ctx.com_cp[com]),
            str(ctx.com_name[com]),
        )
        if row["file_kind"] == "multi":
            name = f"{siren}_multi_{tag}"
            siret = None
        else:
            etab = int(row["etab"])
            name = f"{eco.siret[etab]}_{tag}_{int(row['file_group']) % 2 + 1}"
            siret = str(eco.siret[etab])
        text = texts.envoi_text(header, row["text"] or "", int(row["n"] or 0), int(row["ndecl"]))
        folder = later if late[i] else much_later if very_late[i] else here
        rel = f"dsn/{folder.name}/{name}.dsn"
        text, defects = texts.inject_line_defects(
            text, int(key[i]), mi, seed, noise, float(u_mal[i]), float(u_unk[i])
        )
        for d in defects:
            ctx.truth.line_anomaly(d.kind, month, rel, d.line, d.rubrique, siret, d.detail)
        if late[i]:
            ctx.truth.file_anomaly(
                "late_declaration", month, rel, siret, "envoyée avec le mois suivant"
            )
        if very_late[i]:
            ctx.truth.file_anomaly(
                "very_late_declaration", month, rel, siret, f"envoyée {VERY_LATE} mois après"
            )
        outputs = [(rel, text)]
        if replace[i]:
            outputs = [(rel, texts.inflate_amounts(text))]
            fixed = text.replace("S20.G00.05.002,'01'", "S20.G00.05.002,'03'").replace(
                "S20.G00.05.004,'1'", "S20.G00.05.004,'2'"
            )
            rel_ar = f"dsn/{folder.name}/{name}_ar.dsn"
            outputs.append((rel_ar, fixed))
            ctx.truth.file_anomaly("cancel_and_replace", month, rel_ar, siret, f"remplace {rel}")
            # Line defects of the original are repeated in the replacement.
            for d in defects:
                ctx.truth.line_anomaly(d.kind, month, rel_ar, d.line, d.rubrique, siret, d.detail)
        if cascade[i]:
            # a first replacement still wrong, then a second one that is right
            outputs = [(rel, texts.inflate_amounts(text))]
            for order, body in ((2, texts.inflate_amounts(text)), (3, text)):
                fixed = body.replace("S20.G00.05.002,'01'", "S20.G00.05.002,'03'").replace(
                    "S20.G00.05.004,'1'", f"S20.G00.05.004,'{order}'"
                )
                outputs.append((f"dsn/{folder.name}/{name}_ar{order}.dsn", fixed))
            ctx.truth.file_anomaly(
                "cancel_and_replace_cascade",
                month,
                outputs[-1][0],
                siret,
                f"remplace {rel} deux fois",
            )
            for path, _ in outputs[1:]:
                for d in defects:
                    ctx.truth.line_anomaly(d.kind, month, path, d.line, d.rubrique, siret, d.detail)
        if dup[i]:
            rel_dup = f"dsn/{folder.name}/{name}_doublon.dsn"
            outputs.append((rel_dup, text))
            ctx.truth.file_anomaly(
                "duplicate_declaration", month, rel_dup, siret, f"copie de {rel}"
            )
            for d in defects:
                ctx.truth.line_anomaly(d.kind, month, rel_dup, d.line, d.rubrique, siret, d.detail)
        for path, content in outputs:
            if crlf[i]:
                content = content.replace("\n", "\r\n")
            data = content.encode("latin-1")
            pending.append((ctx.out / path, data))
            ctx.result.files += 1
            ctx.result.bytes += len(data)
            ctx.result.lines += content.count("\n")
            ctx.result.declarations += int(row["ndecl"])
    # File creation dominates on slow file systems; threads overlap it (order-independent).
    list(ctx.writer.map(lambda item: item[0].write_bytes(item[1]), pending))
