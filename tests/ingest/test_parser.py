"""The parser on small hand-made declarations: values, hierarchy, lineage, rejections."""

from __future__ import annotations

import polars as pl
import pytest

from datadsn.ingest.lines import Source
from datadsn.ingest.parser import parse_batch, parse_dsn_bytes
from datadsn.ingest.pseudonymize import pseudonym
from tests import dsn_builder as b


def table(batch, name: str) -> pl.DataFrame:
    return pl.from_arrow(batch.tables[name])  # type: ignore[return-value]


def codes(batch) -> list[str]:
    return sorted(batch.rejections["code"].to_list())


def reconciled(batch) -> bool:
    return batch.lines_read == batch.lines_stored + batch.lines_rejected


def test_values_keep_inner_apostrophes_commas_and_accents(secret):
    data = b.render(b.envoi(b.declaration()))
    batch = parse_dsn_bytes(data, "a.dsn", secret)
    assert codes(batch) == []
    assert batch.lines_rejected == 0 and reconciled(batch)
    contrat = table(batch, "contrat")
    assert contrat["libelle_emploi"].to_list() == ["TECHNICIEN D'ENTRETIEN"]
    etab = table(batch, "etablissement")
    assert etab["numero_extension_nature_libelle_voie"].to_list() == ["12, RUE DE L'ÉGLISE"]


def test_latin1_and_utf8_crlf_give_the_same_tables(secret):
    lines = b.envoi(b.declaration())
    latin = parse_dsn_bytes(b.render(lines), "x.dsn", secret)
    utf8 = parse_dsn_bytes(b.render(lines, eol="\r\n", encoding="utf-8"), "x.dsn", secret)
    assert latin.encodings == {"iso-8859-1": 1} and utf8.encodings == {"utf-8": 1}
    for name in latin.tables:
        assert latin.tables[name].equals(utf8.tables[name]), name


def test_types_from_the_catalogue(secret):
    batch = parse_dsn_bytes(b.render(b.envoi(b.declaration())), "x.dsn", secret)
    contrat = table(batch, "contrat")
    assert contrat.schema["date_debut"] == pl.Date
    assert contrat.schema["quotite_contrat"] == pl.Decimal(18, 2)
    assert contrat["nature_contrat"].to_list() == ["01"]  # a code keeps its leading zero
    decl = table(batch, "declaration")
    assert decl["mois_declaration"].to_list() == ["2024-01"]
    assert str(decl["mois_declare"][0]) == "2024-01-01"


def test_lineage_links_children_to_parents(secret):
    decl = b.declaration(individus=[b.salarie(), b.salarie(nir="2900175123456", numero="C0002")])
    batch = parse_dsn_bytes(b.render(b.envoi(decl)), "f.dsn", secret)
    individu = table(batch, "individu")
    contrat = table(batch, "contrat")
    activite = table(batch, "activite")
    assert individu.height == 2 and contrat.height == 2 and activite.height == 2
    joined = contrat.join(individu, left_on="individu_ligne", right_on="ligne")
    assert joined.height == 2
    assert set(activite["remuneration_ligne"]) <= set(table(batch, "remuneration")["ligne"])
    assert set(contrat["declaration_ligne"]) == set(table(batch, "declaration")["ligne"])
    assert (contrat["fichier"] == "f.dsn").all()


def test_repeated_blocks_start_new_instances_even_without_first_rubrique(secret):
    person = b.salarie()
    # A second individual whose NIR is absent (30.001 is conditional): 30.002 <= 30.004 of before.
    second = [line for line in b.salarie(numero="C0009") if line[0] != "S21.G00.30.001"]
    batch = parse_dsn_bytes(
        b.render(b.envoi(b.declaration(individus=[person, second]))), "f", secret
    )
    assert table(batch, "individu").height == 2


