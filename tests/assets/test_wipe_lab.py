"""SOP 2.6 on the lab: loop devices handed to a lab host (podman run --device); every refusal writes nothing
(device sha256 unchanged); a wipe leaves no trace of a known pattern (read back independently, whole device);
the certificate names device and method, its signature verifies and a flipped byte fails it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from labtools import scratch_lab_name

from runner.assets import Register
from runner.lab import Lab
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab
LAB = scratch_lab_name("wipe")  # a lab of its own: this rig's topology is not the session lab's
SIZE_A = 64 * 1024 * 1024
SIZE_B = 32 * 1024 * 1024
PATTERN = (b"SOP-KNOWN-PATTERN-0123456789abcdef" * 128)[:4096]
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
LOOP_MODEL = "Linux loop device"


def _sha(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _run(*command: str) -> str:
    return subprocess.run(list(command), check=True, capture_output=True, text=True, timeout=120).stdout.strip()


@pytest.fixture(scope="module")
def rig(tmp_path_factory) -> Iterator[dict]:
    work = Path("/var/tmp") / f"sop-{LAB}-wipe-{os.getpid()}"
    work.mkdir(parents=True)
    image_a, image_b = work / "LABWIPE-A01.img", work / "LABWIPE-B01.img"
    with image_a.open("wb") as handle:
        for _ in range(SIZE_A // len(PATTERN)):
            handle.write(PATTERN)
    _run("truncate", "-s", str(SIZE_B), str(image_b))
    _run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", str(image_b))
    loops: list[str] = []
    mount = work / "mnt"
    mount.mkdir()
    lab = None
    try:
        loops.append(_run("losetup", "-f", "--show", str(image_a)))
        loops.append(_run("losetup", "-f", "--show", str(image_b)))
        _run("mount", "-o", "ro,noload", loops[1], str(mount))
        topology = {"hosts": [{"name": "ws-wipe1", "groups": ["workstations"], "offset": 9,
                               "devices": [f"{loops[0]}:/dev/sdb", f"{loops[1]}:/dev/sdc"]}],
                    "devices": [], "services": {"s3": {"offset": 50, "container_port": 5000, "bucket": "sop-backups"}}}
        lab = Lab(LAB, progress=lambda msg: print(f"lab: {msg}"), topology=topology)
        lab.up()
        state = tmp_path_factory.mktemp("wipe-state")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "SOP_ASSETS_DB": str(state / "register.sqlite"),
               "SOP_AUDIT_DIR": str(state / "audit")}
        yield {"lab": lab, "loop_a": loops[0], "loop_b": loops[1], "env": env, "state": state,
               "inventory": str(lab.inventory_path)}
    finally:
        if lab is not None and os.environ.get("SOP_KEEP_LAB") != "1":
            lab.down()
        subprocess.run(["umount", str(mount)], check=False)
        for loop in loops:
            subprocess.run(["losetup", "-d", loop], check=False)
        shutil.rmtree(work, ignore_errors=True)


def _register(rig: dict) -> Register:
    return Register(Path(rig["env"]["SOP_ASSETS_DB"]))


def _wipe(rig: dict, *args: str, approve: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
    command = [SOP, "run", "playbooks/wipe.yml", "-i", rig["inventory"], "-l", "ws-wipe1", "-q"]
    if approve:
        command += ["--approved-by", "it_manager=Budi Santoso"]
    for key, value in extra.items():
        command += ["-e", json.dumps({key: value})]
    return subprocess.run([*command, *args], cwd=REPO_ROOT, env=rig["env"], capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def assets(rig: dict) -> dict:
    with _register(rig) as register:
        register.apply("LT-W01", "create", {"serial": "PF-W01", "make": "Lenovo", "model": "ThinkPad E14",
                                            "status": "assigned", "assignee_name": "Dewi",
                                            "disks": [{"model": LOOP_MODEL, "serial": "LABWIPE-A01",
                                                       "size_bytes": SIZE_A, "media_type": "virtual"}]})
        register.apply("LT-W02", "create", {"serial": "PF-W02", "make": "Lenovo", "model": "ThinkPad E14",
                                            "status": "returned",
                                            "disks": [{"model": LOOP_MODEL, "serial": "LABWIPE-B01",
                                                       "size_bytes": SIZE_B, "media_type": "virtual"}]})
    return {"a": _sha(rig["loop_a"]), "b": _sha(rig["loop_b"])}


def _refused(result: subprocess.CompletedProcess[str], text: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 5, output
    assert "REFUSED" in output and text in output, output


def test_refused_when_asset_not_returned(rig, assets):
    result = _wipe(rig, wipe_asset="LT-W01", wipe_device="/dev/sdb", wipe_confirm_serial="LABWIPE-A01")
    _refused(result, "is assigned, not returned")
    assert _sha(rig["loop_a"]) == assets["a"]
    with _register(rig) as register:
        register.apply("LT-W01", "return", {"notes": "returned on resignation"})


def test_refused_without_approval(rig, assets):
    result = _wipe(rig, approve=False, wipe_asset="LT-W01", wipe_device="/dev/sdb", wipe_confirm_serial="LABWIPE-A01")
    _refused(result, "no approval by it_manager")
    assert _sha(rig["loop_a"]) == assets["a"]


def test_refused_without_explicit_device_path(rig, assets):
    result = _wipe(rig, wipe_asset="LT-W01", wipe_confirm_serial="LABWIPE-A01")
    _refused(result, "no explicit device path")
    assert _sha(rig["loop_a"]) == assets["a"]


def test_refused_when_operator_confirms_wrong_serial(rig, assets):
    result = _wipe(rig, wipe_asset="LT-W01", wipe_device="/dev/sdb", wipe_confirm_serial="LABWIPE-A0I")
    _refused(result, "did not confirm the disk serial")
    assert _sha(rig["loop_a"]) == assets["a"]


def test_refused_when_device_serial_differs_from_register(rig, assets):
    """LT-W02's register disk is LABWIPE-B01; /dev/sdb is LABWIPE-A01: the target refuses."""
    result = _wipe(rig, wipe_asset="LT-W02", wipe_device="/dev/sdb", wipe_confirm_serial="LABWIPE-B01")
    _refused(result, "serial 'LABWIPE-A01' of /dev/sdb does not match the register's 'LABWIPE-B01'")
    assert _sha(rig["loop_a"]) == assets["a"]


