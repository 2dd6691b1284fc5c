#!/usr/bin/env bash
# Benchmarks of the host (issue 6): lateness of 1,000 schedules over three
# minutes (beside APScheduler doing the same), host RSS, and the rate at
# which 5,000 due slots drain with --max-concurrent 16. See host_bench.py.
#   bench/host.sh [--minutes M] [--skip-apscheduler]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product runbook >/dev/null
swift build -c release --static-swift-stdlib --product runbook-init >/dev/null
python3 -c 'import apscheduler' 2>/dev/null || pip install -q 'apscheduler<4' >/dev/null 2>&1 || true
python3 bench/host_bench.py --runbook "$(swift build -c release --show-bin-path)/runbook" "$@"