def test_personal_data_never_leaves_in_clear(secret):
    batch = parse_dsn_bytes(b.render(b.envoi(b.declaration())), "f.dsn", secret)
    individu = table(batch, "individu")
    assert "nir" not in individu.columns and "nom_famille" not in individu.columns
    assert individu["nir_pseudo"][0] == pseudonym(secret, "nir", "1850575123456")
    assert individu["nom_famille_pseudo"][0] == pseudonym(secret, "nom", "d'almeida")
    assert individu["annee_date_naissance"][0] == 1985
    assert individu["mois_date_naissance"][0] == 5
    assert individu["departement_residence"][0] == "93"
    text = " ".join(str(v) for t in batch.tables.values() for v in t.to_pylist())
    for clear in ("1850575123456", "ALMEIDA", "JOSÉ", "12051985", "LILAS", "DUPONT", "marie"):
        assert clear not in text


def test_pseudonyms_normalise_before_hashing(secret):
    assert pseudonym(secret, "nom", " José  d'Almeida ") == pseudonym(
        secret, "nom", "JOSE D'ALMEIDA"
    )
    assert pseudonym(secret, "nom", "JOSE") != pseudonym(secret, "prenoms", "JOSE")


def test_several_declarations_in_one_envoi(secret):
    lines = b.envoi(b.declaration(nic="00012"), b.declaration(nic="00020"))
    batch = parse_dsn_bytes(b.render(lines), "multi.dsn", secret)
    assert batch.declarations == 2 and batch.lines_rejected == 0
    assert table(batch, "etablissement")["nic"].to_list() == ["00012", "00020"]


@pytest.mark.parametrize(
    ("rubrique", "value", "code"),
    [
        ("S21.G00.40.001", "31022024", "DATE_INVALIDE"),
        ("S21.G00.40.007", "77", "CODE_INCONNU"),
        ("S21.G00.40.013", "12a.00", "FORMAT_INVALIDE"),
        ("S21.G00.40.009", "C1", "LONGUEUR_INVALIDE"),
    ],
)
def test_bad_value_rejects_the_line_only(secret, rubrique, value, code):
    lines = [(r, value if r == rubrique else v) for r, v in b.envoi(b.declaration())]
    batch = parse_dsn_bytes(b.render(lines), "bad.dsn", secret)
    rej = batch.rejections.filter(pl.col("rejet"))
    assert rej["code"].to_list() == [code]
    assert rej["rubrique"].to_list() == [rubrique]
    line_no = [r for r, _ in lines].index(rubrique) + 1
    assert rej["ligne"].to_list() == [line_no] and rej["fichier"].to_list() == ["bad.dsn"]
    assert rej["message"][0]  # a French sentence
    assert batch.lines_rejected == 1 and reconciled(batch)
    contrat = table(batch, "contrat")
    assert contrat.height == 1  # the contract row stays, with a null value
    column = {"S21.G00.40.001": "date_debut", "S21.G00.40.007": "nature_contrat"}.get(rubrique)
    if column:
        assert contrat[column].to_list() == [None]


def test_malformed_and_unknown_lines_are_rejected_and_the_rest_kept(secret):
    lines = b.envoi(b.declaration())
    text = b.render(lines).decode("latin-1").split("\n")
    text.insert(20, "GARBAGE LINE")
    text.insert(25, "S21.G00.99.001,'x'")
    text.insert(30, "S21.G00.30.002,'UNCLOSED")
    batch = parse_dsn_bytes("\n".join(text).encode("latin-1"), "m.dsn", secret)
    # Three lines more than the sender's total: the total is said to be off, as a warning.
    assert codes(batch) == [
        "APOSTROPHE_MANQUANTE",
        "LIGNE_MALFORMEE",
        "RUBRIQUE_INCONNUE",
        "TOTAL_INCOHERENT",
    ]
    rejected = batch.rejections.filter(pl.col("rejet"))
    assert sorted(rejected["ligne"].to_list()) == [21, 26, 31]
    assert batch.lines_rejected == 3 and reconciled(batch)
    assert table(batch, "contrat").height == 1


