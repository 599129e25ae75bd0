"""Every SOP-step and ISO tag in roles and playbooks names a real SOP step / Annex A control."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from runner.paths import REPO_ROOT
from runner.policy.refs import iso_controls, sop_steps

SOP_LIKE = re.compile(r"^(sop\d|upd\d|gen001\.|pti\.)")
ISO_LIKE = re.compile(r"^iso\d")
TASK_FILES = sorted([*REPO_ROOT.glob("roles/*/tasks/**/*.yml"), *REPO_ROOT.glob("roles/*/handlers/*.yml"),
                     *REPO_ROOT.glob("playbooks/*.yml")])


def _tasks(node: object) -> Iterator[dict]:
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if "tags" in node:
            yield node
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
            yield from _tasks(node.get(key))


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_tags_reference_known_ids(path: Path) -> None:
    steps, controls = sop_steps(), iso_controls()
    for task in _tasks(yaml.safe_load(path.read_text())):
        tags = task["tags"] if isinstance(task["tags"], list) else [task["tags"]]
        for tag in map(str, tags):
            if SOP_LIKE.match(tag):
                assert tag in steps, f"{path}: task {task.get('name')!r}: unknown SOP step tag {tag!r}"
            if ISO_LIKE.match(tag):
                assert tag[3:] in controls, f"{path}: task {task.get('name')!r}: unknown ISO control tag {tag!r}"


def test_the_catalogues_are_complete() -> None:
    assert len(iso_controls()) == 93  # ISO/IEC 27001:2022 Annex A
    assert {"sop4.2", "upd2.1", "gen001.5.3", "pti.D.7"} <= set(sop_steps())
