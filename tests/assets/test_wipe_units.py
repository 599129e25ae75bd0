"""SOP 2.6 without a lab: the controller's wipe gates, the policy's method per media, the certificate's
signature, and the sample locations of the verification."""

from __future__ import annotations

import json

import pytest
from ansible_collections.sop.core.plugins.module_utils import sop_sanitize

from runner.assets import Asset, Disk
from runner.assets import certificate as cert
from runner.assets.policy import cadence_days, load_assets_policy, sanitization_method
from runner.assets.wipe import WipeRequest, plan
from runner.errors import PolicyError, RefusedError

POLICY = load_assets_policy()
DISK = Disk(model="WDC WD10EZEX", serial="WD-123", size_bytes=10**12, media_type="hdd")


def _request(**kw):
    base = {"tag": "LT-1", "device": "/dev/sdb", "disk_index": 0, "confirm_serial": "WD-123",
            "approvals": {"it_manager": "Budi"}, "operator_names": frozenset({"andi", "root"}), "operator": "Andi",
            "destination": "in_stock"}
    return WipeRequest(**{**base, **kw})


def _asset(status="returned", disks=(DISK,)):
    return Asset(tag="LT-1", status=status, disks=list(disks))


def test_allowed_when_every_gate_holds():
    decision = plan(_request(), _asset(), POLICY)
    assert decision.allowed, decision.reasons
    assert decision.approver == {"role": "it_manager", "name": "Budi"}
    assert decision.method["method"] == "Clear" and "Table A-8" in decision.method["why"]


@pytest.mark.parametrize(("request_kw", "asset", "reason"), [
    ({"approvals": {}}, _asset(), "no approval by it_manager"),
    ({"approvals": {"it_manager": "Andi"}}, _asset(), "who is the operator"),
    ({}, _asset(status="assigned"), "is assigned, not returned"),
    ({}, None, "not in the register"),
    ({"device": ""}, _asset(), "no explicit device path"),
    ({"device": "sdb"}, _asset(), "no explicit device path"),
    ({"confirm_serial": "WD-124"}, _asset(), "did not confirm the disk serial"),
    ({}, _asset(disks=()), "holds no disk 0"),
    ({"destination": "ebay"}, _asset(), "destination 'ebay'"),
    ({}, _asset(disks=(Disk(serial="S1", media_type="nvme"),)), "requires purge"),
])
def test_each_gate_refuses(request_kw, asset, reason):
    decision = plan(_request(**request_kw), asset, POLICY)
    assert not decision.allowed
    assert any(reason in r for r in decision.reasons), decision.reasons
    assert decision.message("LT-1").startswith("REFUSED: wipe of LT-1: ")


def test_policy_method_and_cadence():
    with pytest.raises(RefusedError, match="Clear by overwrite only"):
        sanitization_method(POLICY, "ssd")
    assert cadence_days(POLICY, ["linux", "workstations"]) == 90
    assert cadence_days(POLICY, ["servers", "workstations"]) == 7
    assert cadence_days(POLICY, ["linux"]) == POLICY["maintenance"]["default_days"]


def test_malformed_policy_names_every_problem(tmp_path):
    bad = tmp_path / "assets.yml"
    bad.write_text("assets:\n  maintenance: {cadence_days: {servers: 0}, default_days: 90}\n"
                   "  sanitization: {approver_roles: [], destinations: [in_stock], verify: {mode: some,"
                   " subsections: 1, samples_per_subsection: 1, sample_bytes: 512}, media: {floppy: {}}}\n")
    with pytest.raises(PolicyError) as exc:
        load_assets_policy(bad)
    text = str(exc.value)
    for where in ("maintenance.cadence_days.servers", "sanitization.approver_roles", "sanitization.verify.mode",
                  "sanitization.media"):
        assert f"at 'assets.{where}'" in text, text


def test_sample_offsets_cover_every_subsection_first_and_last_block():
    size, block = 64 * 1024 * 1024, 4096
    offsets = sop_sanitize.sample_offsets(size, block, subsections=16, per_subsection=4, seed=7)
    assert offsets[0] == 0 and offsets[-1] == size - block
    span = size // 16
    assert {o // span for o in offsets if o < size - block} == set(range(16))
    assert offsets == sop_sanitize.sample_offsets(size, block, 16, 4, 7)  # the seed reproduces the locations


def test_identity_refuses_a_missing_or_relative_path(tmp_path):
    with pytest.raises(sop_sanitize.Refused, match="no explicit device path"):
        sop_sanitize.identity("")
    with pytest.raises(sop_sanitize.Refused, match="not a block device"):
        sop_sanitize.identity(str(tmp_path))


def test_certificate_signature_and_a_flipped_byte(tmp_path, monkeypatch):
    monkeypatch.setenv("SOP_AUDIT_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("SOP_AUDIT_TRUSTED_KEYS", raising=False)
    signed = cert.sign({"certificate_id": "SAN-1", "asset": {"tag": "LT-1"}, "media": {"serial": "WD-123"}})
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(signed))
    assert cert.verify(path).ok
    data = bytearray(path.read_bytes())
    data[data.index(b"WD-123")] ^= 0x01
    path.write_bytes(bytes(data))
    verdict = cert.verify(path)
    assert not verdict.ok and "signature does not verify" in verdict.problems[0]
