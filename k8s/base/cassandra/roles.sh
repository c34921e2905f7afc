#!/bin/bash
# Cassandra roles and keyspaces for Dispatch, run with cqlsh against a Cassandra with
# PasswordAuthenticator and CassandraAuthorizer: the Kubernetes Job dispatch-cassandra-roles and
# compose's cassandra-init (the local stack does the same in tools/stack/cassandra-auth.ts).
#
#   CASSANDRA_CONTACT_POINTS                  host:port,... (the first one is used)
#   CASSANDRA_ADMIN_USERNAME/_PASSWORD        a superuser; on a fresh node (only the default
#                                             cassandra/cassandra exists) it is created with these, and
#                                             the default role loses its login, superuser and password
#   QUERY_API_CASSANDRA_USERNAME/_PASSWORD    query-api's LOGIN role (no superuser)
#   CASSANDRA_KEYSPACE, CASSANDRA_LOCAL_DC, CASSANDRA_REPLICATION_STRATEGY, CASSANDRA_REPLICATION_FACTOR
#                                             query-api's keyspace and the replication of keyspaces
#                                             created here (query-api's own config)
#
# Idempotent. Every run sets query-api's password from its Secret when it no longer logs in with it
# (rotation: change the Secret, run this again, restart query-api). query-api may only SELECT,
# MODIFY, CREATE and ALTER (tables) in its control keyspace and its read-model generations
# <keyspace>_g<N>; never create keyspaces, drop anything or grant.
set -euo pipefail

first=${CASSANDRA_CONTACT_POINTS:?}
first=${first%%,*}
host=${first%:*}
port=${first##*:}
keyspace=${CASSANDRA_KEYSPACE:?}
service_role=${QUERY_API_CASSANDRA_USERNAME:?}
: "${CASSANDRA_ADMIN_USERNAME:?}" "${CASSANDRA_ADMIN_PASSWORD:?}" "${QUERY_API_CASSANDRA_PASSWORD:?}"
factor=${CASSANDRA_REPLICATION_FACTOR:?}
[[ $factor =~ ^[1-9][0-9]?$ ]] || { echo "bad CASSANDRA_REPLICATION_FACTOR: $factor" >&2; exit 64; }
case ${CASSANDRA_REPLICATION_STRATEGY:?} in
  SimpleStrategy) replication="{'class': 'SimpleStrategy', 'replication_factor': $factor}" ;;
  NetworkTopologyStrategy)
    [[ ${CASSANDRA_LOCAL_DC:?} =~ ^[A-Za-z0-9_.-]{1,100}$ ]] || { echo "bad CASSANDRA_LOCAL_DC" >&2; exit 64; }
    replication="{'class': 'NetworkTopologyStrategy', '$CASSANDRA_LOCAL_DC': $factor}" ;;
  *) echo "bad CASSANDRA_REPLICATION_STRATEGY: $CASSANDRA_REPLICATION_STRATEGY" >&2; exit 64 ;;
esac
for name in "$keyspace" "$service_role" "$CASSANDRA_ADMIN_USERNAME"; do
  [[ $name =~ ^[A-Za-z][A-Za-z0-9_]{0,47}$ ]] || { echo "bad Cassandra name: $name" >&2; exit 64; }
done

# A CQL string literal: quotes doubled.
literal() { local v=${1//\'/\'\'}; printf "'%s'" "$v"; }
# The password goes to cqlsh through its credentials file, not the command line.
creds=$(mktemp -d)
trap 'rm -rf "$creds"' EXIT
as() {
  local user=$1 password=$2
  shift 2
  printf '[PlainTextAuthProvider]\nusername = %s\npassword = %s\n' "$user" "$password" >"$creds/credentials"
  chmod 600 "$creds/credentials"
  cqlsh "$host" "$port" -u "$user" --credentials="$creds/credentials" --request-timeout=30 "$@"
}
admin() { as "$CASSANDRA_ADMIN_USERNAME" "$CASSANDRA_ADMIN_PASSWORD" "$@"; }

# The node opens its port before its auth setup has created the default role (a few seconds).
for attempt in $(seq 1 60); do
  if admin -e 'SELECT release_version FROM system.local' >/dev/null 2>&1; then break; fi
  if as cassandra cassandra -e 'SELECT release_version FROM system.local' >/dev/null 2>&1; then
    echo "fresh node: creating the superuser $CASSANDRA_ADMIN_USERNAME"
    as cassandra cassandra -e "CREATE ROLE IF NOT EXISTS $CASSANDRA_ADMIN_USERNAME WITH PASSWORD = $(literal "$CASSANDRA_ADMIN_PASSWORD") AND SUPERUSER = true AND LOGIN = true"
    continue
  fi
  [ "$attempt" -lt 60 ] || { echo "neither $CASSANDRA_ADMIN_USERNAME nor the default role can log in" >&2; exit 1; }
  sleep 5
done

if admin -e "SELECT can_login FROM system_auth.roles WHERE role = 'cassandra'" | grep -q True; then
  echo "disabling the default cassandra role"
  admin -e "ALTER ROLE cassandra WITH PASSWORD = $(literal "$(head -c 24 /dev/urandom | base64)") AND SUPERUSER = false AND LOGIN = false"
fi

for ks in "$keyspace" "${keyspace}_g1"; do
  admin -e "CREATE KEYSPACE IF NOT EXISTS $ks WITH replication = $replication"
done

if ! admin -e "SELECT role FROM system_auth.roles WHERE role = '$service_role'" | grep -qw "$service_role"; then
  admin -e "CREATE ROLE $service_role WITH PASSWORD = $(literal "$QUERY_API_CASSANDRA_PASSWORD") AND LOGIN = true AND SUPERUSER = false"
elif ! as "$service_role" "$QUERY_API_CASSANDRA_PASSWORD" -e 'SELECT release_version FROM system.local' >/dev/null 2>&1; then
  echo "setting the password of $service_role from its Secret"
  admin -e "ALTER ROLE $service_role WITH PASSWORD = $(literal "$QUERY_API_CASSANDRA_PASSWORD") AND LOGIN = true AND SUPERUSER = false"
fi

# The control keyspace and every read-model generation that exists (a rebuild grants new ones).
for ks in $(admin -e 'SELECT keyspace_name FROM system_schema.keyspaces' | grep -oE "^ *${keyspace}(_g[0-9]+)? *$"); do
  for permission in SELECT MODIFY CREATE ALTER; do
    admin -e "GRANT $permission ON KEYSPACE $ks TO $service_role"
  done
  echo "$ks: $service_role may SELECT, MODIFY, CREATE, ALTER"
done
