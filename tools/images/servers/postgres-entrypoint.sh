#!/bin/bash
# As the postgres:15 image: on an empty $PGDATA, initdb with the superuser postgres and the password
# $POSTGRES_PASSWORD (SCRAM-SHA-256 for every TCP client, trust only on the local socket), listening on
# every interface of the container; then the server, as the user postgres.
set -euo pipefail
if [[ $(id -u) == 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD, the password of the superuser postgres}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username=postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  echo "postgres: initialised $PGDATA"
fi
if [[ ${1:-} == postgres ]]; then shift; exec postgres -D "$PGDATA" "$@"; fi
exec "$@"
