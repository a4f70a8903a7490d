#!/usr/bin/env bash
# Source this: starts a throwaway PostgreSQL cluster on localhost for the run and exports
# COHORT_TEST_POSTGRES_URL (and COHORT_TEST_REQUIRE_POSTGRES=1, so Postgres tests fail
# rather than skip). The cluster lives in a temp dir and is stopped and removed on exit.
# Debian's `postgresql` is installed with apt when missing. The server refuses to run as
# root, so as root it runs as the `postgres` user the package creates.

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$bin" ] && echo "$bin"
}

if [ -z "$(pg_bin)" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
fi
PG_BIN=$(pg_bin)
PG_DIR=$(mktemp -d /tmp/cohort-ci-pg.XXXXXX)
PG_PORT=${COHORT_CI_PG_PORT:-55439}
if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    as_pg() { su postgres -s /bin/bash -c "$*"; }
else
    as_pg() { bash -c "$*"; }
fi
as_pg "'$PG_BIN/initdb' -D '$PG_DIR/data' -A trust -U postgres >'$PG_DIR/initdb.log' 2>&1"
as_pg "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -l '$PG_DIR/server.log' -w start \
    -o \"-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\"" >/dev/null
stop_postgres() {
    as_pg "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT
export COHORT_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
export COHORT_TEST_REQUIRE_POSTGRES=1
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT for this run"
