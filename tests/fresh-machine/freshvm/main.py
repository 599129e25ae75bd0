"""tests/fresh-machine/run: README's two commands on a bare Debian 12 VM built from nothing of this machine's state.

The host clones the repository's committed HEAD onto a job disk, boots a qcow2 overlay of the cached base image
(see image.py) with it, follows the serial console live, reads the results back from the job disk and prints a
summary. Logs land in .fresh-machine/<timestamp>/ at the repository root.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from . import image as base_image
from . import vm as qemu
from .host import FreshVmError, Log, ensure_host_tools, remove_tree, require_root, run

REPO = Path(__file__).resolve().parents[3]
GUEST_DIR = Path(__file__).resolve().parent.parent / "guest"
SMOKE_TESTS = ("tests/lab",
               "tests/backup/test_backup_lab.py::test_backups_land_in_both_repositories",
               "tests/network/test_lab_check.py::test_all_clear_with_server_monitoring")
KVM_PROBE_SECONDS = 60
TCG_BOOT_SECONDS = 900  # to the boot marker; TCG reaches userspace in ~25 s, so this only catches a hung boot
JOB_DISK_SIZE = "2G"
RESERVE_SECONDS = 420  # of the total timeout, kept from the guest's budget: KVM probe, boot, power-off, read-back


@dataclass(frozen=True)
class Options:
    full: bool
    timeout_min: float
    keep: bool
    rebuild: bool
    kvm: bool
    verbose: bool
    job: Path | None  # another job script instead of guest/job.sh (e.g. guest/network-probe.sh)


@dataclass
class State:
    """What one run found out; the summary is made from it."""

    options: Options
    log: Log
    run_dir: Path
    deadline: float
    commit: str = "?"
    accel: str = "?"
    accel_note: str = ""
    image_seconds: float | None = None
    image_dir: Path | None = None
    boot_seconds: float | None = None
    vm_end: str = "not started"
    error: str = ""
    vm: qemu.Vm | None = None  # the QEMU process, stopped whatever happens
    job_img: Path | None = None  # the job disk, read back whatever happens
    results: dict[str, str] = field(default_factory=dict)
    demo_table: list[str] = field(default_factory=list)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="tests/fresh-machine/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true",
                        help="run README's command 2 (./bootstrap test) instead of the lab smoke subset")
    parser.add_argument("--timeout", type=float, default=100, metavar="MIN", help="total time limit (default 100)")
    parser.add_argument("--keep", action="store_true", help="keep the overlay, job disk and clone (printed path)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached base image")
    parser.add_argument("--no-kvm", dest="kvm", action="store_false", help="skip the KVM probe, use TCG")
    parser.add_argument("--verbose", action="store_true", help="show the whole serial console live")
    parser.add_argument("--job", type=Path, metavar="SCRIPT",
                        help="run SCRIPT in the VM instead of guest/job.sh (passes if it exits 0), e.g. "
                             "tests/fresh-machine/guest/network-probe.sh")
    args = parser.parse_args(argv)
    return Options(full=args.full, timeout_min=args.timeout, keep=args.keep, rebuild=args.rebuild, kvm=args.kvm,
                   verbose=args.verbose, job=args.job.resolve() if args.job else None)


# --- the job disk -------------------------------------------------------------------------------------------

def clone_head(dest: Path) -> str:
    """A clone of the repository's committed HEAD (uncommitted work of anyone is not in it)."""
    commit = run(["git", "-C", str(REPO), "rev-parse", "HEAD"]).strip()
    run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(dest)], timeout=300)
    run(["git", "-C", str(dest), "checkout", "--quiet", "--detach", commit])
    return commit


def check_smoke_tests(clone: Path) -> None:
    """The smoke subset's test ids exist in the commit under test (fail here, not an hour later in the VM)."""
    for test_id in SMOKE_TESTS:
        path, _, name = test_id.partition("::")
        target = clone / path
        if not target.exists() or (name and not re.search(rf"^def {re.escape(name)}\(", target.read_text(
                encoding="utf-8"), flags=re.MULTILINE)):
            raise FreshVmError(f"smoke test {test_id} does not exist at this commit: update SMOKE_TESTS")


