"""The audit callback lives in the collection (sop.core.audit); playbooks/callback_plugins/sop_audit.py is a
shim without logic. Local runs (connection local, no lab) prove it is recorded exactly once under each way of
loading it, also when ANSIBLE_CALLBACK_PLUGINS and ANSIBLE_COLLECTIONS_PATH are overridden as AWX does."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

from audit_helpers import VENV_BIN, clean_env, load_record

from runner.audit import AuditStore, validate
from runner.paths import PLAYBOOKS, REPO_ROOT

SHIM = PLAYBOOKS / "callback_plugins" / "sop_audit.py"
LOCAL_PLAY = """---
- name: Local play
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Say ok | sop6.1
      ansible.builtin.debug:
        msg: ok
      tags: [sop6.1]
"""


def test_shim_holds_no_logic() -> None:
    tree = ast.parse(SHIM.read_text())
    kinds = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            kinds.append("docstring")
        elif isinstance(node, ast.ImportFrom):
            kinds.append(f"from {node.module} import {','.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Assign):
            kinds.append("=" + ",".join(t.id for t in node.targets if isinstance(t, ast.Name)))
        else:
            kinds.append(type(node).__name__)
    assert kinds == [
        "docstring",
        "from __future__ import annotations",
        "=DOCUMENTATION",
        "from ansible_collections.sop.core.plugins.callback.audit import CallbackModule",
        "=__all__",
    ]


def test_no_plugin_outside_the_collection() -> None:
    collection = REPO_ROOT / "collections" / "ansible_collections" / "sop" / "core"
    plugin_dirs = ("library", "action_plugins", "module_utils", "callback_plugins", "filter_plugins",
                   "lookup_plugins", "modules", "action")
    stray = [
        p.relative_to(REPO_ROOT)
        for p in REPO_ROOT.rglob("*.py")
        if p.parent.name in plugin_dirs
        and collection not in p.parents
        and not {".venv", ".lab", "collections"} & set(p.relative_to(REPO_ROOT).parts[:1])
        and p != SHIM
    ]
    assert stray == []


def _run(project: Path, playbook: Path, audit_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = clean_env(SOP_AUDIT_DIR=str(audit_dir), ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"), **env)
    environ.pop("ANSIBLE_CONFIG", None)
    return subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)], cwd=project,
                          env=environ, capture_output=True, text=True, timeout=300, check=False)


def _only_record(audit_dir: Path) -> dict:
    runs = AuditStore(audit_dir).run_ids()
    assert len(runs) == 1, f"expected one recorded run, got {runs}"
    return load_record(audit_dir, runs[0])


def test_awx_like_project_records_through_the_adjacent_shim(tmp_path: Path) -> None:
    project = tmp_path / "project"  # no ansible.cfg: only what sits beside the playbook
    project.mkdir()
    playbook = project / "local.yml"
    playbook.write_text(LOCAL_PLAY)
    for name in ("callback_plugins", "collections"):
        shutil.copytree(PLAYBOOKS / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "elsewhere").mkdir()
    result = _run(project, playbook, tmp_path / "audit", ANSIBLE_CALLBACK_PLUGINS=str(tmp_path / "elsewhere"),
                  ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "elsewhere"))
    assert result.returncode == 0, result.stdout + result.stderr
    record = _only_record(tmp_path / "audit")
    assert record["status"] == "success" and validate(record) == []


def test_without_the_collection_the_shim_cannot_record(tmp_path: Path) -> None:
    """The shim really delegates: with no sop.core reachable it fails to load (and nothing is recorded)."""
    project = tmp_path / "project"
    project.mkdir()
    playbook = project / "local.yml"
    playbook.write_text(LOCAL_PLAY)
    shutil.copytree(PLAYBOOKS / "callback_plugins", project / "callback_plugins",
                    ignore=shutil.ignore_patterns("__pycache__"))
    result = _run(project, playbook, tmp_path / "audit", ANSIBLE_COLLECTIONS_PATH=str(tmp_path))
    assert "sop_audit" in result.stdout + result.stderr
    assert not (tmp_path / "audit" / "runs").exists() or AuditStore(tmp_path / "audit").run_ids() == []


def test_collection_callback_enabled_by_fqcn_records_once(tmp_path: Path) -> None:
    """Outside this repository: only the collection (no shim), enabled as sop.core.audit."""
    project = tmp_path / "project"
    project.mkdir()
    playbook = project / "local.yml"
    playbook.write_text(LOCAL_PLAY)
    result = _run(project, playbook, tmp_path / "audit",
                  ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / "collections"), ANSIBLE_CALLBACKS_ENABLED="sop.core.audit")
    assert result.returncode == 0, result.stdout + result.stderr
    record = _only_record(tmp_path / "audit")
    assert record["status"] == "success" and validate(record) == []


def test_repository_run_records_once(tmp_path: Path) -> None:
    """From the repo root (ansible.cfg: collections_path, callback_plugins): one record, not one per copy."""
    playbook = tmp_path / "local.yml"
    playbook.write_text(LOCAL_PLAY)
    environ_cfg = str(REPO_ROOT / "ansible.cfg")
    result = _run(REPO_ROOT, playbook, tmp_path / "audit", ANSIBLE_CONFIG=environ_cfg)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _only_record(tmp_path / "audit")["status"] == "success"


def test_ansible_doc_lists_the_collection() -> None:
    out = subprocess.run([str(VENV_BIN / "ansible-doc"), "-l", "sop.core"], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    names = sorted(line.split()[0] for line in out.splitlines() if line.strip())
    assert names == sorted(f"sop.core.{p.stem}" for p in
                           (REPO_ROOT / "collections/ansible_collections/sop/core/plugins/modules").glob("*.py"))
    assert len(names) == 19
    callback = subprocess.run([str(VENV_BIN / "ansible-doc"), "-t", "callback", "sop.core.audit"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=120, check=True).stdout
    assert "SOP_AUDIT_DIR" in callback


def test_tasks_call_project_plugins_by_fqcn_only() -> None:
    import re

    modules = REPO_ROOT / "collections" / "ansible_collections" / "sop" / "core" / "plugins" / "modules"
    names = sorted(p.stem for p in modules.glob("*.py"))
    short = re.compile(rf"^\s*(?:-\s+)?({'|'.join(names)}):\s*$", re.MULTILINE)
    fqcn = re.compile(rf"^\s*(?:-\s+)?sop\.core\.({'|'.join(names)}):\s*$", re.MULTILINE)
    found, used = [], set()
    for path in [*REPO_ROOT.glob("playbooks/*.yml"), *REPO_ROOT.glob("roles/**/*.yml"),
                 *REPO_ROOT.glob("tests/**/*.yml")]:
        text = path.read_text()
        found += [f"{path.relative_to(REPO_ROOT)}: {m.group(1)}" for m in short.finditer(text)]
        used |= {m.group(1) for m in fqcn.finditer(text)}
    assert found == []
    # called from Python: the probe by the sop_baseline_check action, sop_sanitize by the sop_wipe action
    assert used == set(names) - {"sop_baseline_probe", "sop_sanitize"}
