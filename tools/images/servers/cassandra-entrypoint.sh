#!/bin/bash
# `cassandra` starts the node in the foreground: the local stack's cassandra.yaml with the container's
# paths and addresses (CQL on every interface, broadcast as the container's address; the cluster name
# and data centre from CASSANDRA_CLUSTER_NAME / CASSANDRA_DC), the local stack's jvm.options with
# MAX_HEAP_SIZE / HEAP_NEWSIZE, then JVM_EXTRA_OPTS. Anything else is run as given (cassandra-init
# runs bash with roles.sh in this image).
set -euo pipefail
if [[ ${1:-} != cassandra ]]; then exec "$@"; fi
conf=/tmp/cassandra-conf
data=/var/lib/cassandra
mkdir -p "$conf" "$data"/{data,commitlog,hints,saved_caches,cdc_raw}
address=$(hostname -i | awk '{print $1}')
sed -e "s|^cluster_name:.*|cluster_name: ${CASSANDRA_CLUSTER_NAME:-dispatch}|" \
    -e "s|^endpoint_snitch:.*|endpoint_snitch: GossipingPropertyFileSnitch|" \
    -e "s|^rpc_address:.*|rpc_address: 0.0.0.0\nbroadcast_rpc_address: $address|" \
    -e "s|\.stack/data/cassandra|$data|" \
    /etc/cassandra/cassandra.yaml >"$conf/cassandra.yaml"
printf 'dc=%s\nrack=rack1\n' "${CASSANDRA_DC:-datacenter1}" >"$conf/cassandra-rackdc.properties"
mapfile -t options < <(grep -v '^[[:space:]]*\(#\|$\)' /etc/cassandra/jvm.options | grep -v '^-Xm[sx]\|^-Xmn' | sed 's/^\(--[a-z-]*\) /\1=/')
jamm=$(ls /opt/cassandra/lib/jamm-*.jar)
# shellcheck disable=SC2086 # JVM_EXTRA_OPTS is a list of options
exec java "${options[@]}" -Xms"${MAX_HEAP_SIZE:-1G}" -Xmx"${MAX_HEAP_SIZE:-1G}" -Xmn"${HEAP_NEWSIZE:-200M}" \
  -javaagent:"$jamm" -Dcassandra.config=file://"$conf/cassandra.yaml" \
  -Dcassandra-rackdc.properties=file://"$conf/cassandra-rackdc.properties" \
  -Dlogback.configurationFile=file:///etc/cassandra/logback.xml -Dcassandra.logdir=/tmp \
  -Dcassandra.storagedir="$data" -Dcassandra-foreground=yes \
  -Dcassandra.jmx.local.port=7199 ${JVM_EXTRA_OPTS:-} \
  -cp "/etc/cassandra:/opt/cassandra/lib/*" org.apache.cassandra.service.CassandraDaemon