def make_job_disk(jobdir: Path, job_img: Path, state: State) -> None:
    """job.sh, job.env and the clone (jobdir/repo) in an ext4 image the guest mounts at /job."""
    shutil.copy2(state.options.job or GUEST_DIR / "job.sh", jobdir / "job.sh")
    budget = int(state.remaining() - RESERVE_SECONDS)
    if budget < 600:
        raise FreshVmError(f"only {state.remaining():.0f}s left of the timeout: not enough for the job")
    env = {"MODE": "full" if state.options.full else "smoke", "SMOKE_TESTS": " ".join(SMOKE_TESTS),
           "BUDGET_SECONDS": str(budget), "COMMIT": state.commit}
    (jobdir / "job.env").write_text("".join(f"{k}='{v}'\n" for k, v in env.items()), encoding="utf-8")
    job_img.unlink(missing_ok=True)
    run(["mkfs.ext4", "-q", "-F", "-L", "fresh-job", "-d", str(jobdir), str(job_img), JOB_DISK_SIZE], timeout=300)


# --- booting and following the VM ---------------------------------------------------------------------------

def start_vm(state: State, image: base_image.BaseImage, disks: qemu.Disks, accel: str) -> qemu.Vm:
    console = state.run_dir / f"console-{accel}.log"
    console.unlink(missing_ok=True)
    state.log.say(f"vm: booting with {accel} (console: {console})")
    state.vm = qemu.Vm(qemu.qemu_command(image, disks, console, accel), state.run_dir / "qemu.log", console)
    return state.vm


def boot(state: State, image: base_image.BaseImage, disks: qemu.Disks, jobdir: Path) -> qemu.Vm:
    """KVM if the bounded probe sees the boot marker, else TCG. Returns the VM whose job unit has started."""
    if state.options.kvm and os.access("/dev/kvm", os.R_OK | os.W_OK):
        vm = start_vm(state, image, disks, "kvm")
        deadline = min(state.deadline, time.monotonic() + KVM_PROBE_SECONDS)
        outcome = qemu.watch(vm, state.log, deadline, qemu.is_boot_marker, state.options.verbose)
        if outcome == "marker":
            state.accel, state.boot_seconds = "kvm", time.monotonic() - vm.started
            return vm
        vm.stop()
        state.accel_note = (f"KVM probe: QEMU exited: {qemu.last_error(state.run_dir / 'qemu.log')}"
                            if outcome == "exited" else
                            f"KVM probe: no boot marker within {KVM_PROBE_SECONDS}s, QEMU killed "
                            f"(last console line: {vm.console.last_line.strip()[:80]!r})")
        state.log.say(state.accel_note + "; falling back to TCG")
        qemu.make_overlay(image, disks.overlay)  # the probe may have written to both disks
        make_job_disk(jobdir, disks.job, state)
    else:
        state.accel_note = "KVM not tried (--no-kvm or /dev/kvm not usable)"
    vm = start_vm(state, image, disks, "tcg")
    deadline = min(state.deadline, time.monotonic() + TCG_BOOT_SECONDS)
    outcome = qemu.watch(vm, state.log, deadline, qemu.is_boot_marker, state.options.verbose)
    state.accel = "tcg"
    if outcome != "marker":
        vm.stop()
        raise FreshVmError(f"the VM did not reach its job unit under TCG ({outcome}); last console line: "
                           f"{vm.console.last_line.strip()[:120]!r}")
    state.boot_seconds = time.monotonic() - vm.started
    return vm


def follow(state: State, vm: qemu.Vm) -> None:
    state.log.say(f"vm: up after {state.boot_seconds:.0f}s ({state.accel}); following the job")
    outcome = qemu.watch(vm, state.log, state.deadline, verbose=state.options.verbose)
    vm.stop()
    if outcome == "timeout":
        state.vm_end = "killed at the timeout"
        state.error = f"total timeout ({state.options.timeout_min:g} min) reached: VM killed"
    elif qemu.FINISHED_MARKER not in vm.console.path.read_text(encoding="utf-8", errors="replace"):
        state.vm_end = f"stopped early (QEMU exit {vm.proc.returncode})"
        state.error = (f"the VM stopped before its job finished: {qemu.last_error(state.run_dir / 'qemu.log')}; "
                       f"console: {vm.console.last_line.strip()[:100]!r}")
    else:
        state.vm_end = "powered off after the job"
        return
    state.log.say(state.error)


