#!/usr/bin/env python3
"""Several hosts on one PostgreSQL database (issue 8), run by bench/hosts.sh.

10,000 schedules `every 1 minutes` (no jitter: every slot of a minute falls
due at the same instant, the hardest case for claiming) of one no-op
runbook, served by 1, 2 and 3 hosts sharing one PostgreSQL database, and
by one host on SQLite in the same run. Each host has its own root and
state, as on separate machines. For each minute boundary after every host
has started (--bursts of them):

  claims/s     slots claimed / (last claim - first claim) in that burst
  claim p50/p99  claimed_at - slot (when the store accepted the claim)
  start p50/p99  started_at - slot (when the job was marked running)

and checks that no slot has two jobs. Reuses make_root, run and
percentile from host_bench.py.
"""
import argparse, math, os, signal, sqlite3, subprocess, sys, time

sys.path.insert(0, os.path.dirname(__file__))
from host_bench import make_root, percentile, run  # noqa: E402

SCHEDULES = "every = 1 minutes\nrunbook = noop\noverlap = allow\ntimezone = UTC\n"

def make_roots(count, schedules, config):
    roots = []
    for _ in range(count):
        root = make_root("runbook-hosts-", config)
        with open(f"{root}/runbooks/noop.sh", "w") as f:
            f.write("true\n")
        for i in range(schedules):
            with open(f"{root}/schedules/s{i:05d}.schedule", "w") as f:
                f.write(SCHEDULES)
        roots.append(root)
    return roots

def psql(url, query):
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-d", url, "-c", query],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]

def serve(runbook, roots, database, bursts):
    """Starts one host per root, waits for `bursts` minute boundaries after all started, stops them."""
    env_base = dict(os.environ)
    if database:
        env_base["RUNBOOK_DATABASE"] = database
    else:
        env_base.pop("RUNBOOK_DATABASE", None)
    run([runbook, "publish", "noop"], env=dict(env_base, RUNBOOK_ROOT=roots[0]))
    hosts, logs = [], []
    for root in roots:
        log = open(f"{root}/serve.log", "w")
        logs.append(log)
        hosts.append(subprocess.Popen([runbook, "serve", "--grace", "30s"], env=dict(env_base, RUNBOOK_ROOT=root), stderr=log))
    deadline = time.time() + 120
    while time.time() < deadline:
        if all(" started (" in open(f"{root}/serve.log").read() for root in roots):
            break
        time.sleep(0.2)
    first = math.ceil((time.time() + 3) / 60) * 60
    boundaries = [first + 60 * i for i in range(bursts)]
    # Let the last burst drain: its 10,000 jobs run on these two cores too.
    time.sleep(max(0, boundaries[-1] + 45 - time.time()))
    for host in hosts:
        host.send_signal(signal.SIGTERM)
    for host in hosts:
        host.wait()
    for log in logs:
        log.close()
    return boundaries

def figures(rows, boundaries):
    """rows: (slot, claimed_at, started_at or None) of claimed slots."""
    result = []
    for boundary in boundaries:
        burst = [r for r in rows if abs(r[0] - boundary) < 0.5]
        if not burst:
            result.append(None)
            continue
        claimed = [r[1] for r in burst]
        span = max(claimed) - min(claimed)
        claim_late = [(r[1] - r[0]) * 1000 for r in burst]
        start_late = [(r[2] - r[0]) * 1000 for r in burst if r[2] is not None]
        result.append(dict(claims=len(burst), rate=len(burst) / span if span > 0 else float("inf"),
                           claim50=percentile(claim_late, 0.5), claim99=percentile(claim_late, 0.99),
                           start50=percentile(start_late, 0.5) if start_late else float("nan"),
                           start99=percentile(start_late, 0.99) if start_late else float("nan"),
                           started=len(start_late)))
    return result

def sqlite_case(runbook, schedules, bursts, config):
    roots = make_roots(1, schedules, config)
    boundaries = serve(runbook, roots, None, bursts)
    db = sqlite3.connect(f"{roots[0]}/.runbook/runbook.db")
    rows = db.execute("""SELECT s.slot, s.claimed_at, j.started_at FROM slots s
                         LEFT JOIN jobs j ON j.schedule = s.schedule AND j.slot = s.slot AND j.trigger = 'schedule'""").fetchall()
    doubled = db.execute("""SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE trigger = 'schedule'
                            GROUP BY schedule, slot HAVING COUNT(*) > 1)""").fetchone()[0]
    db.close()
    subprocess.run(["rm", "-rf"] + roots)
    return figures(rows, boundaries), doubled

def postgres_case(runbook, server, hosts, schedules, bursts, config):
    name = f"runbook_bench_{os.getpid()}_{hosts}"
    psql(server, f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + "/" + name
    roots = make_roots(hosts, schedules, config)
    try:
        boundaries = serve(runbook, roots, url, bursts)
        rows = [(float(a), float(b), float(c) if c else None) for a, b, c in psql(url, """
            SELECT s.slot, s.claimed_at, j.started_at FROM slots s
            LEFT JOIN jobs j ON j.schedule = s.schedule AND j.slot = s.slot AND j.trigger = 'schedule'""")]
        doubled = int(psql(url, """SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE trigger = 'schedule'
                                   GROUP BY schedule, slot HAVING COUNT(*) > 1) t""")[0][0])
        per_host = psql(url, "SELECT owner_pid, COUNT(*) FROM jobs GROUP BY owner_pid ORDER BY 2 DESC")
    finally:
        subprocess.run(["rm", "-rf"] + roots)
        psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return figures(rows, boundaries), doubled, [int(n) for _, n in per_host]

def report(label, results, doubled, extra=""):
    for index, r in enumerate(results):
        if r is None:
            print(f"  {label:14} burst {index + 1}: no claims")
            continue
        print(f"  {label:14} burst {index + 1}: {r['claims']:6} claims  {r['rate']:8.0f} claims/s  "
              f"claim p50 {r['claim50']:7.0f} ms  p99 {r['claim99']:7.0f} ms  "
              f"start p50 {r['start50']:7.0f} ms  p99 {r['start99']:7.0f} ms  ({r['started']} started)  "
              f"doubled slots: {doubled}{extra}")

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runbook", required=True)
    parser.add_argument("--database", required=True, help="postgres:// URL of a server where the bench may create databases")
    parser.add_argument("--schedules", type=int, default=10000)
    parser.add_argument("--bursts", type=int, default=2)
    parser.add_argument("--hosts", default="1,2,3")
    parser.add_argument("--config", default="sandbox = off\n", help="runbook.conf text for the roots")
    args = parser.parse_args()
    config = args.config.replace("\\n", "\n")
    print(f"{args.schedules} schedules every minute, all due at :00; {args.bursts} burst(s) per case; runbook.conf: {config.strip() or '-'}")
    results, doubled = sqlite_case(args.runbook, args.schedules, args.bursts, config)
    report("sqlite 1 host", results, doubled)
    for hosts in [int(h) for h in args.hosts.split(",")]:
        results, doubled, per_host = postgres_case(args.runbook, args.database, hosts, args.schedules, args.bursts, config)
        report(f"postgres {hosts} host" + ("s" if hosts > 1 else ""), results, doubled, f"  jobs per host: {per_host}")

if __name__ == "__main__":
    main()
