"""Pseudonymisation at the ingestion boundary.

Direct identifiers (NIR, NTT, names, birth date and place, personal address, e-mail, phone, bank
identifiers, contacts) never leave ingest in clear: each is replaced by a keyed HMAC-SHA256
pseudonym of its *normalised* value (upper case, accents removed, spaces collapsed), so that two
spellings of one name match later. The birth year and month are kept for statistics.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl

DEMO_SECRET = b"datadsn-demo-key-not-secret"
PSEUDO_LENGTH = 16  # hex characters: 64 bits, no collision expected below billions of values

# rubrique -> kind. One kind = one key domain: an old name (31.009) and a name (30.002) share
# the kind "nom" so that the consolidation can match them.
PERSONAL: dict[str, str] = {
    # individu, changements individu, ayant-droit, individu non salarié
    "S21.G00.30.001": "nir",
    "S21.G00.31.008": "nir",
    "S21.G00.73.007": "nir",
    "S21.G00.73.008": "nir",
    "S89.G00.91.001": "nir",
    "S21.G00.30.020": "ntt",
    "S89.G00.91.021": "ntt",
    "S21.G00.30.002": "nom",
    "S21.G00.30.003": "nom",
    "S21.G00.31.009": "nom",
    "S21.G00.73.006": "nom",
    "S89.G00.91.002": "nom",
    "S89.G00.91.003": "nom",
    "S89.G00.32.002": "nom",
    "S21.G00.30.004": "prenoms",
    "S21.G00.31.010": "prenoms",
    "S21.G00.73.009": "prenoms",
    "S89.G00.91.004": "prenoms",
    "S89.G00.32.003": "prenoms",
    "S21.G00.30.006": "date_naissance",
    "S21.G00.31.011": "date_naissance",
    "S21.G00.73.005": "date_naissance",
    "S89.G00.91.006": "date_naissance",
    "S21.G00.30.007": "lieu_naissance",
    "S89.G00.91.007": "lieu_naissance",
    "S21.G00.30.019": "matricule",
    "S89.G00.91.016": "matricule",
    # personal address and contact details
    **dict.fromkeys(
        [
            "S21.G00.30.008",
            "S21.G00.30.009",
            "S21.G00.30.010",
            "S21.G00.30.012",
            "S21.G00.30.016",
            "S21.G00.30.017",
            "S89.G00.91.008",
            "S89.G00.91.009",
            "S89.G00.91.010",
            "S89.G00.91.012",
            "S89.G00.91.013",
            "S89.G00.91.014",
            "S89.G00.32.007",
            "S89.G00.32.008",
            "S89.G00.32.010",
            "S89.G00.32.011",
            "S89.G00.32.012",
            "S89.G00.32.014",
        ],
        "adresse",
    ),
    **dict.fromkeys(["S21.G00.30.018", "S89.G00.91.015"], "mel"),
    # contacts of the sender and of the declarant (real people)
    **dict.fromkeys(["S10.G00.02.002", "S20.G00.07.001"], "nom_contact"),
    **dict.fromkeys(["S10.G00.02.004", "S20.G00.07.003"], "mel"),
    **dict.fromkeys(["S10.G00.02.005", "S10.G00.02.006", "S20.G00.07.002"], "telephone"),
    # bank identifiers
    **dict.fromkeys(["S21.G00.12.002", "S21.G00.20.003", "S21.G00.60.008"], "bic"),
    **dict.fromkeys(["S21.G00.12.003", "S21.G00.20.004", "S21.G00.60.007"], "iban"),
}

# Kept for statistics beside the pseudonym: the département of residence (from the postal code).
POSTAL_CODES = {"S21.G00.30.009", "S89.G00.91.009"}
BIRTH_DATES = {k for k, v in PERSONAL.items() if v == "date_naissance"}


# An HMAC-SHA256 key shorter than the hash gives less than its strength (and a short one can be
# guessed by trying every value): 32 bytes at least, e.g. the 64 characters of
# ``openssl rand -hex 32``.
MIN_SECRET_BYTES = 32
HOW_TO = "par exemple : export DATADSN_SECRET=$(openssl rand -hex 32)"


class SecretError(RuntimeError):
    """A pseudonymisation secret that cannot be used (message in French)."""


class SecretMissingError(SecretError):
    """No pseudonymisation secret configured outside demo mode."""


@dataclass(frozen=True)
class Secret:
    key: bytes = field(repr=False)  # never in a log line or a traceback's locals
    demo: bool

    def __post_init__(self) -> None:
        if not self.demo:
            _check(self.key, "clé fournie")

    def fingerprint(self) -> str:
        """A keyed digest of a fixed label: tells whether two processes hold the same key
        without showing it (the key cannot be recovered from an HMAC output)."""
        return hmac.new(self.key, b"datadsn: empreinte de la cle", "sha256").hexdigest()[:16]

    @classmethod
    def from_env(cls, demo: bool = False) -> Secret:
        """Secret from ``DATADSN_SECRET`` or the file named by ``DATADSN_SECRET_FILE``; a
        configured secret must hold at least :data:`MIN_SECRET_BYTES` bytes, even with
        ``demo`` (which only stands in when none is configured)."""
        value = os.environ.get("DATADSN_SECRET")
        path = os.environ.get("DATADSN_SECRET_FILE")
        if value is not None and (value or not path):
            key = value.encode("utf-8")
            _check(key, "DATADSN_SECRET")
            return cls(key, demo=False)
        if path:
            key = _read_key_file(Path(path))
            _check(key, f"DATADSN_SECRET_FILE, fichier {path}")
            return cls(key, demo=False)
        if demo:
            return cls(DEMO_SECRET, demo=True)
        raise SecretMissingError(
            "aucune clé de pseudonymisation : définissez DATADSN_SECRET (ou DATADSN_SECRET_FILE "
            "vers un fichier contenant la clé), ou utilisez --demo pour la clé de démonstration"
        )


def _check(key: bytes, where: str) -> None:
    if not key:
        raise SecretError(f"clé de pseudonymisation vide ({where}) ; {HOW_TO}")
    if len(key) < MIN_SECRET_BYTES:
        raise SecretError(
            f"clé de pseudonymisation trop courte ({where} : {len(key)} octet(s), "
            f"{MIN_SECRET_BYTES} au moins) ; {HOW_TO}"
        )


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        problem = "fichier introuvable"
    except IsADirectoryError:
        problem = "c'est un dossier, pas un fichier"
    except PermissionError:
        problem = "lecture non permise"
    except OSError as exc:
        problem = exc.strerror or str(exc)
    raise SecretError(f"DATADSN_SECRET_FILE désigne {path} : {problem}")


def normalise(value: str) -> str:
    """Upper case, accents removed, spaces collapsed: the form that is hashed."""
    if not value.isascii():
        value = unicodedata.normalize("NFKD", value)
        value = "".join(c for c in value if not unicodedata.combining(c))
    return " ".join(value.split()).upper()


def normalise_expr(values: pl.Expr) -> pl.Expr:
    """The same normalisation as :func:`normalise`, vectorised."""
    return (
        values.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.to_uppercase()
    )


class _Hmac:
    """HMAC-SHA256 with the key's inner and outer states computed once (RFC 2104).

    Equal to ``hmac.digest(key, message, "sha256")``, about twice as fast on short messages,
    which matters with millions of identifiers a month.
    """

    def __init__(self, key: bytes):
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def hexdigest(self, message: bytes) -> str:
        return self.hexdigests(b"", [message])[0]

    def hexdigests(self, prefix: bytes, messages: list[bytes], length: int = 64) -> list[str]:
        """The first ``length`` hex characters of the HMAC of ``prefix + m`` for each message;
        the hash state after the shared prefix is computed once."""
        start = self.inner.copy()
        start.update(prefix)
        out = []
        for message in messages:
            inner = start.copy()
            inner.update(message)
            outer = self.outer.copy()
            outer.update(inner.digest())
            out.append(outer.hexdigest()[:length])
        return out


@cache
def _keyed(key: bytes) -> _Hmac:
    return _Hmac(key)


def pseudonym(secret: Secret, kind: str, value: str) -> str:
    """The pseudonym of one value (normalised first) for a kind of identifier."""
    message = f"{kind}\x1f{normalise(value)}".encode()
    return _keyed(secret.key).hexdigest(message)[:PSEUDO_LENGTH]


def pseudonymize_values(secret: Secret, kind: str, values: pl.Series) -> pl.Series:
    """Pseudonyms for a column: each distinct value normalised and hashed once."""
    distinct = values.drop_nulls().unique()
    if distinct.is_empty():
        return values.cast(pl.String)
    normalised = distinct.to_frame("v").select(normalise_expr(pl.col("v"))).to_series()
    # Polars hands over the UTF-8 bytes directly, and the kind's prefix is hashed once.
    messages = normalised.cast(pl.Binary).to_list()
    hashed = _keyed(secret.key).hexdigests(f"{kind}\x1f".encode(), messages, PSEUDO_LENGTH)
    # Each value's index among the distinct ones is its physical code in an enum of them.
    index = values.cast(pl.Enum(distinct)).to_physical()
    return pl.Series(values.name, hashed, dtype=pl.String).gather(index)


def departement(postal_code: pl.Expr) -> pl.Expr:
    """Département from a postal code: 2 digits, 3 for overseas (97x, 98x)."""
    code = postal_code.str.strip_chars()
    return (
        pl.when(code.str.slice(0, 2).is_in(["97", "98"]))
        .then(code.str.slice(0, 3))
        .otherwise(code.str.slice(0, 2))
    )
