"""Property tests: valid declarations round-trip; corruptions never crash nor lose a line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from datadsn.ingest.parser import parse_dsn_bytes
from datadsn.ingest.pseudonymize import Secret
from datadsn.norm import load_norm
from tests import dsn_builder as b

SECRET = Secret(b"property-secret-at-least-32-bytes", demo=False)
# Printable ISO-8859-1 text with the characters that break naive parsers: ' , and accents.
TEXT = st.text(
    alphabet=st.sampled_from(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ',-éèàçÉÈÔ")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s != "")
DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))
AMOUNTS = st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2)
CONTRACT_NUMBERS = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=5, max_size=20)

contract = st.fixed_dictionaries(
    {
        "libelle": TEXT,
        "debut": DATES,
        "numero": CONTRACT_NUMBERS,
        "montant": AMOUNTS,
        "nature": st.sampled_from(["01", "02", "03", "29"]),
    }
)


def stored_values(batch) -> int:
    """Values present in the tables: one per stored line (a pseudonym stands for its value)."""
    norm = load_norm("P26V01")
    tables = {b.table: b.id for b in norm.blocks.values()}
    count = 0
    for name, table in batch.tables.items():
        if name == "enveloppe":
            count += table.num_rows
            continue
        for r in norm.block_rubriques(tables[name]):
            column = r.column if r.column in table.column_names else f"{r.column}_pseudo"
            count += table.num_rows - table.column(column).null_count
    return count


def individu(c: dict) -> list[b.Line]:
    lines = b.salarie(numero=c["numero"], debut=c["debut"].strftime("%d%m%Y"), nature=c["nature"])
    replace = {"S21.G00.40.006": c["libelle"], "S21.G00.51.013": f"{c['montant']:.2f}"}
    return [(r, replace.get(r, v)) for r, v in lines]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contracts=st.lists(contract, min_size=1, max_size=6), crlf=st.booleans(), utf8=st.booleans())
def test_valid_declarations_round_trip(contracts, crlf, utf8):
    lines = b.envoi(b.declaration(individus=[individu(c) for c in contracts]))
    data = b.render(lines, eol="\r\n" if crlf else "\n", encoding="utf-8" if utf8 else "latin-1")
    batch = parse_dsn_bytes(data, "p.dsn", SECRET)
    assert batch.lines_rejected == 0, batch.rejections.to_dicts()
    assert batch.lines_read == batch.lines_stored == len(lines) == stored_values(batch)
    table = pl.from_arrow(batch.tables["contrat"])
    assert table["libelle_emploi"].to_list() == [c["libelle"] for c in contracts]
    assert table["numero_contrat"].to_list() == [c["numero"] for c in contracts]
    assert table["date_debut"].to_list() == [c["debut"] for c in contracts]
    assert table["nature_contrat"].to_list() == [c["nature"] for c in contracts]
    pay = pl.from_arrow(batch.tables["remuneration"])["montant"].to_list()
    assert pay == [c["montant"] for c in contracts]


def _corrupt(lines: list[bytes], ops: list[tuple[str, int, int]]) -> list[bytes]:
    out = list(lines)
    for op, i, j in ops:
        if not out:
            break
        i %= len(out)
        if op == "delete":
            del out[i]
        elif op == "duplicate":
            out.insert(i, out[i])
        elif op == "swap":
            j %= len(out)
            out[i], out[j] = out[j], out[i]
        elif op == "truncate":
            out = out[:i]
        elif op == "cut_line":
            out[i] = out[i][: j % (len(out[i]) + 1)]
        elif op == "flip_byte" and out[i]:
            k = j % len(out[i])
            out[i] = out[i][:k] + bytes([(out[i][k] + 1 + j) % 256]) + out[i][k + 1 :]
        elif op == "garbage":
            out.insert(i, bytes([j % 256]) * (j % 7 + 1))
    return out


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["delete", "duplicate", "swap", "truncate", "cut_line", "flip_byte", "garbage"]
        ),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, n_individus=st.integers(1, 4))
# a digit flipped into a lone CR, which ends a line as LF does (found by this test)
@example(ops=[("duplicate", 0, 0), ("flip_byte", 10_000, 211)], n_individus=4)
def test_corruptions_never_crash_nor_lose_a_line(ops, n_individus):
    decl = b.declaration(individus=[b.salarie(numero=f"C{i:04d}") for i in range(n_individus)])
    lines = b.render(b.envoi(decl, decl)).split(b"\n")[:-1]
    corrupted = _corrupt(lines, ops)
    data = b"\n".join(corrupted) + (b"\n" if corrupted else b"")
    batch = parse_dsn_bytes(data, "c.dsn", SECRET)
    # Every physical line is counted (a byte flipped into a line end splits its line in two):
    # a line ends at LF, CRLF or a lone CR (old Mac files).
    assert batch.lines_read == data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n")
    assert batch.lines_read == batch.lines_stored + batch.lines_rejected
    assert stored_values(batch) == batch.lines_stored
    rejected = batch.rejections.filter(pl.col("rejet"))
    assert rejected["lignes"].sum() == batch.lines_rejected
    assert rejected["message"].null_count() == 0
