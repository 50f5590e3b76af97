#!/bin/sh
# The part of the official postgres image's entrypoint this project relies on:
# as root, hand over to the postgres user; create the cluster in PGDATA once
# (host connections trusted, POSTGRES_HOST_AUTH_METHOD=trust); then exec the
# server, so it is PID 1 and gets the container's signals itself.
set -eu
if [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
        echo "this image supports POSTGRES_HOST_AUTH_METHOD=trust only" >&2
        exit 1
    fi
    initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" -E UTF8 --locale=C --auth=trust
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all trust" >>"$PGDATA/pg_hba.conf"
fi
exec "$@"
