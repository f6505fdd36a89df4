#!/usr/bin/env bash
# A Spark standalone cluster on this machine: one master and two workers (one core each), started
# from the pyspark package of .venv (its sbin/spark-daemon.sh), for `--engine spark --master`.
#
#   scripts/spark-cluster.sh start     # prints the master's URL (spark://127.0.0.1:7077)
#   scripts/spark-cluster.sh status
#   scripts/spark-cluster.sh stop
#
# Pid files and logs go to $DATADSN_SPARK_CLUSTER (default .datadsn/spark-cluster). The driver
# (the datadsn process) and the workers share this machine's file system, which the Spark
# backend needs to rename the Parquet files the executors write (docs/spark.md).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/spark-env.sh
STATE=${DATADSN_SPARK_CLUSTER:-$PWD/.datadsn/spark-cluster}
export SPARK_PID_DIR=$STATE/pids SPARK_LOG_DIR=$STATE/logs SPARK_WORKER_DIR=$STATE/work
HOST=${SPARK_CLUSTER_HOST:-127.0.0.1}
PORT=${SPARK_CLUSTER_PORT:-7077}
UI_PORT=${SPARK_CLUSTER_UI_PORT:-8089}
MEMORY=${SPARK_WORKER_MEMORY:-1500m}
MASTER_URL=spark://$HOST:$PORT
MASTER_CLASS=org.apache.spark.deploy.master.Master
WORKER_CLASS=org.apache.spark.deploy.worker.Worker
WORKERS=2

registered() {  # workers the master has registered so far
  grep -h "Registering worker" "$SPARK_LOG_DIR"/*Master*.out 2>/dev/null | wc -l
}

case "${1:-}" in
  start)
    mkdir -p "$SPARK_PID_DIR" "$SPARK_LOG_DIR" "$SPARK_WORKER_DIR"
    rm -f "$SPARK_LOG_DIR"/*.out
    daemon start "$MASTER_CLASS" 1 --host "$HOST" --port "$PORT" --webui-port "$UI_PORT"
    for i in $(seq 1 "$WORKERS"); do
      daemon start "$WORKER_CLASS" "$i" --host "$HOST" --cores 1 --memory "$MEMORY" \
        --webui-port $((UI_PORT + i)) --work-dir "$SPARK_WORKER_DIR" "$MASTER_URL"
    done
    for _ in $(seq 1 120); do
      [ "$(registered)" -ge "$WORKERS" ] && { echo "$MASTER_URL"; exit 0; }
      sleep 1
    done
    echo "les workers ne se sont pas enregistrés : voir $SPARK_LOG_DIR" >&2
    exit 1
    ;;
  stop)
    for i in $(seq 1 "$WORKERS"); do daemon stop "$WORKER_CLASS" "$i" || true; done
    daemon stop "$MASTER_CLASS" 1 || true
    ;;
  status)
    daemon status "$MASTER_CLASS" 1 || true
    for i in $(seq 1 "$WORKERS"); do daemon status "$WORKER_CLASS" "$i" || true; done
    echo "workers enregistrés : $(registered) ; maître : $MASTER_URL"
    ;;
  *)
    echo "usage : $0 start|stop|status" >&2
    exit 2
    ;;
esac
