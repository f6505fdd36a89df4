"""Indicators under statistical secrecy and pseudonymised extracts (issue 5).

- ``catalogue``: the declarative indicator definitions (one SQL file each under ``sql/``);
- ``compute``: runs the SQL steps on the quality snapshot and aggregates cells with margins;
- ``primary`` / ``secondary``: disclosure control (frequency, establishments, dominance; LP-checked
  complementary suppression); ``release`` writes CSV/Parquet/XLSX with flags and metadata;
  ``audit`` re-checks a released file; ``extract`` builds per-recipient pseudonymised microdata.
"""
