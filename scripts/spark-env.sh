# Sourced by the Spark scripts (spark-cluster.sh, spark-connect.sh), from the repository's root:
# the Spark distribution shipped in .venv's pyspark, Debian's Java 17 unless JAVA_HOME is set,
# and the name Spark's daemons put in their pid and log files.
SPARK_HOME=$(.venv/bin/python -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
export SPARK_HOME
if [ -z "${JAVA_HOME:-}" ]; then
  JAVA_HOME=$(ls -d /usr/lib/jvm/java-17-openjdk-* 2>/dev/null | head -n 1 || true)
  [ -n "$JAVA_HOME" ] || { echo "Java 17 introuvable : apt-get install openjdk-17-jre-headless" >&2; exit 2; }
  export JAVA_HOME
fi
export SPARK_IDENT_STRING=datadsn

daemon() { "$SPARK_HOME/sbin/spark-daemon.sh" "$@"; }