# --- results ------------------------------------------------------------------------------------------------

def read_results(state: State, job_img: Path) -> None:
    """The job's out/ folder from the job disk (debugfs, no mount needed); the console's lines as a fallback."""
    out = state.run_dir / "out"
    remove_tree(out)
    # a VM stopped mid-job leaves the journal unreplayed: e2fsck replays it (exit 1/2: fixed), debugfs does not
    fsck = subprocess.run(["e2fsck", "-fy", str(job_img)], capture_output=True, text=True, timeout=300, check=False)
    if fsck.returncode >= 4:
        state.log.say(f"warning: e2fsck of the job disk: exit {fsck.returncode}: {fsck.stdout[-300:]}")
    try:
        run(["debugfs", "-R", f"rdump /out {state.run_dir}", str(job_img)], timeout=300)
    except FreshVmError as exc:
        state.log.say(f"warning: could not read the job disk's out/: {exc}")
    for console in sorted(state.run_dir.glob("console-*.log")):
        for line in console.read_text(encoding="utf-8", errors="replace").splitlines():
            line = qemu.ANSI.sub("", line)  # noqa: PLW2901
            if line.startswith(qemu.PREFIX + "result "):
                key, _, value = line[len(qemu.PREFIX + "result "):].partition("=")
                state.results[key] = value
            elif line.startswith(qemu.PREFIX + "demo-table "):
                state.demo_table.append(line[len(qemu.PREFIX + "demo-table "):])
    summary_env = out / "summary.env"
    if summary_env.is_file():
        for line in summary_env.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            state.results[key] = value
    job_rc = out / "job.rc"
    if job_rc.is_file():
        state.results["job_rc"] = job_rc.read_text(encoding="utf-8").strip()
    table = out / "demo-table.txt"
    if table.is_file():
        state.demo_table = table.read_text(encoding="utf-8", errors="replace").splitlines()


def failures(state: State) -> list[str]:
    r = state.results
    tests = "full" if state.options.full else "smoke"
    if state.options.job is not None:
        return [why for ok, why in [(not state.error, state.error),
                                    (r.get("job_rc") == "0", f"{state.options.job.name} exit {r.get('job_rc', '-')}")]
                if not ok]
    checks = [
        (not state.error, state.error),
        (r.get("finished") == "yes", "the job did not finish"),
        (r.get("demo_rc") == "0", f"./bootstrap demo exit {r.get('demo_rc', '(not reached)')}"),
        (r.get("podman_network_backend") == "netavark",
         f"podman network backend {r.get('podman_network_backend', '(not reached)')}, not netavark"),
        (r.get(f"{tests}_rc") == "0", f"{tests} tests exit {r.get(f'{tests}_rc', '(not reached)')}"),
    ]
    return [why for ok, why in checks if not ok]


def seconds(value: float | str | None) -> str:
    if value is None or value == "":
        return "-"
    number = float(value)
    return f"{number:.0f}s" if number < 120 else f"{number:.0f}s ({number / 60:.1f} min)"


def job_lines(state: State) -> list[str]:
    r = state.results
    tests = "full" if state.options.full else "smoke"
    return [
        f"setup+demo         {seconds(r.get('demo_seconds'))}, exit {r.get('demo_rc', '-')} (./bootstrap demo)",
        *([f"demo error         {r['demo_error']}"] if r.get("demo_error") else []),
        "demo steps:",
        *(f"    {line}" for line in (state.demo_table or ["(no step table: the demo did not get to it)"])),
        f"podman backend     {r.get('podman_network_backend', '-')} (with the lab's containers.conf: "
        f"{r.get('podman_network_backend_lab', '-')})",
        f"{tests + ' tests':<19}{r.get(f'{tests}_line') or '-'} (exit {r.get(f'{tests}_rc', '-')}, "
        f"{seconds(r.get(f'{tests}_seconds'))})",
    ]


