#!/usr/bin/env bash
# Benchmark of the core (issue 2): whole-process cost of `runbook run` on a
# no-op shell runbook, median of 50 runs, release build, beside `bash -c
# true` and `sqlite3` inserting one row in WAL mode; and `runbook list` with
# 1,000 runbooks. Targets: run < 10 ms median, list < 50 ms.
#   bench/core.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
swift build -c release --static-swift-stdlib --product runbook >/dev/null
swift build -c release --static-swift-stdlib --product runbook-init >/dev/null
bin="$(swift build -c release --show-bin-path)/runbook"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/one/runbooks" "$work/many/runbooks"
printf 'true\n' > "$work/one/runbooks/noop.sh"
"$bin" --root "$work/one" publish noop >/dev/null
for i in $(seq 1 1000); do
    printf '#!/bin/bash\n# runbook: description = runbook %d\n# runbook: timeout = 5m\necho %d\n' "$i" "$i" > "$work/many/runbooks/rb$i.sh"
done
"$bin" --root "$work/many" list >/dev/null   # creates the state once
sqlite3 "$work/bench.db" "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(x);" >/dev/null

python3 - "$runs" "$bin" "$work" <<'PY'
import statistics, subprocess, sys, time
runs, runbook, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def median_ms(command):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), sorted(samples)[int(len(samples) * 0.9)]
rows = [
    ("runbook run noop", [runbook, "--root", f"{work}/one", "run", "noop"], 10),
    ("bash -c true", ["bash", "-c", "true"], None),
    ("sqlite3 insert (WAL, FULL)", ["sqlite3", f"{work}/bench.db", "PRAGMA synchronous=FULL; INSERT INTO t VALUES (1);"], None),
    ("runbook list, 1,000 runbooks", [runbook, "--root", f"{work}/many", "list"], 50),
]
print(f"{'what':32} {'median ms':>10} {'p90 ms':>8} {'target':>8}")
for name, command, target in rows:
    median, p90 = median_ms(command)
    verdict = "" if target is None else (f"< {target}" + (" ok" if median < target else " MISSED"))
    print(f"{name:32} {median:10.2f} {p90:8.2f} {verdict:>8}")
PY
