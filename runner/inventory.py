"""Inventory sources, checked before anything runs against them: a source that does not parse, or an inventory
with no host, is one InventoryError line naming the file (and line) -- never a run that "succeeds" on zero hosts.

Ansible's own parser decides (every source must be accepted by one of its inventory plugins, as
``[inventory] any_unparsed_is_failed`` in ansible.cfg makes plain ansible-playbook do too); YAML sources are read
first only to point at the line of a syntax error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from runner.errors import InventoryError

YAML_SUFFIXES = {".yml", ".yaml", ".json"}


class _AnyTagLoader(yaml.SafeLoader):
    """Safe YAML that accepts ansible's tags (``!vault``, ``!unsafe``) as plain values: a syntax check only."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def yaml_syntax_error(path: Path) -> str | None:
    """``line N: problem`` when a YAML inventory file is not valid YAML, else None."""
    try:
        yaml.load(path.read_text(), Loader=_AnyTagLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        return f"{where}not valid YAML: {getattr(exc, 'problem', None) or exc}"
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read: {exc}"
    return None


def _files(source: str) -> list[Path]:
    path = Path(source)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES
                      and not {"group_vars", "host_vars"} & set(p.relative_to(path).parts))
    return [path] if path.suffix in YAML_SUFFIXES else []


def load(sources: Sequence[str], *, vault_password_file: str | Path | None = None) -> Any:
    """An ansible InventoryManager over ``sources``; InventoryError if one does not parse or no host is left."""
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    for source in sources:
        for path in _files(source):
            problem = yaml_syntax_error(path)
            if problem:
                raise InventoryError(f"inventory {path}: {problem}")
    loader = DataLoader()
    if vault_password_file:
        from ansible.parsing.vault import get_file_vault_secret

        secret = get_file_vault_secret(filename=str(vault_password_file), loader=loader)
        secret.load()
        loader.set_vault_secrets([("default", secret)])
    manager = InventoryManager(loader=loader, sources=[], parse=False)
    for source in sources:
        with _plugin_failures() as failures:
            try:
                parsed = manager.parse_source(source)
            except AnsibleError as exc:
                failures.append(("", exc))
                parsed = False
        if not parsed:
            raise InventoryError(f"inventory {source}: {_best_failure(source, failures)}",
                              hint=f"ansible-inventory -i {source} --list  shows every plugin's error")
    manager.reconcile_inventory()
    if not manager.list_hosts("all"):
        raise InventoryError(f"inventory {', '.join(sources)}: no hosts", hint="a run on zero hosts would do nothing")
    return manager


def default_sources() -> list[str]:
    """What ansible-playbook would read without ``-i``: $ANSIBLE_INVENTORY, else the repository's ansible.cfg."""
    import configparser
    import os

    from runner.paths import REPO_ROOT

    if os.environ.get("ANSIBLE_INVENTORY"):
        return [s for s in os.environ["ANSIBLE_INVENTORY"].split(",") if s]
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "ansible.cfg")
    value = config.get("defaults", "inventory", fallback="/etc/ansible/hosts")
    return [str((REPO_ROOT / s.strip()).resolve()) for s in value.split(",") if s.strip()]


@contextlib.contextmanager
def _plugin_failures() -> Iterator[list[tuple[str, Exception]]]:
    """Collect the per-plugin parse errors ansible would print as warnings (and keep them off the console)."""
    from ansible.inventory import manager as inventory_manager

    failures: list[tuple[str, Exception]] = []
    display = inventory_manager.display
    original = display.error_as_warning

    def collect(msg: str, exception: Exception, **_: Any) -> None:
        failures.append((str(msg), exception))

    def quiet(msg: str, *args: Any, **kwargs: Any) -> None:
        if not str(msg).startswith("Unable to parse"):  # said once, by our ConfigError
            original_warning(msg, *args, **kwargs)

    original_warning = display.warning
    display.error_as_warning = collect  # type: ignore[method-assign]
    display.warning = quiet  # type: ignore[method-assign]
    try:
        yield failures
    finally:
        display.error_as_warning = original  # type: ignore[method-assign]
        display.warning = original_warning  # type: ignore[method-assign]


def _best_failure(source: str, failures: list[tuple[str, Exception]]) -> str:
    """The error of the plugin meant for this kind of file (ini for .ini, yaml for .yml), in one line."""
    if not failures:
        return "not an inventory any plugin accepts (no such host list, file or script?)"
    wanted = "yaml" if Path(source).suffix in YAML_SUFFIXES else "ini"
    msg, exc = next(((m, e) for m, e in failures if f"'{wanted}'" in m), failures[0])
    plugin = msg.split("'")[1] if msg.count("'") >= 2 else "ansible"
    cause = exc.__cause__ or exc
    text = str(getattr(cause, "message", "") or cause).strip().splitlines() or ["unknown error"]
    return f"{plugin} plugin: {text[0]}"
