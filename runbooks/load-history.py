#!/usr/bin/env python3
# runbook: description = Records the load average and reports what is new since the last success
# runbook: parameters = KEEP=1000
# runbook: timeout = 2m
"""Incremental work, the way a scheduled runbook should do it.

Each run appends one sample to RUNBOOK_DATA/history.csv (kept between runs)
and reports only the samples taken after RUNBOOK_LAST_SUCCESS, the start of
the previous successful run, so a retried or caught-up run never reports a
sample twice and never skips one.
"""
import csv
import os
import sys
from datetime import datetime, timezone

data = os.environ["RUNBOOK_DATA"]
history = os.path.join(data, "history.csv")
keep = int(os.environ["KEEP"])
last_success = os.environ.get("RUNBOOK_LAST_SUCCESS") or ""
since = datetime.fromisoformat(last_success.replace("Z", "+00:00")) if last_success else None

with open("/proc/loadavg") as f:
    one, five, fifteen = f.read().split()[:3]
now = datetime.now(timezone.utc)

rows = []
if os.path.exists(history):
    with open(history, newline="") as f:
        rows = list(csv.reader(f))
rows.append([now.isoformat(), one, five, fifteen])
rows = rows[-keep:]

if os.environ.get("RUNBOOK_DRY_RUN") == "1":
    print("dry run: would record", rows[-1], file=sys.stderr)
else:
    tmp = history + ".tmp"
    with open(tmp, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    os.replace(tmp, history)

fresh = [r for r in rows if since is None or datetime.fromisoformat(r[0]) > since]
print(f"{len(fresh)} sample(s) since {last_success or 'the beginning'}:")
for taken, a, b, c in fresh:
    print(f"  {taken}  load {a} {b} {c}")
