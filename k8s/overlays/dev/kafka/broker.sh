#!/usr/bin/env bash
# Starts a single-node Kafka (KRaft: broker and controller in one process) with authentication and
# authorization on, as `./dispatch up` runs it (infra/local/kafka/server.properties): the dev overlay's
# StatefulSet and compose's `kafka` run this script in the apache/kafka image.
#
# The committed properties ($KAFKA_CONFIG) hold no secret. This script renders them with the JAAS lines
# into $KAFKA_RUN_DIR/server.properties (0600): every SASL listener but the controller's takes SCRAM-SHA-512
# (the broker itself logs in there as the super user admin), the controller listener takes only the
# broker's own SASL/PLAIN login `controller`. A broker cannot authenticate anyone before a SCRAM user
# exists, so the storage is formatted once WITH the admin's SCRAM login (kafka-storage format --add-scram);
# the services' logins and ACLs come later, from access.sh (compose's kafka-access, the Job
# dispatch-kafka-access). It also writes $KAFKA_RUN_DIR/admin.properties, the admin's client settings,
# for health checks inside the container.
#
#   KAFKA_CONFIG               the committed broker properties (default /etc/dispatch/kafka/server.properties)
#   KAFKA_ADMIN_PASSWORD       the super user admin's password
#   KAFKA_CONTROLLER_PASSWORD  the controller listener's login (nobody but the broker uses it)
#   KAFKA_RUN_DIR              where the rendered files go (default /tmp/dispatch-kafka)
#   KAFKA_BIN                  the Kafka CLI folder (default /opt/kafka/bin)
set -euo pipefail

template=${KAFKA_CONFIG:-/etc/dispatch/kafka/server.properties}
run=${KAFKA_RUN_DIR:-/tmp/dispatch-kafka}
bin=${KAFKA_BIN:-/opt/kafka/bin}
admin_password=${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}
controller_password=${KAFKA_CONTROLLER_PASSWORD:?set KAFKA_CONTROLLER_PASSWORD}

fail() {
  echo "kafka broker: $*" >&2
  exit 1
}

# The passwords go into JAAS and kafka-storage's [password=...] syntax, which have no escaping.
for variable in KAFKA_ADMIN_PASSWORD KAFKA_CONTROLLER_PASSWORD; do
  [[ ${!variable} =~ ^[A-Za-z0-9+/._~-]{16,}$ ]] ||
    fail "$variable: use 16 or more of A-Z a-z 0-9 + / . _ ~ - (e.g. openssl rand -base64 24)"
done

# One property of the committed file (the last definition wins, as in Java's Properties).
property() {
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$template" | tail -n 1
}

controller_listener=$(property 'controller\.listener\.names')
protocol_map=$(property 'listener\.security\.protocol\.map')
log_dir=$(property 'log\.dirs')
log_dir=${log_dir%%,*}
[[ -n $controller_listener && -n $protocol_map && -n $log_dir ]] ||
  fail "$template needs controller.listener.names, listener.security.protocol.map and log.dirs"

umask 077
mkdir -p "$run"
{
  cat "$template"
  printf '\n# Rendered by broker.sh (never committed): the logins.\n'
  IFS=, read -ra entries <<<"$protocol_map"
  for entry in "${entries[@]}"; do
    listener=${entry%%:*} protocol=${entry#*:}
    [[ $protocol == SASL_* ]] || fail "listener $listener is $protocol: every listener must require SASL"
    name=$(printf '%s' "$listener" | tr '[:upper:]' '[:lower:]')
    if [[ $listener == "$controller_listener" ]]; then
      printf 'listener.name.%s.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="%s" user_controller="%s";\n' \
        "$name" "$controller_password" "$controller_password"
    else
      printf 'listener.name.%s.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="%s";\n' \
        "$name" "$admin_password"
    fi
  done
} >"$run/server.properties"
{
  printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n'
  printf 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="%s";\n' \
    "$admin_password"
} >"$run/admin.properties"

# Written after a format that created the admin's login; a storage without it predates authentication.
marker="$log_dir/dispatch-sasl-formatted"
if [[ ! -f $log_dir/meta.properties ]]; then
  mkdir -p "$log_dir"
  # Its output lists the bootstrap records, the admin's salted keys among them: shown only on failure.
  if ! output=$("$bin/kafka-storage.sh" format --config "$run/server.properties" \
    --cluster-id "$("$bin/kafka-storage.sh" random-uuid)" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$admin_password]" 2>&1); then
    printf '%s\n' "$output" | sed 's/UserScramCredentialRecord([^)]*)/UserScramCredentialRecord(…)/g' >&2
    fail "formatting $log_dir failed"
  fi
  date -u +%FT%TZ >"$marker"
  echo "kafka broker: formatted $log_dir with the admin's SCRAM-SHA-512 login"
elif [[ ! -f $marker ]]; then
  fail "$log_dir was formatted before Kafka required logins: it has no SCRAM users, so nobody could log in." \
    "Recreate it (compose: docker compose down, docker volume rm dispatch_kafka-data;" \
    "dev cluster: delete the PersistentVolumeClaim data-kafka-0). Topics and events in it are lost."
fi

exec "$bin/kafka-server-start.sh" "$run/server.properties"
