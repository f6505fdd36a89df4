#!/usr/bin/env bash
# What the DataDSN container runs (Dockerfile ENTRYPOINT); the same script runs on a host.
#
#   datadsn-entrypoint.sh portal          serve the portal (gunicorn, migrations applied first)
#   datadsn-entrypoint.sh chain [MONTH]   the monthly chain for MONTH (default: last month):
#                                         ingest -> consolidate -> indicators release -> flows -> remind
#   datadsn-entrypoint.sh daily           daily jobs: reminders, purge of ended deliveries, journal check
#   datadsn-entrypoint.sh scheduler       run `daily` once a day and `chain` once a month, for ever
#   anything else                         run as a command (e.g. `datadsn sql "..."`)
#
# Environment (besides the portal's, see docs/deploiement.md):
#   DATADSN_HOME      data volume: warehouse/, inbox/ (DSN files to ingest), archive/, flows/, state/
#   DATADSN_DATADSN   the datadsn command (default: datadsn on PATH)
#   DATADSN_CHAIN_DAY day of the month from which the chain runs for the previous month (default 5)
#   DATADSN_DAILY_HOUR hour (UTC) from which the daily jobs run (default 6)
set -euo pipefail

DATADSN=${DATADSN_DATADSN:-datadsn}
HOME_DIR=${DATADSN_HOME:?DATADSN_HOME doit désigner le volume des données}
INBOX="$HOME_DIR/inbox"
ARCHIVE="$HOME_DIR/archive"
FLOWS="$HOME_DIR/flows"
STATE="$HOME_DIR/state"
export DJANGO_SETTINGS_MODULE=datadsn.portal.settings

log() { echo "[datadsn $(date -u +%Y-%m-%dT%H:%M:%SZ)] $*"; }

# The Python of the environment datadsn is installed in (the image's, or the repository's .venv).
PYTHON=$(dirname "$(command -v "$DATADSN")")/python

migrate() { "$PYTHON" -m django migrate --noinput -v 0; }

previous_month() { date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m; }

chain() {
  local month=${1:-$(previous_month)}
  [[ $month =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || { echo "Erreur : mois invalide : $month (AAAA-MM attendu)" >&2; exit 2; }
  mkdir -p "$INBOX" "$ARCHIVE" "$FLOWS" "$STATE"
  migrate
  if [ -n "$(find "$INBOX" -mindepth 1 -maxdepth 1 -print -quit)" ]; then
    log "ingestion de $INBOX"
    local rc=0
    "$DATADSN" ingest "$INBOX" --summary "$STATE/ingest-$month.json" || rc=$?
    # 3: part of the batch was rejected (recorded in the warehouse); anything else stops the chain.
    if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then exit "$rc"; fi
    # Files read once are archived, so that next month's run does not read them again.
    mkdir -p "$ARCHIVE/$month"
    find "$INBOX" -mindepth 1 -maxdepth 1 -exec mv -t "$ARCHIVE/$month" {} +
  else
    log "aucun fichier à ingérer dans $INBOX"
  fi
  log "consolidation jusqu'à $month"
  "$DATADSN" consolidate --through "$month"
  if "$DATADSN" indicators release --help >/dev/null 2>&1; then
    log "publication des indicateurs de $month"
    "$DATADSN" indicators release --month "$month"
  else
    log "publication des indicateurs : commande « indicators release » absente, étape sautée"
  fi
  if [ -n "$(find "$FLOWS" -maxdepth 1 -name '*.yaml' -print -quit)" ]; then
    log "flux de $month"
    "$DATADSN" flow run --all "$FLOWS" --month "$month"
  else
    log "aucune spécification de flux dans $FLOWS"
  fi
  "$DATADSN" portal remind
  echo "$month" > "$STATE/last-chain"
  log "chaîne mensuelle de $month terminée"
}

daily() {
  migrate
  "$DATADSN" portal remind
  "$DATADSN" flow purge
  "$DATADSN" portal verify-journal
  date -u +%F > "$STATE/last-daily"
}

scheduler() {
  mkdir -p "$STATE"
  local chain_day=${DATADSN_CHAIN_DAY:-5} daily_hour=${DATADSN_DAILY_HOUR:-6}
  log "planificateur : tâches quotidiennes après ${daily_hour} h UTC, chaîne mensuelle à partir du ${chain_day} du mois"
  while true; do
    if [ "$(date -u +%-H)" -ge "$daily_hour" ] && [ "$(cat "$STATE/last-daily" 2>/dev/null)" != "$(date -u +%F)" ]; then
      # A separate process, so that `set -e` stops a failing job at its failing step.
      "$0" daily || log "tâches quotidiennes en échec (code $?)"
    fi
    local month
    month=$(previous_month)
    if [ "$(date -u +%-d)" -ge "$chain_day" ] && [ "$(cat "$STATE/last-chain" 2>/dev/null)" != "$month" ]; then
      "$0" chain "$month" || log "chaîne mensuelle de $month en échec (code $?), nouvel essai dans une heure"
    fi
    sleep "${DATADSN_SCHEDULER_TICK:-3600}"
  done
}

case "${1:-portal}" in
  portal) shift || true; exec "$DATADSN" serve --host 0.0.0.0 --port "${PORT:-8000}" "$@" ;;
  chain) shift; chain "$@" ;;
  daily) daily ;;
  scheduler) scheduler ;;
  *) exec "$@" ;;
esac
