#!/usr/bin/env bash
# runbook: description = Greets someone and counts how often it has run
# runbook: parameters = GREETING=Hello, WHO=world
# runbook: timeout = 1m
# runbook: output = 1M
set -euo pipefail

# RUNBOOK_DATA persists between runs of this runbook (tests get their own).
count_file="$RUNBOOK_DATA/runs"
count=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$count" > "$count_file"

echo "$GREETING, $WHO! (run $count, job $RUNBOOK_JOB_ID, revision $RUNBOOK_REVISION, mode $RUNBOOK_MODE)"
if [[ "${RUNBOOK_DRY_RUN:-}" == 1 ]]; then
  echo "dry run: nothing would be changed" >&2
fi