def test_refused_when_device_is_mounted(rig, assets):
    """/dev/sdc is mounted on the lab's host machine (outside the container): the kernel refuses O_EXCL."""
    result = _wipe(rig, wipe_asset="LT-W02", wipe_device="/dev/sdc", wipe_confirm_serial="LABWIPE-B01")
    _refused(result, "busy: the kernel refuses exclusive access")
    assert _sha(rig["loop_b"]) == assets["b"]


def test_check_mode_passes_every_gate_and_writes_nothing(rig, assets):
    """--check with every approval and identity check in place: the run succeeds, the device and the register
    are as they were."""
    result = _wipe(rig, "--check", wipe_asset="LT-W01", wipe_device="/dev/sdb", wipe_confirm_serial="LABWIPE-A01")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _sha(rig["loop_a"]) == assets["a"]
    with _register(rig) as register:
        asset = register.find("LT-W01")
        assert asset is not None and asset.status == "returned"


def test_wipe_clears_everything_and_certifies(rig, assets):
    result = _wipe(rig, wipe_asset="LT-W01", wipe_device="/dev/sdb", wipe_confirm_serial="LABWIPE-A01",
                   wipe_operator="Andi (IT officer)")
    assert result.returncode == 0, result.stdout + result.stderr
    # independent check: the whole device, read on the host, holds no byte of the pattern: all zeros
    zero = bytes(4 * 1024 * 1024)
    with open(rig["loop_a"], "rb") as handle:
        total = 0
        while chunk := handle.read(len(zero)):
            assert chunk == zero[:len(chunk)], f"non-zero data near offset {total}"
            total += len(chunk)
    assert total == SIZE_A
    with _register(rig) as register:
        asset = register.get("LT-W01")
        actions = [h["action"] for h in register.history("LT-W01")]
    assert asset.status == "in_stock" and asset.assignee_name == ""
    assert actions[-2:] == ["sanitize", "restock"]
    cert_dir = next((Path(rig["env"]["SOP_AUDIT_DIR"]) / "assets" / "certificates" / "LT-W01").iterdir())
    cert = json.loads((cert_dir / "certificate.json").read_text())
    assert cert["media"]["serial"] == "LABWIPE-A01" and cert["media"]["path"] == "/dev/sdb"
    assert cert["media"]["model"] == LOOP_MODEL and cert["sanitization"]["method"] == "Clear"
    assert cert["verification"]["result"] == "pass" and cert["verification"]["samples"] > 900  # 100 x 10
    assert cert["approver"] == {"role": "it_manager", "name": "Budi Santoso"}
    assert cert["operator"] == "Andi (IT officer)" and cert["destination"] == "in_stock"
    for name in ("certificate.json", "certificate.html", "certificate.pdf"):
        assert (cert_dir / name).is_file()
    shown = subprocess.run([SOP, "assets", "certificate", "LT-W01"], env=rig["env"], capture_output=True,
                           text=True, timeout=60, check=False)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "signature OK" in shown.stdout and "/dev/sdb" in shown.stdout and "Clear" in shown.stdout
    # the PDF renders: pdftoppm gives a page, its text names asset, device and method
    page = subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(cert_dir / "certificate.pdf"),
                           str(rig["state"] / "page")], capture_output=True, timeout=60, check=False)
    assert page.returncode == 0 and list(rig["state"].glob("page*.png"))
    text = subprocess.run(["pdftotext", str(cert_dir / "certificate.pdf"), "-"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    assert "LT-W01" in text and "LABWIPE-A01" in text and "Clear" in text
    verify = subprocess.run([SOP, "audit", "verify"], env=rig["env"], capture_output=True, text=True, timeout=120,
                            check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # a flipped byte in the signed JSON fails the signature
    tampered = rig["state"] / "tampered.json"
    data = bytearray((cert_dir / "certificate.json").read_bytes())
    index = data.index(b"LABWIPE-A01")
    data[index] ^= 0x01
    tampered.write_bytes(bytes(data))
    bad = subprocess.run([SOP, "assets", "certificate", "LT-W01", "--file", str(tampered)], env=rig["env"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 6 and "signature does not verify" in bad.stdout + bad.stderr
