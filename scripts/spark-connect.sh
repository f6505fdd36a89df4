#!/usr/bin/env bash
# A Spark Connect server on this machine, started from the pyspark package of .venv (its jars hold
# the server), for `SPARK_REMOTE=sc://127.0.0.1:15002 datadsn ... --engine spark`.
#
#   scripts/spark-connect.sh start     # prints the URL to put in SPARK_REMOTE
#   scripts/spark-connect.sh status
#   scripts/spark-connect.sh stop
#
# The server runs its own Spark (SPARK_CONNECT_MASTER, default local[2]: or a cluster's
# spark://host:7077). Its Python tasks (the ingestion's) run in .venv's Python, which has datadsn.
# Pid file and log go to $DATADSN_SPARK_CONNECT (default .datadsn/spark-connect). The client (the
# datadsn process) and the server share this machine's file system, which the Spark backend needs
# to rename the Parquet files the executors write (docs/spark.md).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/spark-env.sh
STATE=${DATADSN_SPARK_CONNECT:-$PWD/.datadsn/spark-connect}
export SPARK_PID_DIR=$STATE/pids SPARK_LOG_DIR=$STATE/logs
export PYSPARK_PYTHON=$PWD/.venv/bin/python
HOST=${SPARK_CONNECT_HOST:-127.0.0.1}
PORT=${SPARK_CONNECT_PORT:-15002}
MASTER=${SPARK_CONNECT_MASTER:-local[2]}
MEMORY=${DATADSN_SPARK_MEMORY:-2g}
CLASS=org.apache.spark.sql.connect.service.SparkConnectServer
URL=sc://$HOST:$PORT

case "${1:-}" in
  start)
    mkdir -p "$SPARK_PID_DIR" "$SPARK_LOG_DIR"
    rm -f "$SPARK_LOG_DIR"/*.out
    # local[N]: N shuffle partitions (Spark's 200 cost a small month seconds of empty tasks)
    partitions=200
    [[ $MASTER =~ ^local\[([0-9]+)\]$ ]] && partitions=${BASH_REMATCH[1]}
    daemon submit "$CLASS" 1 --name "datadsn Spark Connect" --master "$MASTER" \
      --driver-memory "$MEMORY" \
      --conf spark.connect.grpc.binding.address="$HOST" \
      --conf spark.connect.grpc.binding.port="$PORT" \
      --conf spark.sql.shuffle.partitions="$partitions" \
      --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false
    for _ in $(seq 1 180); do
      if grep -q "Spark Connect server started" "$SPARK_LOG_DIR"/*.out 2>/dev/null; then
        echo "$URL"
        exit 0
      fi
      daemon status "$CLASS" 1 >/dev/null || break
      sleep 1
    done
    echo "le serveur Spark Connect n'a pas démarré : voir $SPARK_LOG_DIR" >&2
    exit 1
    ;;
  stop)
    daemon stop "$CLASS" 1 || true
    ;;
  status)
    daemon status "$CLASS" 1 || true
    echo "adresse : $URL"
    ;;
  *)
    echo "usage : $0 start|stop|status" >&2
    exit 2
    ;;
esac
