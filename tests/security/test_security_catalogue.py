"""Control catalogue and waiver files: schema, cross references, user-facing errors (no lab needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from runner.cli.main import cli
from runner.errors import PolicyError
from runner.paths import REPO_ROOT
from runner.policy.catalogue import DEFAULT_CATALOGUE, load_catalogue
from runner.policy.waivers import default_waiver_files, load_waivers

ROLE_DEFAULTS = REPO_ROOT / "roles" / "security_baseline" / "defaults" / "main.yml"


def _write_catalogue(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DEFAULT_CATALOGUE.read_text())
    mutate(data["controls"])
    path = tmp_path / "controls.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_shipped_catalogue_is_valid_and_complete():
    catalogue = load_catalogue()
    ids = set(catalogue.controls)
    assert {
        "PWD-001",
        "PWD-002",
        "PWD-003",
        "AV-001",
        "AV-002",
        "MFA-001",
        "SSH-001",
        "PATCH-001",
        "PATCH-002",
        "USB-001",
        "AUD-001",
        "AUD-002",
        "TIME-001",
        "TIME-002",
    } <= ids
    for control in catalogue.controls.values():
        assert control.remediation_role == "security_baseline"
        assert control.remediation_tag == control.id


def test_malformed_catalogue_reports_every_problem_with_file_control_and_path(tmp_path):
    def mutate(controls):
        controls["PWD-001"]["parameters"]["minlen"] = "fourteen"
        controls["SSH-001"]["severity"] = "urgent"
        del controls["AV-001"]["title"]
        controls["USB-001"]["surprise"] = 1

    path = _write_catalogue(tmp_path, mutate)
    with pytest.raises(PolicyError) as err:
        load_catalogue(path)
    text = str(err.value)
    assert "4 problem(s)" in text
    assert (
        f"{path}: control PWD-001: at 'controls.PWD-001.parameters.minlen': 'fourteen' is not of type 'integer'" in text
    )
    assert "control SSH-001: at 'controls.SSH-001.severity': 'urgent' is not one of" in text
    assert "control AV-001: at 'controls.AV-001': 'title' is a required property" in text
    assert "control USB-001: at 'controls.USB-001': Additional properties are not allowed ('surprise'" in text


def test_unknown_references_are_errors(tmp_path):
    def mutate(controls):
        controls["PWD-002"]["sop_steps"] = ["sop5.9"]
        controls["PWD-002"]["iso"] = ["8.99"]
        controls["AUD-001"]["remediation"]["tag"] = "AUD-999"
        controls["TIME-001"]["remediation"]["role"] = "no_such_role"

    path = _write_catalogue(tmp_path, mutate)
    with pytest.raises(PolicyError) as err:
        load_catalogue(path)
    text = str(err.value)
    assert "control PWD-002: at 'sop_steps': unknown SOP step 'sop5.9'" in text
    assert "control PWD-002: at 'iso': unknown ISO/IEC 27001:2022 control '8.99'" in text
    assert "control AUD-001: at 'remediation.tag': no task in role 'security_baseline' is tagged 'AUD-999'" in text
    assert "control TIME-001: at 'remediation.role': role 'no_such_role' not found" in text


def test_invalid_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "controls.yml"
    path.write_text("version: 1\ncontrols:\n  PWD-001: [unclosed\n")
    with pytest.raises(PolicyError, match=r"controls.yml: line \d+ not valid YAML"):
        load_catalogue(path)


def test_cli_malformed_catalogue_is_one_clear_error_without_traceback(tmp_path):
    path = _write_catalogue(tmp_path, lambda c: c["MFA-001"]["parameters"].pop("admin_group"))
    result = CliRunner().invoke(cli, ["check", "--catalogue", str(path)])
    assert result.exit_code == 2
    assert "control MFA-001: at 'controls.MFA-001.parameters': 'admin_group' is a required property" in result.output
    assert "Traceback" not in result.output


def test_unknown_control_selected_is_a_user_error():
    with pytest.raises(PolicyError, match="unknown control id"):
        load_catalogue().select(["PWD-001", "XYZ-123"])


def test_waivers_schema_and_unknown_control(tmp_path):
    path = tmp_path / "waivers.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    {
                        "control": "USB-001",
                        "hosts": ["ws-lt02"],
                        "justification": "short",
                        "approver": "IT manager",
                        "expires": "2027-01-01",
                    },
                    {
                        "control": "NOPE-001",
                        "groups": ["linux"],
                        "justification": "a long enough reason",
                        "approver": "IT manager",
                        "expires": "2027-01-01",
                    },
                    {
                        "control": "AV-001",
                        "justification": "no hosts or groups given",
                        "approver": "x y",
                        "expires": "2027-13-45",
                    },
                ]
            }
        )
    )
    with pytest.raises(PolicyError) as err:
        load_waivers([path], set(load_catalogue().controls))
    text = str(err.value)
    assert "waiver #1 (USB-001): at 'waivers[0].justification': 'short' is too short" in text
    assert "waiver #3 (AV-001)" in text and "is not a 'date'" in text
    assert "'hosts' is a required property" in text
    # the schema pass failed, so the unknown control is reported on the next load once the schema is fine
    path.write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    {
                        "control": "NOPE-001",
                        "groups": ["linux"],
                        "justification": "a long enough reason",
                        "approver": "IT manager",
                        "expires": dt.date(2027, 1, 1),
                    }
                ]
            }
        )
    )
    with pytest.raises(PolicyError, match=r"waiver #1 \(NOPE-001\).*unknown control .NOPE-001."):
        load_waivers([path], set(load_catalogue().controls))


def test_shipped_waiver_files_load_and_lab_waivers_are_justified():
    files = default_waiver_files(REPO_ROOT / "inventories" / "lab" / "hosts.yml")
    assert [f.name for f in files] == ["waivers.yml", "waivers.yml"]
    waivers = load_waivers(files, set(load_catalogue().controls))
    assert {w.control for w in waivers} == {"AUD-002", "TIME-002", "AV-002"}
    assert all(len(w.justification) > 80 and w.approver for w in waivers)


def test_role_defaults_satisfy_the_catalogue():
    """The remediation role's defaults must produce what the audit requires (one source of thresholds)."""
    defaults = yaml.safe_load(ROLE_DEFAULTS.read_text())
    params = {cid: c.parameters for cid, c in load_catalogue().controls.items()}
    assert defaults["security_baseline_pwquality_minlen"] >= params["PWD-001"]["minlen"]
    assert defaults["security_baseline_pwquality_minclass"] >= params["PWD-001"]["minclass"]
    assert defaults["security_baseline_pass_max_days"] <= params["PWD-002"]["pass_max_days"]
    assert defaults["security_baseline_pass_min_days"] >= params["PWD-002"]["pass_min_days"]
    assert defaults["security_baseline_pass_warn_age"] >= params["PWD-002"]["pass_warn_age"]
    assert 1 <= defaults["security_baseline_faillock_deny"] <= params["PWD-003"]["deny_max"]
    assert defaults["security_baseline_faillock_unlock_time"] >= params["PWD-003"]["unlock_time_min"]
    assert defaults["security_baseline_ssh_max_auth_tries"] <= params["SSH-001"]["at_most"]["maxauthtries"]
    assert defaults["security_baseline_ssh_login_grace_time"] <= params["SSH-001"]["at_most"]["logingracetime"]
    assert defaults["security_baseline_ssh_permit_root_login"] == params["SSH-001"]["equals"]["permitrootlogin"]
    assert defaults["security_baseline_mfa_admin_group"] == params["MFA-001"]["admin_group"]
    assert defaults["security_baseline_mfa_service_accounts"] == params["MFA-001"]["service_accounts"]
    assert set(params["USB-001"]["modules"]) <= set(defaults["security_baseline_usb_modules"])


