"""The public sample files of the shared corpus: counts from SOURCES.md, clear rejections."""

from __future__ import annotations

import polars as pl
import pytest

from datadsn.ingest.parser import parse_dsn_bytes


def parse(samples, name, secret):
    return parse_dsn_bytes((samples / name).read_bytes(), name, secret)


def rows(batch, table: str) -> int:
    return batch.tables[table].num_rows if table in batch.tables else 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "lipphi-dsn-anonymization__example2_ADP_P03V01_anonymized.txt",
            {
                "declaration": 1,
                "etablissement": 1,
                "individu": 231,
                "contrat": 332,
                "contrat_changement": 8,
                "contrat_fin": 151,
                "anciennete": 332,
                "penibilite": 7,
                "activite": 1345,
            },
        ),
        (
            "jikenlabs-open-neodes__sample_dsn_P25V01.dsn",
            {"declaration": 3, "etablissement": 3, "individu": 3, "contrat": 3},
        ),
    ],
)
def test_conforming_samples_give_the_documented_counts(samples, secret, name, expected):
    batch = parse(samples, name, secret)
    assert {t: rows(batch, t) for t in expected} == expected
    assert batch.lines_read == batch.lines_stored + batch.lines_rejected
    assert batch.declarations_rejected == 0


def test_two_establishments_in_one_declaration_reject_it_at_the_second_one(samples, secret):
    """SOURCES.md: two S21.G00.11 under one S20.G00.05/S21.G00.06 violate the norm (one
    establishment per declaration). Kept, each employee would belong to both establishments,
    and the consolidation multiplied the rows at every step until the disk was full."""
    name = "drolow-dsn-analyzer__exemple_P24V01.dsn"
    batch = parse(samples, name, secret)
    rejected = batch.rejections.filter(pl.col("code") == "ETABLISSEMENT_MULTIPLE")
    assert rejected.select("ligne", "rubrique").rows() == [(105, "S21.G00.11.001")]
    assert batch.declarations_rejected == 1 and rows(batch, "individu") == 0
    assert batch.lines_read == batch.lines_stored + batch.lines_rejected


def test_adp_sample_is_latin1_and_keeps_apostrophes(samples, secret):
    batch = parse(samples, "lipphi-dsn-anonymization__example2_ADP_P03V01_anonymized.txt", secret)
    assert batch.encodings == {"iso-8859-1": 1}
    jobs = pl.from_arrow(batch.tables["contrat"])["libelle_emploi"]  # type: ignore[index]
    assert "TECHNICIEN D'ENTRETIEN" in jobs.to_list()
    # The P03V01 norm maps to the nearest shipped catalogue, and says so.
    assert "NORME_APPROCHEE" in batch.rejections["code"].to_list()


def test_lot_envelope_of_the_concentrator_is_kept(samples, secret):
    batch = parse(samples, "jikenlabs-open-neodes__sample_dsn_P25V01.dsn", secret)
    envelope = pl.from_arrow(batch.tables["enveloppe"])["rubrique"]  # type: ignore[index]
    assert envelope.str.starts_with("S05.").sum() == 6
    assert envelope.str.starts_with("S10.G00.95").sum() > 0


NONCONFORMING = [
    "clementrog-dsnreader__multi_establishment_NONCONFORMING.dsn",
    "clementrog-dsnreader__single_establishment_NONCONFORMING.dsn",
    "clementrog-dsnreader__with_absences_NONCONFORMING.dsn",
    "drolow-dsn-analyzer__exemple_early_variant_NONCONFORMING.dsn",
    "neobloblo-opendsn__example_UNQUOTED_NONCONFORMING.dsn",
    "psalnot-meetkiosk__valid-dsn_FAKER_NONCONFORMING.txt",
    "pypi-dsn-tools-0.1.2__tests_test_example_NONCONFORMING.dsn",
]


@pytest.mark.parametrize("name", NONCONFORMING)
def test_malformed_samples_give_clear_rejections(samples, secret, name):
    batch = parse(samples, name, secret)
    assert batch.lines_read == batch.lines_stored + batch.lines_rejected
    rejected = batch.rejections.filter(pl.col("rejet"))
    assert rejected.height > 0
    assert (rejected["fichier"] == name).all()
    assert rejected["message"].str.len_chars().min() > 5  # type: ignore[operator]
    line_level = rejected.filter(pl.col("niveau") == "ligne")
    assert line_level["ligne"].null_count() == 0


def test_every_sample_line_is_accounted_for(samples, secret):
    for path in sorted(samples.iterdir()):
        batch = parse_dsn_bytes(path.read_bytes(), path.name, secret)
        n_lines = len(path.read_bytes().rstrip(b"\n").split(b"\n"))
        assert batch.lines_read == n_lines, path.name
        assert batch.lines_stored + batch.lines_rejected == n_lines, path.name
