"""`sop check`: a real audit. Runs the read-only collection play, gathers per-host verdicts, writes reports.

The play (playbooks/check.yml) only probes; verdicts are computed on the controller by the
sop_baseline_check action plugin and carried as ``sop_evidence`` into the audit record of that run.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner import inventory as inventory_sources
from runner.ansible_run import RunOptions, run_playbook
from runner.audit.store import AuditStore
from runner.check.evaluate import STATUSES, evaluate_host
from runner.errors import ConfigError, InventoryError
from runner.paths import INVENTORIES, PLAYBOOKS
from runner.policy.catalogue import DEFAULT_CATALOGUE, load_catalogue
from runner.policy.waivers import default_waiver_files, load_waivers
from runner.settings import audit_dir as resolve_audit_dir

CHECK_PLAYBOOK = PLAYBOOKS / "check.yml"
HOST_PATTERN = "linux"
Progress = Callable[[str], None]


@dataclass
class CheckOptions:
    inventory: Path | None = None
    limit: str | None = None
    controls: list[str] = field(default_factory=list)
    waiver_files: list[Path] | None = None  # None: the defaults; [] with use_waivers False: none
    use_waivers: bool = True
    catalogue: Path = DEFAULT_CATALOGUE
    audit_dir: Path | None = None
    today: dt.date | None = None
    lang: str | None = None  # of the collection run's report (the check's own: write_reports)


@dataclass
class CheckResult:
    check_id: str
    started: str
    duration_s: float
    hosts: dict[str, list[str]]
    results: list[dict[str, Any]]
    waiver_files: list[str]
    run: dict[str, Any]
    report_paths: dict[str, Path] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(r["status"] == s for r in self.results) for s in STATUSES}

    @property
    def exit_code(self) -> int:
        return 1 if self.counts["fail"] or self.counts["error"] else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "security_baseline_check",
            "check_id": self.check_id,
            "started": self.started,
            "duration_s": self.duration_s,
            "counts": self.counts,
            "exit_code": self.exit_code,
            "hosts": self.hosts,
            "waiver_files": self.waiver_files,
            "collection_run": self.run,
            "results": self.results,
        }


def default_inventory() -> Path:
    return INVENTORIES / "lab" / "hosts.yml"


def target_hosts(inventory: Path, limit: str | None) -> dict[str, list[str]]:
    """Hosts of the `linux` group after --limit, with their groups (ansible's own inventory parser)."""
    if not inventory.exists():
        raise ConfigError(
            f"inventory {inventory}: no such file", hint="start the lab (sop lab up) or pass -i"
        )
    manager = inventory_sources.load([str(inventory)])
    if limit:
        manager.subset(limit)
    hosts = {
        h.name: sorted(g.name for g in h.get_groups() if g.name != "all")
        for h in manager.get_hosts(HOST_PATTERN)
    }
    if not hosts:
        raise ConfigError(
            f"inventory {inventory}: no host of group '{HOST_PATTERN}' matches --limit {limit or '(none)'}"
        )
    return hosts


def _target_hosts_or_record(inventory: Path, options: CheckOptions) -> dict[str, list[str]]:
    """The hosts to audit; an inventory that does not parse is recorded as a collection run in error, then raised."""
    try:
        return target_hosts(inventory, options.limit)
    except InventoryError as exc:
        outcome = run_playbook(RunOptions(playbook=CHECK_PLAYBOOK, inventory=[str(inventory)], limit=options.limit,
                                          reason="sop check", audit_dir=options.audit_dir, lang=options.lang))
        raise InventoryError(str(exc).splitlines()[0],
                             hint=f"recorded as run {outcome.run_id} (status {outcome.status})") from None


def run_check(options: CheckOptions, progress: Progress | None = None) -> CheckResult:
    catalogue = load_catalogue(options.catalogue)
    controls = [c.to_dict() for c in catalogue.select(options.controls)]
    inventory = (options.inventory or default_inventory()).resolve()
    waiver_files = (
        []
        if not options.use_waivers
        else (options.waiver_files if options.waiver_files else default_waiver_files(inventory))
    )
    waivers = [w.to_dict() for w in load_waivers(list(waiver_files), set(catalogue.controls))]
    hosts = _target_hosts_or_record(inventory, options)
    today = options.today or dt.datetime.now(dt.UTC).date()
    check_id = dt.datetime.now(dt.UTC).strftime("check-%Y%m%dT%H%M%SZ-") + secrets.token_hex(2)
    started, clock = dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="sop-check-"))
    try:
        spec = work / "spec.json"
        spec.write_text(json.dumps({"controls": controls, "waivers": waivers, "today": today.isoformat()}))
        out = work / "verdicts"
        out.mkdir()
        run = _collect(
            inventory,
            options,
            {
                "sop_check_spec": str(spec),
                "sop_check_output_dir": str(out),
                "sop_reason": f"sop check {check_id}",
            },
            progress,
        )
        results = _gather(out, hosts, controls, waivers=waivers, today=today, run=run)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return CheckResult(
        check_id,
        started,
        round(time.monotonic() - clock, 1),
        hosts,
        results,
        [str(p) for p in waiver_files],
        run,
    )


def _collect(
    inventory: Path, options: CheckOptions, extra_vars: dict[str, str], progress: Progress | None
) -> dict[str, Any]:
    """Run the collection play through the runner API, so the collection is recorded in the audit ledger."""
    outcome = run_playbook(
        RunOptions(
            playbook=CHECK_PLAYBOOK,
            inventory=[str(inventory)],
            limit=options.limit,
            extra_vars=extra_vars,
            reason=extra_vars["sop_reason"],
            audit_dir=options.audit_dir,
            lang=options.lang,
        ),
        progress=progress,
    )
    return {
        "run_id": outcome.run_id,
        "status": outcome.status,
        "record": str(outcome.record_path or ""),
        "ansible_rc": outcome.ansible_rc,
        "output_tail": outcome.output_tail[-1500:],
    }


def _gather(
    out: Path,
    hosts: dict[str, list[str]],
    controls: list[dict[str, Any]],
    *,
    waivers: list[dict[str, Any]],
    today: dt.date,
    run: dict[str, Any],
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for host, groups in hosts.items():
        verdicts = out / f"{host}.json"
        if verdicts.is_file():
            results += json.loads(verdicts.read_text())
        else:
            reason = (
                f"no evidence collected (host unreachable or probe failed; run {run.get('run_id')} "
                f"status {run.get('status')})"
            )
            results += evaluate_host(
                host, groups, controls, None, waivers=waivers, today=today, probe_error=reason
            )
    return results


def write_reports(result: CheckResult, audit_dir: Path | None, lang: str | None = None) -> dict[str, Path]:
    from runner.check.report import render_reports

    root = resolve_audit_dir(audit_dir)
    result.report_paths = render_reports(result.to_dict(), root / "checks" / result.check_id, lang)
    # Sealed in the ledger: an `attach` entry hashes check.json/.html/.md and the JUnit file.
    AuditStore.configured(root).attach(str(result.run.get("run_id") or "-"), result.report_paths)
    return result.report_paths
