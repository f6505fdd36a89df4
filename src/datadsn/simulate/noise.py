"""Noise profiles: how often each declaration defect is injected.

Rates are per entity (contract, person, file...) as noted. Every injected event is listed in
the ``anomalies`` truth table so that a consolidation can be scored against it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class NoiseProfile:
    identity_change_with_block: float = 0.004  # per person: name change declared with S21.G00.31
    identity_change_without_block: float = 0.002  # per person: new name, no change block
    fragmented_change: float = 0.001  # per person: name and birth date changed in 2 blocks
    nir_absent_then_present: float = 0.01  # per contract hired in the window
    nir_correction: float = 0.003  # per person: wrong NIR first, then corrected (31.008)
    contract_number_change: float = 0.004  # per contract (41.014)
    start_date_correction: float = 0.004  # per contract hired in the window (41.021)
    forgotten_end: float = 0.02  # per ended contract: no S21.G00.62
    cancelled_end: float = 0.002  # per contract: wrong end, cancelled with motif 099
    late_declaration: float = 0.01  # per envoi: sent with the next month
    cancel_and_replace: float = 0.005  # per envoi: a 'annule et remplace' follows
    negative_correction: float = 0.003  # per contract-month: overstated hours fixed next month
    duplicate_declaration: float = 0.003  # per envoi: the same file sent twice
    silent_closure: float = 0.5  # per closing establishment: no end blocks at closure
    unknown_code: float = 0.002  # per envoi: one enumeration value outside its list
    malformed_line: float = 0.002  # per envoi: one line that is not Sxx.Gxx.xx.xxx,'value'
    # The hardest cases (zero except in the `hard` profile, see HARD below).
    nir_correction_without_block: float = 0.0  # per person: NIR corrected, old NIR never given
    several_fields_change: float = 0.0  # per person: NIR, name and birth date in one block
    name_change_without_nir: float = 0.0  # per person: never a NIR, name change with a block
    name_change_without_nir_without_block: float = 0.0  # per person: same, no block
    contract_number_change_without_block: float = 0.0  # per contract: new number, no 41.014
    employer_change_without_block: float = 0.0  # per transfer: no 41.012 at the new employer
    forgotten_end_then_rehire: float = 0.0  # per contract followed by a rehire at the employer
    very_late_declaration: float = 0.0  # per envoi: sent 4 months after its month
    cancel_and_replace_cascade: float = 0.0  # per envoi: a wrong replacement, then a right one
    interim_user_change: float = 0.0  # per mission over 3 months or more: new user establishment
    # per stable establishment: half its staff moves to a new SIRET, with / without 41.012
    establishment_split: float = 0.0
    establishment_split_without_block: float = 0.0
    # per stable establishment: merged into another, with / without 41.012
    establishment_merge: float = 0.0
    establishment_merge_without_block: float = 0.0

    def scaled(self, factor: float) -> NoiseProfile:
        return replace(
            self, **{f.name: min(1.0, getattr(self, f.name) * factor) for f in fields(self)}
        )


# `hard`: the default defects twice as often, plus the cases the reference is known to miss
# (champollion_spec.md §13, §14, §19). The rates are assumptions of the same order as the
# default ones (no public per-case DSN quality figures), see docs/simulation.md.
HARD = replace(
    NoiseProfile().scaled(2.0),
    nir_correction_without_block=0.002,
    several_fields_change=0.001,
    name_change_without_nir=0.002,
    name_change_without_nir_without_block=0.001,
    contract_number_change_without_block=0.002,
    employer_change_without_block=0.3,
    forgotten_end_then_rehire=0.05,
    very_late_declaration=0.002,
    cancel_and_replace_cascade=0.002,
    interim_user_change=0.05,
    establishment_split=0.03,
    establishment_split_without_block=0.01,
    establishment_merge=0.01,
    establishment_merge_without_block=0.005,
)

PROFILES = {
    "default": NoiseProfile(),
    "none": NoiseProfile().scaled(0.0),
    "heavy": NoiseProfile().scaled(8.0),
    "hard": HARD,
}


def profile(name: str) -> NoiseProfile:
    if name not in PROFILES:
        raise ValueError(f"profil de bruit inconnu : {name!r} (attendu : {', '.join(PROFILES)})")
    return PROFILES[name]
