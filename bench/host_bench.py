#!/usr/bin/env python3
"""Benchmarks of the host (issue 6), run by bench/host.sh.

lateness: 1,000 schedules of one no-op shell runbook, `every 1 minutes`
          with `jitter = 59s` (a stable per-slot delay, so the fires spread
          over the minute), for --minutes minutes. Lateness is the job
          process's own start time minus its intended instant (slot +
          jitter, recomputed with runbook's formula). The start time is
          bash's $EPOCHREALTIME at the script's first command: the job's
          own process reading the clock, with no second process (`date`
          would measure a fork and exec of its own, about 1 ms more on an
          idle machine and several in a burst). The floor and
          APScheduler are measured the same way. Also the host's peak RSS.
throughput: 5,000 slots due at once (one `every 1 seconds` schedule whose
          last claimed slot is 5,000 s ago, catch-up = all, overlap = allow),
          drained with --max-concurrent 16: jobs per second, every one recorded.
floor:    the same probe at the same instants, started by bench/gate_floor.c
          (forked ahead, released at the instant): the machine's own limit.
apscheduler: APScheduler 3 (pip) running the same 1,000 schedules' jobs at
          the same instants, as subprocesses.
"""
import argparse, json, os, signal, sqlite3, statistics, subprocess, sys, tempfile, time, threading

def jitter(slot_seconds: int, name: str, bound: int) -> int:
    """runbook's jitterDelay: FNV-1a over the name and the slot's second, then SplitMix64."""
    mask = (1 << 64) - 1
    h = 0xcbf29ce484222325
    for b in name.encode():
        h ^= b
        h = (h * 0x00000100000001b3) & mask
    second = slot_seconds & mask
    for _ in range(8):
        h ^= second & 0xff
        h = (h * 0x00000100000001b3) & mask
        second >>= 8
    z = (h + 0x9e3779b97f4a7c15) & mask
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & mask
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & mask
    z ^= z >> 31
    return z % bound

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]

def rss_sampler(pid, peak):
    while True:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
        except OSError:
            return
        time.sleep(0.2)

def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

def make_root(prefix, config):
    """A fresh repository root, with runbook.conf when `config` is given."""
    root = tempfile.mkdtemp(prefix=prefix)
    os.makedirs(f"{root}/runbooks"); os.makedirs(f"{root}/schedules")
    if config:
        with open(f"{root}/runbook.conf", "w") as f:
            f.write(config)
    return root

SCHEDULES = [f"s{i:04d}" for i in range(1000)]

def next_minute_start():
    """Waits until 3 s before the next whole minute and returns that minute:
    each run then covers whole minutes."""
    now = time.time()
    minute = int(now) - int(now) % 60 + 60
    if minute - now < 3:
        minute += 60
    time.sleep(max(0, minute - 3 - time.time()))
    return minute

def instants(first_minute, minutes):
    """Every job's intended instant over `minutes` whole minutes: each
    schedule's minute slot plus its stable jitter (runbook's formula), as
    {instant: jobs due then}."""
    due = {}
    for m in range(int(minutes)):
        slot = first_minute + 60 * m
        for name in SCHEDULES:
            instant = slot + jitter(slot, name, 59)
            due[instant] = due.get(instant, 0) + 1
    return due

