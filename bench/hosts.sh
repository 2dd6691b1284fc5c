#!/usr/bin/env bash
# Several hosts on one PostgreSQL database (issue 8): slot claims per second
# and p99 lateness of 10,000 schedules with 1, 2 and 3 hosts on one
# database, beside one host on SQLite in the same run. See hosts_bench.py.
#   bench/hosts.sh [--bursts N] [--schedules N] [--hosts 1,2,3] [--config 'sandbox = off']
# Uses the server RUNBOOK_BENCH_DATABASE names, else starts a throwaway one
# with .ci/postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product runbook >/dev/null
swift build -c release --static-swift-stdlib --product runbook-init >/dev/null
command -v psql >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null; }
database=${RUNBOOK_BENCH_DATABASE:-}
if [ -z "$database" ]; then
    pgdir=$(mktemp -d /tmp/runbook-bench-pg-XXXXXX)
    chmod 755 "$pgdir"
    export RUNBOOK_TEST_PGPORT=$((20000 + RANDOM % 30000))
    trap '.ci/postgres.sh stop "$pgdir/data" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
    database=$(.ci/postgres.sh start "$pgdir/data")
fi
# A host keeps a cancellation pipe per queued job: 10,000 slots due at once
# need more descriptors than the usual soft limit of 1,024.
ulimit -n "$(ulimit -Hn)"
python3 bench/hosts_bench.py --runbook "$(swift build -c release --show-bin-path)/runbook" --database "$database" "$@"