def _tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if "name" in node and not any(k in node for k in ("block", "import_tasks", "ansible.builtin.import_tasks")):
            yield node
        for key in ("block", "rescue", "always"):
            yield from _tasks(node.get(key))


def test_every_remediation_task_carries_control_sop_step_and_iso_tags():
    from runner.policy.refs import iso_controls, sop_steps

    controls = set(load_catalogue().controls)
    tasks_dir = REPO_ROOT / "roles" / "security_baseline" / "tasks"
    checked = 0
    for task_file in sorted(tasks_dir.glob("*.yml")):
        if task_file.name in ("main.yml", "set_vars.yml"):
            continue
        for task in _tasks(yaml.safe_load(task_file.read_text())):
            tags = task.get("tags", [])
            if tags == ["always"]:
                continue
            where = f"{task_file.name}: {task['name']}"
            assert set(tags) & controls, f"{where}: no control id tag"
            assert set(tags) & set(sop_steps()), f"{where}: no SOP step tag"
            isos = [t[3:] for t in tags if t.startswith("iso")]
            assert isos and all(i in iso_controls() for i in isos), f"{where}: ISO tags {isos}"
            assert all(t in controls or t in sop_steps() or t.startswith("iso") for t in tags), where
            checked += 1
    assert checked >= 30
