#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the multi-host tests.
#   .ci/postgres.sh start DIR   initdb into DIR (if empty) and start it on
#                               RUNBOOK_TEST_PGPORT; prints the URL on stdout
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
# pg_ctl says only "could not start server. Examine the log output": show the
# end of that log, which names the cause (a port in use, a stale lock file).
start_server() {
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null || {
        status=$?
        echo "postgres.sh: the server in $dir did not start; the end of $dir/server.log:" >&2
        tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
        exit $status
    }
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
    else
        # The port asked for now, not the one of the first start: a caller
        # retrying on another port after a clash would otherwise clash again
        # on the old one, and be given a URL the server doesn't listen on.
        as_owner sed -i "s/^port = .*/port = $port/" "$dir/postgresql.conf"
    fi
    start_server
    echo "postgres://runbook@127.0.0.1:$port/postgres"
    ;;
resume)
    start_server
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
*)
    echo "usage: $0 start|stop|resume DIR" >&2
    exit 2
    ;;
esac
