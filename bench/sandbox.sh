#!/usr/bin/env bash
# Benchmark of the sandbox (issue 4), release build:
#  1. spawn-to-exit of /bin/true under runbook-init through the sandbox
#     (default confinement, and with network off) beside bare posix_spawn in
#     the same run, interleaved, 2,000 iterations, median and p99; plus the
#     same with per-job cgroups made, joined and removed (fewer iterations).
#     Targets: overhead over bare spawn < 1 ms median (network off: < 2 ms).
#  2. whole-process `runbook run` of a no-op shell runbook (sandboxed, as
#     configured here) vs `runbook run` with `sandbox = off` vs `bash -c
#     true`, median of 200. Target: runbook run < 10 ms median.
#   bench/sandbox.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-2000}"
for product in runbook runbook-init runbook-bench; do
    swift build -c release --static-swift-stdlib --product "$product" >/dev/null
done
bin="$(swift build -c release --show-bin-path)"
"$bin/runbook-bench" sandbox "$iterations"
echo

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
for variant in on off; do
    mkdir -p "$work/$variant/runbooks"
    printf 'true\n' > "$work/$variant/runbooks/noop.sh"
    printf 'sandbox = %s\n' "$variant" > "$work/$variant/runbook.conf"
    "$bin/runbook" --root "$work/$variant" publish noop >/dev/null
done
python3 - "$bin/runbook" "$work" <<'PY'
import statistics, subprocess, sys, time
runbook, work = sys.argv[1], sys.argv[2]
rows = [
    ("runbook run noop (sandbox)", [runbook, "--root", f"{work}/on", "run", "noop"], 10),
    ("runbook run noop (sandbox = off)", [runbook, "--root", f"{work}/off", "run", "noop"], None),
    ("bash -c true", ["bash", "-c", "true"], None),
]
samples = {name: [] for name, _, _ in rows}
for _ in range(200):
    for name, command, _ in rows:
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples[name].append((time.perf_counter() - start) * 1000)
print(f"{'whole process, 200 runs':36} {'median ms':>10} {'p99 ms':>8} {'target':>10}")
for name, _, target in rows:
    values = sorted(samples[name])
    median, p99 = statistics.median(values), values[int(len(values) * 0.99) - 1]
    verdict = "" if target is None else (f"< {target}" + (" ok" if median < target else " MISSED"))
    print(f"{name:36} {median:10.2f} {p99:8.2f} {verdict:>10}")
PY
