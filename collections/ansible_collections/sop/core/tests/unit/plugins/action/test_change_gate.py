"""The change gate's action plugin validates its arguments before deciding (runner.change.gate decides)."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task
from ansible.template import Templar
from ansible_collections.sop.core.plugins.action.sop_change_gate import ActionModule


def _action(args: dict) -> ActionModule:
    task = MagicMock(Task)
    task.args = args
    task.async_val = False
    task.check_mode = False
    task.diff = False
    return ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=Templar(loader=None),
                        shared_loader_obj=None)


def test_unknown_argument_is_refused() -> None:
    with pytest.raises(AnsibleActionFail, match="protected_group"):
        _action({"protected_group": ["production"]}).run(task_vars={})


def test_staging_only_run_is_allowed(tmp_path) -> None:
    task_vars = {"groups": {"production": ["prod-app1"], "staging": ["stg-app1"]},
                 "ansible_play_hosts_all": ["stg-app1"]}
    result = _action({"audit_dir": str(tmp_path), "playbook": "harden.yml"}).run(task_vars=task_vars)
    assert not result.get("failed"), result
    assert result["sop_evidence"]["change_gate"]["allowed"] is True
    assert result["sop_evidence"]["change_gate"]["protected_targets"] == []


def test_production_without_change_ref_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SOP_CHANGE_REF", raising=False)
    monkeypatch.delenv("SOP_APPROVALS", raising=False)
    task_vars = {"groups": {"production": ["prod-app1"], "staging": ["stg-app1"]},
                 "ansible_play_hosts_all": ["prod-app1"]}
    result = _action({"audit_dir": str(tmp_path), "playbook": "harden.yml"}).run(task_vars=task_vars)
    assert result["failed"] is True
    assert result["sop_evidence"]["change_gate"]["protected_targets"] == ["prod-app1"]
