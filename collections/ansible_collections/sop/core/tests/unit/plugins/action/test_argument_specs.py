"""Each action plugin's ARGUMENT_SPEC (what validate_argument_spec enforces) agrees with the documentation
ansible-doc shows (plugins/modules/<name>.py): same options, types, element types, defaults and required.

validate-modules checks this for real modules; action plugins are not covered by it, so this test does it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
ACTIONS = sorted(p.stem for p in (PLUGINS / "action").glob("*.py") if p.stem != "__init__")


def _documented_options(name: str) -> dict:
    module = importlib.import_module(f"ansible_collections.sop.core.plugins.modules.{name}")
    return yaml.safe_load(module.DOCUMENTATION)["options"]


def _normalise(option: dict) -> dict:
    keys = ("type", "elements", "default", "required")
    out = {k: option[k] for k in keys if k in option}
    out.setdefault("type", "str")
    if not out.get("required"):
        out.pop("required", None)
    return out


def test_every_action_plugin_is_found() -> None:
    assert ACTIONS == ["sop_asset", "sop_backup_policy", "sop_baseline_check", "sop_change_gate", "sop_form",
                       "sop_maintenance", "sop_network_backup", "sop_network_check", "sop_patch_policy",
                       "sop_provision_request", "sop_wipe"]


@pytest.mark.parametrize("name", ACTIONS)
def test_documentation_agrees_with_argument_spec(name: str) -> None:
    action = importlib.import_module(f"ansible_collections.sop.core.plugins.action.{name}")
    spec = {k: _normalise(v) for k, v in action.ARGUMENT_SPEC.items()}
    docs = {k: _normalise(v) for k, v in _documented_options(name).items()}
    assert spec == docs


@pytest.mark.parametrize("name", ACTIONS)
def test_action_plugin_enforces_its_argument_spec(name: str) -> None:
    source = (PLUGINS / "action" / f"{name}.py").read_text()
    assert "self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)" in source
    assert "self._task.args" not in source, "arguments must be read from the validated copy"
