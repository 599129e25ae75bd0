"""sop_server_health measures without side effects; thresholds turn measurements into findings."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.sop.core.plugins.modules import sop_server_health


def _run(args: dict, monkeypatch) -> dict:
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, *a, **k: (0, "", ""))
    with patch_module_args(args), pytest.raises(SystemExit):
        sop_server_health.main()
    return args


def test_disk_reports_existing_paths_only(tmp_path) -> None:
    rows = sop_server_health.disk([str(tmp_path), str(tmp_path / "missing")])
    assert [r["path"] for r in rows] == [str(tmp_path)]
    assert 0 <= rows[0]["used_pct"] <= 100


def test_zero_threshold_reports_a_disk_finding(monkeypatch, capsys, tmp_path) -> None:
    _run({"paths": [str(tmp_path)], "disk_warn_pct": 0, "_ansible_check_mode": True}, monkeypatch)
    result = json.loads(capsys.readouterr().out)
    assert result["changed"] is False
    assert result["sop_evidence"]["status"] == "warn"
    assert any(f.startswith(f"disk {tmp_path}") for f in result["sop_evidence"]["findings"])
