#!/usr/bin/env bash
# Run the portal test suite on a real PostgreSQL server (the default suite uses SQLite).
# Needs root on a Debian machine: installs and starts the cluster if needed, creates the role.
set -euo pipefail
cd "$(dirname "$0")/.."
URL="postgres://datadsn:datadsn@127.0.0.1:5432/datadsn"
if [ "$(id -u)" != 0 ]; then
  echo "test-postgres : root est nécessaire pour démarrer PostgreSQL ; étape ignorée" >&2
  exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -qc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='datadsn')
  THEN CREATE ROLE datadsn LOGIN PASSWORD 'datadsn' CREATEDB; END IF; END\\\$\\\$;\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='datadsn'\"" | grep -q 1 \
  || su postgres -c "createdb -O datadsn datadsn"
DATABASE_URL="$URL" .venv/bin/pytest -q tests/portal -m "not browser"