def lateness(runbook, minutes, config="", serve_args=()):
    root = make_root("runbook-lateness-", config)
    with open(f"{root}/runbooks/probe.sh", "w") as f:
        f.write('echo "$RUNBOOK_JOB_ID $EPOCHREALTIME" >> "$RUNBOOK_DATA/starts"\n')
    for name in SCHEDULES:
        with open(f"{root}/schedules/{name}.schedule", "w") as f:
            f.write("every = 1 minutes\nrunbook = probe\njitter = 59s\noverlap = allow\ntimezone = UTC\n")
    env = dict(os.environ, RUNBOOK_ROOT=root)
    run([runbook, "publish", "probe"], env=env)
    first = next_minute_start()
    host = subprocess.Popen([runbook, "serve", *serve_args], env=env, stderr=subprocess.DEVNULL)
    peak = [0]
    threading.Thread(target=rss_sampler, args=(host.pid, peak), daemon=True).start()
    time.sleep(max(0, first + minutes * 60 - 1 - time.time()))
    host.send_signal(signal.SIGTERM); host.wait()
    jobs = json.loads(run([runbook, "jobs", "--json", "--limit", "0"], env=env).stdout)
    starts = {}
    with open(f"{root}/.runbook/data/probe/starts") as f:
        for line in f:
            job, at = line.split()
            starts[int(job)] = float(at)
    late = []
    for job in jobs:
        if job["status"] != "succeeded" or job["id"] not in starts:
            continue
        slot = int(time.mktime(time.strptime(job["slot"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)
        intended = slot + jitter(slot, job["schedule"], 59)
        late.append((starts[job["id"]] - intended) * 1000)
    subprocess.run(["rm", "-rf", root])
    return late, peak[0] / 1024, len(jobs)

def throughput(runbook, slots, concurrency, config=""):
    root = make_root("runbook-throughput-", config)
    with open(f"{root}/runbooks/noop.sh", "w") as f:
        f.write("true\n")
    with open(f"{root}/schedules/burst.schedule", "w") as f:
        f.write("every = 1 seconds\nrunbook = noop\ncatch-up = all\ncatch-up-window = 1d\noverlap = allow\n")
    env = dict(os.environ, RUNBOOK_ROOT=root)
    run([runbook, "publish", "noop"], env=env)
    db = sqlite3.connect(f"{root}/.runbook/runbook.db")
    now = int(time.time())
    db.execute("INSERT INTO slots VALUES ('burst', ?, ?, ?, 'bench')", (now - slots, now - slots, now - slots))
    db.commit(); db.close()
    start = time.time()
    host = subprocess.Popen([runbook, "serve", "--max-concurrent", str(concurrency)], env=env, stderr=subprocess.DEVNULL)
    db = sqlite3.connect(f"{root}/.runbook/runbook.db")
    while True:
        done = db.execute("SELECT COUNT(*) FROM jobs WHERE status NOT IN ('queued', 'running')").fetchone()[0]
        if done >= slots:
            break
        time.sleep(0.05)
    took = time.time() - start
    host.send_signal(signal.SIGTERM); host.wait()
    counts = dict(db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
    db.close()
    subprocess.run(["rm", "-rf", root])
    return took, counts

def apscheduler_lateness(minutes):
    """APScheduler 3 running the same 1,000 schedules' jobs at the same
    instants (one date trigger per job: APScheduler's own jitter is neither
    stable nor runbook's), each a subprocess running the same probe."""
    try:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.date import DateTrigger
    except ImportError:
        return None
    import datetime
    late = []
    lock = threading.Lock()
    def job(intended):
        out = subprocess.run(["bash", "-c", "echo $EPOCHREALTIME"], capture_output=True, text=True).stdout
        with lock:
            late.append((float(out) - intended) * 1000)
    scheduler = BackgroundScheduler(job_defaults={"misfire_grace_time": 30, "coalesce": False, "max_instances": 5},
                                    executors={"default": {"type": "threadpool", "max_workers": 20}})
    first = next_minute_start()
    for instant, count in instants(first, minutes).items():
        when = datetime.datetime.fromtimestamp(instant, tz=datetime.timezone.utc)
        for _ in range(count):
            scheduler.add_job(job, DateTrigger(run_date=when), args=[instant])
    scheduler.start()
    time.sleep(max(0, first + minutes * 60 - 1 - time.time()))
    scheduler.shutdown(wait=True)
    return late

def floor_lateness(minutes):
    """The machine's floor: the same probe at the same instants, started by
    bench/gate_floor.c (children forked ahead, released at the instant, then
    exec bash): no runbook, no sandbox, no record."""
    work = tempfile.mkdtemp(prefix="runbook-floor-")
    here = os.path.dirname(os.path.abspath(__file__))
    compiler = next((c for c in ("cc", "clang", "gcc") if subprocess.run(["sh", "-c", f"command -v {c}"], capture_output=True).returncode == 0), None)
    if compiler is None:
        return None
    subprocess.run([compiler, "-O2", "-o", f"{work}/gate_floor", f"{here}/gate_floor.c"], check=True)
    probe, starts = f"{work}/probe.sh", f"{work}/starts"
    with open(probe, "w") as f:
        f.write(f'echo "$1 $EPOCHREALTIME" >> {starts}\n')
    first = next_minute_start()
    due = "".join(f"{instant} {count}\n" for instant, count in sorted(instants(first, minutes).items()))
    subprocess.run([f"{work}/gate_floor", probe], input=due, text=True, check=True)
    with open(starts) as f:
        late = [(float(at) - float(instant)) * 1000 for instant, at in (line.split() for line in f)]
    subprocess.run(["rm", "-rf", work])
    return late

def report(name, late):
    print(f"  {name:12} jobs={len(late):5}  p50={percentile(late, 0.5):7.1f} ms  p90={percentile(late, 0.9):7.1f} ms  "
          f"p99={percentile(late, 0.99):7.1f} ms  max={max(late):7.1f} ms")

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runbook", required=True)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--slots", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-apscheduler", action="store_true")
    parser.add_argument("--lateness-concurrency", type=int, default=0,
                        help="serve --max-concurrent for the lateness test (default: runbook's own default)")
    parser.add_argument("--config", default="", help="runbook.conf text for the benchmark roots, e.g. 'sandbox = off'")
    args = parser.parse_args()

    print(f"lateness: 1,000 schedules over a minute, {args.minutes:g} min (process start - intended instant)")
    serve_args = ["--max-concurrent", str(args.lateness_concurrency)] if args.lateness_concurrency else []
    late, rss, count = lateness(args.runbook, args.minutes, args.config.replace("\\n", "\n"), serve_args)
    report("runbook", late)
    print(f"  runbook host peak RSS: {rss:.1f} MB; {count} jobs recorded; "
          f"--max-concurrent {args.lateness_concurrency or 'default (cores x 4)'}")
    floor = floor_lateness(args.minutes)
    if floor:
        report("floor", floor)
        print("  (floor: the same probe at the same instants, forked ahead by a small C program and")
        print("   released at the instant: no runbook, no sandbox; bench/gate_floor.c)")
    if not args.skip_apscheduler:
        aps = apscheduler_lateness(args.minutes)
        if aps:
            report("apscheduler", aps)
        else:
            print("  apscheduler: not installed (pip install 'apscheduler<4')")
    print(f"throughput: {args.slots} slots due at once, --max-concurrent {args.concurrency}")
    took, counts = throughput(args.runbook, args.slots, args.concurrency, args.config.replace("\\n", "\n"))
    print(f"  drained in {took:.2f} s: {args.slots / took:.0f} jobs/s; recorded: {counts}")

if __name__ == "__main__":
    main()
