#!/usr/bin/env bash
# Renders `runbook report --html` in headless Chromium (Debian's `chromium`,
# installed if missing): dumps the DOM and checks that the overview table,
# both SVG charts and the failures rendered, and takes a screenshot to look
# at. Not a test (Chromium is large); run it after changing the report.
#   bench/report_check.sh [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
shot="${1:-/tmp/runbook-report.png}"
command -v chromium >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
swift build -c release --static-swift-stdlib --product runbook >/dev/null
swift build -c release --static-swift-stdlib --product runbook-init >/dev/null
bin="$(swift build -c release --show-bin-path)/runbook"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/runbooks" "$work/schedules"
cp runbooks/* "$work/runbooks/"
cp schedules/* "$work/schedules/"
printf 'echo "syncing invoices"\necho "ERROR: CRM returned 503 for /api/invoices" >&2\nexit 2\n' > "$work/runbooks/sync-invoices.sh"
printf '# runbook: timeout = 1s\necho "rotating"\nsleep 5\n' > "$work/runbooks/rotate-logs.sh"
"$bin" --root "$work" publish --all -m check >/dev/null
# A week of synthetic history around the real jobs, so the timeline has something to show.
now=$(date +%s)
sqlite3 "$work/.runbook/runbook.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2999),
rows(i, at, kind, took) AS (SELECT i, $now - 604800 + i * 201.6, (i * 7919) % 100, ((i * 104729) % 300) / 10.0 FROM n)
INSERT INTO jobs (runbook, revision, trigger, status, reason, queued_at, started_at, ended_at, host)
SELECT CASE i % 4 WHEN 0 THEN 'hello' WHEN 1 THEN 'load-history' WHEN 2 THEN 'sync-invoices' ELSE 'rotate-logs' END, 1, 'schedule',
       CASE WHEN kind < 97 - (i % 4) * 2 THEN 'succeeded' WHEN kind < 98 THEN 'failed' WHEN kind < 99 THEN 'skipped' ELSE 'timed-out' END,
       'synthetic', at - 300, at - 300, at - 300 + took, 'check' FROM rows;
SQL
# Then real jobs, so the last failures have real logs.
for name in hello sync-invoices rotate-logs load-history; do "$bin" --root "$work" run "$name" >/dev/null 2>&1 || true; done
"$bin" --root "$work" report --html "$work/report.html" --since 7d
dom="$(chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$work/report.html" 2>/dev/null)"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1900 --screenshot="$shot" "file://$work/report.html" >/dev/null 2>&1
python3 - "$dom" <<'PY'
import re, sys
dom = sys.argv[1]
checks = {
    "overview table with a row per runbook": len(re.findall(r'<th scope="row">', dom)) >= 4 and "<table>" in dom,
    "two SVG charts": dom.count("<svg") == 2,
    "timeline cells coloured by status": all(f'class="{kind}"' in dom for kind in ("ok", "bad", "warn")),
    "duration bars": 'class="p50"' in dom and 'class="p95"' in dom,
    "last failures with their log tails": "ERROR: CRM returned 503" in dom,
    "no script": "<script" not in dom.lower(),
}
for name, passed in checks.items():
    print(f"{'ok  ' if passed else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
PY
echo "screenshot: $shot"
