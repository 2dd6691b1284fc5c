#!/usr/bin/env bash
# Benchmark of the reports (issue 7): `runbook jobs --limit 50` and
# `runbook overview --since 7d` on a store of 1,000,000 jobs (50 runbooks,
# 90 days of history, about 78,000 jobs in the last 7 days), median of 20
# runs of the whole process, release build. Target: under 100 ms each.
# Also prints the store's size on disk and the cost of a few more reads.
#   bench/reports.sh [JOBS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${1:-1000000}"
runs="${2:-20}"
swift build -c release --static-swift-stdlib --product runbook >/dev/null
bin="$(swift build -c release --show-bin-path)/runbook"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/runbooks" "$work/schedules"
for i in $(seq -w 0 49); do
    printf '# runbook: description = bench runbook %s\necho %s\n' "$i" "$i" > "$work/runbooks/r$i.sh"
done
for i in $(seq -w 0 9); do
    printf 'runbook = r%s\nevery = 15 minutes\n' "$i" > "$work/schedules/r$i.schedule"
done
"$bin" --root "$work" publish --all -m bench >/dev/null

# The history, written in one statement: jobs one after another over 90
# days up to now, round-robin over the runbooks; 88% succeeded, then
# failed, timed-out, skipped, interrupted and cancelled; 0-60 s each.
now=$(date +%s)
span=$((90 * 86400))
seeded_at=$(date +%s.%N)
sqlite3 "$work/.runbook/runbook.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $jobs - 1),
rows(i, at, kind, took) AS (
    SELECT i, $now - $span + i * ($span * 1.0 / $jobs), (i * 7919) % 100, ((i * 104729) % 600) / 10.0 FROM n)
INSERT INTO jobs (runbook, revision, snapshot, trigger, schedule, slot, status, reason, exit_code,
                  queued_at, started_at, ended_at, host, owner_pid)
SELECT printf('r%02d', i % 50), 1, 'bench', CASE WHEN i % 50 < 10 THEN 'schedule' ELSE 'manual' END,
       CASE WHEN i % 50 < 10 THEN printf('r%02d', i % 50) END, CASE WHEN i % 50 < 10 THEN at END,
       CASE WHEN kind < 88 THEN 'succeeded' WHEN kind < 94 THEN 'failed' WHEN kind < 96 THEN 'timed-out'
            WHEN kind < 98 THEN 'skipped' WHEN kind < 99 THEN 'interrupted' ELSE 'cancelled' END,
       CASE WHEN kind < 88 THEN 'exit code 0' WHEN kind < 94 THEN 'exit code 1' ELSE 'bench' END,
       CASE WHEN kind < 88 THEN 0 WHEN kind < 94 THEN 1 END,
       at, CASE WHEN kind NOT IN (96, 97) THEN at END, CASE WHEN kind NOT IN (96, 97) THEN at + took END, 'bench', 1
FROM rows;
SQL
echo "seeded $jobs jobs in $(python3 -c "import time; print(f'{time.time() - $seeded_at:.1f}')") s"
# The latest failure of each runbook has a log with its first error.
sqlite3 "$work/.runbook/runbook.db" "SELECT MAX(id) FROM jobs WHERE status IN ('failed','timed-out','limit-exceeded','interrupted') GROUP BY runbook" |
    while read -r id; do
        printf '2026-01-01T00:00:00.000Z out working\n2026-01-01T00:00:00.000Z err ERROR: bench failure %s\n' "$id" > "$work/.runbook/logs/$id.log"
    done
sqlite3 "$work/.runbook/runbook.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
echo "store: $(du -h "$work/.runbook/runbook.db" | cut -f1) on disk ($(stat -c %s "$work/.runbook/runbook.db") bytes) for $(sqlite3 "$work/.runbook/runbook.db" "SELECT COUNT(*) FROM jobs") jobs"

python3 - "$runs" "$bin" "$work" <<'PY'
import statistics, subprocess, sys, time
runs, runbook, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def measure(arguments):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([runbook, "--root", work] + arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)]
rows = [
    ("jobs --limit 50", ["jobs", "--limit", "50"], 100),
    ("overview --since 7d", ["overview", "--since", "7d"], 100),
    ("overview --since 7d --json", ["overview", "--since", "7d", "--json"], None),
    ("overview (24h)", ["overview"], None),
    ("jobs --status failed --limit 50", ["jobs", "--status", "failed", "--limit", "50"], None),
    ("jobs --runbook r07 --since 24h", ["jobs", "--runbook", "r07", "--since", "24h"], None),
    ("jobs --schedule r03 --limit 50", ["jobs", "--schedule", "r03", "--limit", "50"], None),
    ("report --html (7d)", ["report", "--html", f"{work}/report.html"], None),
]
print(f"{'command':36} {'median ms':>10} {'p90 ms':>8}  target")
for label, arguments, target in rows:
    median, p90 = measure(arguments)
    verdict = "" if target is None else (f"< {target} ms: " + ("met" if median < target else "MISSED"))
    print(f"{label:36} {median:10.2f} {p90:8.2f}  {verdict}")
PY