def summary(state: State, total: float) -> list[str]:
    r, failed = state.results, failures(state)
    tests = "full" if state.options.full else "smoke"
    image = (f"cached ({state.image_dir})" if state.image_seconds is None and state.image_dir
             else f"built in {seconds(state.image_seconds)} ({state.image_dir})")
    lines = [
        "=" * 100,
        f"fresh-machine check: {'PASS' if not failed else 'FAIL'}",
        *(f"  failed: {why}" for why in failed),
        f"commit             {state.commit}",
        f"mode               {tests}: ./bootstrap demo, podman backend, "
        + ("./bootstrap test" if state.options.full else "lab smoke tests"),
        f"accelerator        {state.accel}" + (f" -- {state.accel_note}" if state.accel_note else ""),
        f"base image         {image}",
        f"boot               {seconds(state.boot_seconds)} to the job unit; VM {state.vm_end}",
        f"guest              Debian {r.get('guest_debian', '?')}, kernel {r.get('guest_kernel', '?')}, "
        f"{r.get('guest_cpus', '?')} CPUs, {r.get('guest_mem_mb', '?')} MB; before bootstrap: "
        + ", ".join(f"{t} {r.get('pre_' + t, '?')}" for t in ("git", "python3", "podman", "gcc")),
        *(job_lines(state) if state.options.job is None else
          [f"job                {state.options.job}: exit {r.get('job_rc', '-')}"]),
        f"total              {seconds(total)}",
        f"logs               {state.run_dir}",
        "=" * 100,
    ]
    if state.error and state.error not in failed:
        lines.insert(2, f"  error: {state.error}")
    return lines


# --- the run ------------------------------------------------------------------------------------------------

def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def new_run_dir() -> Path:
    root = REPO / ".fresh-machine"
    run_dir = root / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=False)
    latest = root / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(run_dir.name)
    return run_dir


def execute(state: State, work: Path) -> None:
    """Image, job disk, boot, follow, read back: the part the summary reports on."""
    ensure_host_tools(state.log)
    image, state.image_seconds = base_image.ensure(state.log, state.remaining(), state.options.rebuild)
    state.image_dir = image.directory
    jobdir = work / "job"
    jobdir.mkdir()
    state.commit = clone_head(jobdir / "repo")
    check_smoke_tests(jobdir / "repo")
    state.log.say(f"job: clone of {REPO} at {state.commit} ({'full' if state.options.full else 'smoke'})")
    disks = qemu.Disks(overlay=work / "overlay.qcow2", job=work / "job.img")
    qemu.make_overlay(image, disks.overlay)
    make_job_disk(jobdir, disks.job, state)
    state.job_img = disks.job
    follow(state, boot(state, image, disks, jobdir))


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    require_root()
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    run_dir = new_run_dir()
    log = Log(run_dir / "host.log")
    state = State(options, log, run_dir, deadline=time.monotonic() + options.timeout_min * 60)
    work = Path(tempfile.mkdtemp(prefix="sop-fresh-vm-", dir="/var/tmp"))
    log.say(f"fresh-machine check of {REPO}; logs in {run_dir}; scratch {work}")
    try:
        execute(state, work)
    except FreshVmError as exc:
        state.error = str(exc)
        log.say(f"error: {exc}")
    except KeyboardInterrupt as exc:
        state.error = f"interrupted ({exc or 'Ctrl-C'})"
        if state.vm is not None:
            state.vm_end = "stopped: interrupted"
        log.say(state.error)
    finally:
        if state.vm is not None:
            state.vm.stop()
        if state.vm is not None and state.job_img is not None:
            read_results(state, state.job_img)  # also after a timeout, an interrupt or an error: what there is
        if options.keep:
            log.say(f"kept (--keep): {work}")
        else:
            remove_tree(work)
    lines = summary(state, log.elapsed())
    (run_dir / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for line in lines:
        print(line, flush=True)
    log.close()
    return 0 if not failures(state) else 1