def test_structural_problem_rejects_only_its_declaration(secret):
    good = b.declaration(nic="00012")
    broken = b.declaration(nic="00020")
    # A second contract after the pay blocks of its individual: out of the norm's order.
    broken += [("S21.G00.40.001", "01012024"), ("S21.G00.40.007", "02")]
    batch = parse_dsn_bytes(b.render(b.envoi(good, broken)), "s.dsn", secret)
    rej = batch.rejections.filter(pl.col("rejet"))
    assert rej["code"].to_list() == ["BLOC_HORS_ORDRE"]
    assert rej["niveau"].to_list() == ["declaration"]
    assert rej["lignes"][0] == len(broken)
    assert table(batch, "etablissement")["nic"].to_list() == ["00012"]
    assert batch.declarations == 2 and batch.declarations_rejected == 1
    assert reconciled(batch)


def test_missing_establishment_rejects_the_declaration(secret):
    decl = [line for line in b.declaration() if not line[0].startswith("S21.G00.11")]
    batch = parse_dsn_bytes(b.render(b.envoi(decl)), "s.dsn", secret)
    assert "DECLARATION_INCOMPLETE" in codes(batch) or "BLOC_ORPHELIN" in codes(batch)
    assert "individu" not in batch.tables and reconciled(batch)


def test_a_declaration_with_two_establishments_is_rejected_at_the_repeated_block(secret):
    """One declaration, one establishment (the norm): with two, every employee would belong to
    both, and the consolidation joined each row to each establishment again at every step (a
    public sample made 201 million rows of three contracts)."""
    decl = b.declaration(nic="00012")
    block = [line for line in decl if line[0].startswith("S21.G00.11")]
    second = [("S21.G00.11.001", "00020"), *block[1:]]
    at = max(i for i, line in enumerate(decl) if line[0].startswith("S21.G00.11")) + 1
    lines = b.envoi(decl[:at] + second + decl[at:], b.declaration(nic="00030"))
    batch = parse_dsn_bytes(b.render(lines), "m.dsn", secret)
    rejected = batch.rejections.filter(pl.col("code") == "ETABLISSEMENT_MULTIPLE")
    starts = [i + 1 for i, line in enumerate(lines) if line[0] == "S21.G00.11.001"]
    assert rejected.select("ligne", "rubrique", "rejet").rows() == [
        (starts[1], "S21.G00.11.001", True)
    ]
    assert table(batch, "etablissement")["nic"].to_list() == ["00030"]
    assert table(batch, "individu").height == 1 and reconciled(batch)


def test_truncated_file_rejects_the_cut_declaration(secret):
    lines = b.envoi(b.declaration(nic="00012"), b.declaration(nic="00020"))
    cut = lines[: len(lines) - 10]  # lose the total and the end of the second declaration
    batch = parse_dsn_bytes(b.render(cut), "t.dsn", secret)
    assert codes(batch) == ["FICHIER_TRONQUE"]
    assert table(batch, "etablissement")["nic"].to_list() == ["00012"]
    assert reconciled(batch)


def test_a_file_that_is_not_dsn_gets_one_clear_error(secret):
    batch = parse_dsn_bytes(b"hello\nworld\n", "notes.txt", secret)
    assert codes(batch) == ["FICHIER_NON_DSN"]
    assert batch.rejections["lignes"].to_list() == [2]
    assert batch.lines_read == 2 and batch.lines_rejected == 2 and batch.tables == {}


def test_old_norm_is_mapped_with_a_warning_and_codes_kept(secret):
    lines = b.envoi(b.declaration(), version="P03V01")
    lines = [(r, "77" if r == "S21.G00.40.007" else v) for r, v in lines]
    batch = parse_dsn_bytes(b.render(lines), "old.dsn", secret)
    assert codes(batch) == ["CODE_NON_VERIFIE", "NORME_APPROCHEE"]
    assert batch.lines_rejected == 0
    assert table(batch, "contrat")["nature_contrat"].to_list() == ["77"]


def test_envelope_lines_are_stored_not_rejected(secret):
    lines = b.envoi(b.declaration())
    text = "S05.G51.00.001,'V01R02'\nS06.G51.00.001,'DSNOK'\n" + b.render(lines).decode("latin-1")
    text = text.replace("S20.G00.05.001", "S10.G00.95.001,'PLATEFORME'\nS20.G00.05.001", 1)
    batch = parse_dsn_bytes(text.encode("latin-1"), "lot.dsn", secret)
    assert batch.lines_rejected == 0
    env = table(batch, "enveloppe")
    assert env["rubrique"].to_list() == ["S05.G51.00.001", "S06.G51.00.001", "S10.G00.95.001"]


