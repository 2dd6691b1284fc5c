#!/usr/bin/env bash
# Benchmark: next-fire computations per second for a mix of 1,000 cron and
# readable specs across zones, against cronsim and croniter on the same mix
# (readable specs are timed in Python as their cron equivalents), then the
# cronsim/croniter cross-check.
#   bench/schedules.sh [--scratch-path DIR]
# Needs: pip install cronsim croniter
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=(--scratch-path "${SCRATCH_PATH:-.build}")
if [[ "${1:-}" == "--scratch-path" ]]; then scratch=(--scratch-path "$2"); fi
swift build -c release "${scratch[@]}" --product runbook-bench
bin="$(swift build -c release "${scratch[@]}" --show-bin-path)/runbook-bench"
mix="$(mktemp)"
shim="$(mktemp --suffix .so)"
trap 'rm -f "$mix" "$shim"' EXIT
if cc -shared -fPIC -O2 -o "$shim" bench/malloc_count.c -ldl 2>/dev/null; then
    LD_PRELOAD="$shim" "$bin" schedules --mix "$mix"
else
    "$bin" schedules --mix "$mix"
fi
python3 bench/cron_compare.py --bench "$mix" --rounds 3
python3 bench/cron_compare.py --binary "$bin" --cases "${CASES:-5000}" --irregular --show 5 --show-croniter 2
