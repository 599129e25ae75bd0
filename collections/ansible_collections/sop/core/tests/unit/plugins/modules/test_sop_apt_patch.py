"""sop_apt_patch: the simulation parser, and which cached packages the malware scan must cover."""

from __future__ import annotations

from ansible_collections.sop.core.plugins.modules import sop_apt_patch

SIMULATION = """\
Inst sop-demo-app [1.0] (1.1 sop-lab:stable [all])
Inst libc6 [2.36-9+deb12u7] (2:2.36-9+deb12u8 Debian-Security:12/stable-security [amd64])
Conf sop-demo-app (1.1 sop-lab:stable [all])
"""


def test_simulation_lists_every_change_with_its_versions() -> None:
    changes = sop_apt_patch.parse_simulation(SIMULATION)
    assert [(c["name"], c["from"], c["to"]) for c in changes] == [
        ("sop-demo-app", "1.0", "1.1"), ("libc6", "2.36-9+deb12u7", "2:2.36-9+deb12u8")]


def test_cached_packages_are_scanned_too(tmp_path, monkeypatch) -> None:
    """A .deb already in apt's cache is not downloaded again but is installed: it must be in the scan."""
    monkeypatch.setattr(sop_apt_patch, "ARCHIVES", str(tmp_path))
    for name in ("sop-demo-app_1.1_all.deb", "sop-demo-app_1.0_all.deb", "libc6_2%3a2.36-9+deb12u8_amd64.deb"):
        (tmp_path / name).write_bytes(b"deb")
    pending = [{"name": "sop-demo-app", "to": "1.1"}, {"name": "libc6", "to": "2:2.36-9+deb12u8"},
               {"name": "gone", "to": None}]
    found = sorted(p.rsplit("/", 1)[1] for p in sop_apt_patch.Patch.cached(pending))
    assert found == ["libc6_2%3a2.36-9+deb12u8_amd64.deb", "sop-demo-app_1.1_all.deb"]