def test_batch_equals_files_parsed_one_by_one(secret):
    files = [
        Source("a.dsn", b.render(b.envoi(b.declaration(nic="00012")))),
        Source("b.dsn", b"junk\n"),
        Source("c.dsn", b.render(b.envoi(b.declaration(nic="00020", month="01022024")))),
    ]
    together = parse_batch(files, secret)
    alone = [parse_batch([f], secret) for f in files]
    assert together.lines_read == sum(x.lines_read for x in alone)
    assert together.lines_rejected == sum(x.lines_rejected for x in alone)
    nics = sorted(
        n for x in alone if "etablissement" in x.tables for n in table(x, "etablissement")["nic"]
    )
    assert sorted(table(together, "etablissement")["nic"].to_list()) == nics


def test_a_batch_mixing_norm_versions_equals_its_files_parsed_one_by_one(secret):
    """Files of two norm versions in one batch are parsed per version, then merged: the merge
    summed every field of the parts, the tables included, and crashed on them."""
    files = [
        Source("p24.dsn", b.render(b.envoi(b.declaration(nic="00012"), version="P24V01"))),
        Source("p26.dsn", b.render(b.envoi(b.declaration(nic="00020"), version="P26V01"))),
    ]
    together = parse_batch(files, secret)
    alone = [parse_batch([f], secret) for f in files]
    assert together.files == 2 and together.declarations == 2
    assert together.lines_read == sum(x.lines_read for x in alone)
    assert together.lines_stored == sum(x.lines_stored for x in alone)
    assert together.versions == {"P24V01": 1, "P26V01": 1}
    assert sorted(table(together, "etablissement")["nic"].to_list()) == ["00012", "00020"]
    assert reconciled(together)


def test_bulk_pseudonyms_equal_one_by_one_and_standard_hmac(secret):
    import hashlib
    import hmac

    from datadsn.ingest.pseudonymize import normalise, pseudonymize_values

    samples = ["  José\t d'Almeida ", "ÉLÈVE  Œuvre", "straße", "ﬁn", "1850575123456"]
    bulk = pseudonymize_values(secret, "nom", pl.Series([*samples, None])).to_list()
    assert bulk[:-1] == [pseudonym(secret, "nom", v) for v in samples] and bulk[-1] is None
    expected = hmac.new(secret.key, f"nom\x1f{normalise(samples[0])}".encode(), hashlib.sha256)
    assert bulk[0] == expected.hexdigest()[:16]


def test_inconsistent_totals_are_reported_as_warnings(secret):
    lines = b.envoi(b.declaration())
    lines[-2] = ("S90.G00.90.001", "999")
    batch = parse_dsn_bytes(b.render(lines), "t.dsn", secret)
    assert codes(batch) == ["TOTAL_INCOHERENT"]
    assert batch.rejections["ligne"].to_list() == [len(lines) - 1]
    assert batch.lines_rejected == 0


def test_totals_count_unreadable_lines_but_not_the_envelope(secret):
    text = b.render(b.envoi(b.declaration())).decode("latin-1").split("\n")
    text[25] = "GARBAGE"  # the sender wrote it, so its total counts it
    text.insert(12, "S10.G00.95.001,'PLATEFORME'")  # added on the way: not counted
    batch = parse_dsn_bytes("\n".join(text).encode("latin-1"), "t.dsn", secret)
    assert codes(batch) == ["LIGNE_MALFORMEE"]


def test_an_empty_file_is_reported_not_ignored(secret):
    batch = parse_batch(
        [Source("vide.dsn", b""), Source("ok.dsn", b.render(b.envoi(b.declaration())))], secret
    )
    empty = batch.rejections.filter(pl.col("fichier") == "vide.dsn")
    assert empty["code"].to_list() == ["FICHIER_NON_DSN"] and empty["lignes"].to_list() == [0]
    assert batch.files == 2 and batch.lines_rejected == 0
