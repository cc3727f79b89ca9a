#!/bin/sh
# Entrypoint of the tw-postgres image (scripts/docker-images): the subset of the official
# postgres image's behaviour the compose files rely on. On an empty PGDATA it runs initdb with
# POSTGRES_USER / POSTGRES_PASSWORD (scram-sha-256 over TCP, trust on the local socket) and
# creates POSTGRES_DB; then it runs the server in the foreground, listening on all addresses.
# POSTGRES_PASSWORD may come as a file (POSTGRES_PASSWORD_FILE, e.g. a compose secret), as
# with the official image.
set -eu
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    echo "docker-entrypoint: both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set: use one" >&2
    exit 1
  fi
  POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ "${1:-postgres}" != postgres ]; then
  exec "$@"
fi
shift || true
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "docker-entrypoint: POSTGRES_PASSWORD must be set" >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d postgres \
      -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  echo "docker-entrypoint: initialised $PGDATA (database $POSTGRES_DB)" >&2
fi
exec postgres -D "$PGDATA" "$@"
