#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the multi-host tests.
#   .ci/postgres.sh start DIR   initdb into DIR (if empty) and start it; prints
#                               the URL on stdout
#   .ci/postgres.sh stop DIR    stop it (fast: sessions are cut, as in an outage)
#   .ci/postgres.sh resume DIR  start it again after stop
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` system user (created if missing). Debian's postgresql package is
# installed when it is missing.
set -euo pipefail
action=${1:?start|stop|resume}
dir=${2:?data directory}
port=${RUNBOOK_TEST_PGPORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
case $action in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres; chown postgres "$dir"; chmod 700 "$dir"; }
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir" -U runbook --auth=trust -E UTF8 --no-locale >/dev/null
        cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
CONF
    fi
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
    echo "postgres://runbook@127.0.0.1:$port/postgres"
    ;;
resume)
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
*)
    echo "usage: $0 start|stop|resume DIR" >&2
    exit 2
    ;;
esac
