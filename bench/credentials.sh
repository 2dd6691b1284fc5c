#!/usr/bin/env bash
# Benchmark of credential masking (issue 5): 200 MB of mixed job output
# (one line in ten carries one of 50 active secrets) through the full
# capture path — pipe, line splitting, masking, timestamped log — against
# the same output captured without secrets, plus the masker alone.
# Targets: >= 300 MB/s masked; masking under 25% of capture time.
#   bench/credentials.sh [MB] [ROUNDS]   (each round captures both ways; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product runbook-bench >/dev/null
swift build -c release --product runbook-init >/dev/null
"$(swift build -c release --show-bin-path)/runbook-bench" capture "${1:-200}" "${2:-3}"
