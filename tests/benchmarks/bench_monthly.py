"""Benchmark (run on demand): `sop report monthly` over a synthetic month of 10,000 runs and 5,000 tickets.

    .venv/bin/python tests/benchmarks/bench_monthly.py [--runs 10000] [--tickets 5000] [--keep]

The month is written the way the audit callback writes runs (events, signed ledger entries, records, reports:
runner.audit.store), spread over the days of the current month: backups with local and cloud repositories,
verifications, network checks, some failures and refusals. The tickets are a generic CSV export. Baseline in the
same run: `sop audit verify` of the same audit directory (the report verifies the ledger first, so this is the
part it cannot skip). Prints wall time, peak memory (max RSS of the child) and the ratio. No assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from runner.audit.events import EventLog
from runner.audit.record import build_record, final_status
from runner.audit.store import AuditStore, new_run_id
from runner.paths import REPO_ROOT

SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
JAKARTA = ZoneInfo("Asia/Jakarta")
HOSTS = ("stg-app1", "prod-app1", "prod-db1", "ws-lt01", "ws-lt02")
KINDS = (
    ("backup.yml", "Back up now | sop4.1", ["sop4.1", "iso8.13"],
     lambda rng: {"host": None, "status": "ok", "hooks": [], "finished": "x", "repositories": [
         {"repository": r, "status": "ok" if rng.random() > 0.02 else "failed",
          "snapshot_id": f"{rng.getrandbits(64):016x}"} for r in ("local", "cloud")]}),
    ("backup_verify.yml", "Verify | sop4.2", ["sop4.2", "verifies"],
     lambda rng: {"verdict": "pass", "finished": "x", "repositories": [{"repository": "local", "verdict": "pass"}]}),
    ("network_check.yml", "Morning check | sop3.2", ["sop3.2"],
     lambda rng: {"checked": None, "status": "ok" if rng.random() > 0.05 else "fault", "probes": [],
                  "diagnosis": {"summary": "all clear", "root_causes": []}}),
    ("harden.yml", "Persistent journal | pti.C.2", ["pti.C.2", "configures"], lambda rng: {"set": True}),
)


def write_run(store: AuditStore, rng: random.Random, started: dt.datetime) -> None:
    playbook, name, tags, evidence = KINDS[rng.randrange(len(KINDS))]
    run_id = new_run_id()
    run = store.run(run_id)
    log = EventLog(run.events)
    header = {"run_id": run_id, "started": started.astimezone(dt.UTC).isoformat(), "entry_point": "bench",
              "operator": {"source": "cron", "user": "sop"}, "controller": {"host": "bench", "pid": 1},
              "playbook": {"path": f"/p/{playbook}", "sha256": "0" * 64}, "inventory": [], "limit": None,
              "check": False, "diff": False, "tags": [], "skip_tags": [], "change_ref": None, "approvals": {},
              "reason": "bench", "extra_vars": {}}
    events = [log.append("run_start", {"run": header}, flush=True)]
    store.append("start", run_id, {"start_event": log.first_line_sha256 or ""})
    events.append(log.append("play_start", {"play": {"id": "p1", "name": "play", "hosts": "all"}}))
    steps = [t for t in tags if not t.startswith("iso") and t not in ("verifies", "configures")]
    events.append(log.append("task_start", {"task": {"id": "t1", "name": name, "action": "x", "tags": tags,
                                                     "sop_steps": steps, "iso_controls": []}}))
    failed = rng.random() < 0.02
    for host in rng.sample(HOSTS, rng.randint(1, len(HOSTS))):
        events.append(log.append("result", {"task_id": "t1", "host": host, "status": "failed" if failed else "ok",
                                            "changed": True, "duration_s": 0.1, "evidence": evidence(rng)}))
    record = build_record(events)
    events.append(log.append("run_end", {"status": final_status(record)}))
    log.close()
    store.finish(run, build_record(events))


def write_tickets(path: Path, count: int, month: tuple[int, int], rng: random.Random) -> None:
    lines = ["id,title,priority,status,created,first_response,solved,closed,pauses,reopened"]
    for index in range(count):
        created = dt.datetime(*month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
        answered = created + dt.timedelta(minutes=rng.randint(1, 600))
        solved = answered + dt.timedelta(minutes=rng.randint(10, 4000))
        fmt = "%Y-%m-%d %H:%M"
        lines.append(f"T{index},ticket {index},{rng.choice(('P1', 'P2', 'P3'))},solved,{created:{fmt}},"
                     f"{answered:{fmt}},{solved:{fmt}},,,")
    path.write_text("\n".join(lines) + "\n")


# Runs a command in a fresh process and prints its children's peak RSS (KiB): each measurement its own.
PEAK = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:], capture_output=True).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)")


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB, max RSS) of ``command``."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True, timeout=3600,
                            check=True, env=env)
    seconds = time.monotonic() - started
    peak_kib, rc = (int(v) for v in result.stdout.split())
    if rc not in (0, 1):
        raise SystemExit(f"{command[:3]} failed ({rc})")
    return seconds, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sop-bench-monthly-"))
    env = {**os.environ, "SOP_AUDIT_KEY_DIR": str(work / "keys"), "SOP_ASSETS_DB": str(work / "none.sqlite")}
    os.environ.update(env)
    rng, now = random.Random(7), dt.datetime.now(JAKARTA)
    store, audit = AuditStore(work / "audit"), work / "audit"
    started = time.monotonic()
    days = max(1, (now - now.replace(day=1, hour=0, minute=0)).days + 1)
    for index in range(args.runs):
        write_run(store, rng, now.replace(day=1 + index % days, hour=rng.randint(0, 23)))
        if index and index % 1000 == 0:
            print(f"  wrote {index} runs ({time.monotonic() - started:.0f}s)", file=sys.stderr)
    tickets = work / "tickets.csv"
    write_tickets(tickets, args.tickets, (now.year, now.month), rng)
    print(f"setup: {args.runs} runs, {args.tickets} tickets in {time.monotonic() - started:.0f}s ({audit})")
    verify_s, verify_mb = timed([SOP, "audit", "verify", "--audit-dir", str(audit)], env)
    report_s, report_mb = timed([SOP, "report", "monthly", now.strftime("%Y-%m"), "--audit-dir", str(audit),
                                 "--tickets", str(tickets), "--no-pdf"], env)
    print(f"sop audit verify (baseline): {verify_s:.1f}s")
    print(f"sop report monthly:          {report_s:.1f}s, peak memory {report_mb:.0f} MiB "
          f"(verify: {verify_mb:.0f} MiB)")
    print(f"ratio report / verify: {report_s / verify_s:.2f}x; per run {1000 * report_s / args.runs:.2f} ms")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
