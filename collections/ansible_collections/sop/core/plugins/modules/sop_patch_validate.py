#!/usr/bin/python
# Runs on the target host: the functional checks of the install/update SOP (upd4.1, upd5.2).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_patch_validate
short_description: Functional checks of a host after an update or install (read-only)
description:
  - Runs each check of I(checks) once and reports every result; fails if any check fails. Read-only; it only
    asks systemd, opens TCP connections, sends HTTP GETs and runs the given read-only commands.
  - Retries and the settle period are the caller's (C(until)/C(retries)/C(delay) from policies/patching.yml).
options:
  checks:
    description:
      - Checks as data, each with exactly one of C(service) (systemd unit is active), C(port) (TCP port answers
        on C(host), default 127.0.0.1), C(url) (HTTP GET returns C(status), default 200, and the body matches
        C(body) when given), C(command) (its output matches the regex C(matches)).
    type: list
    elements: dict
    required: true
  timeout:
    description: Seconds per port/HTTP/command check.
    type: int
    default: 5
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Validate the demo service
  sop.core.sop_patch_validate:
    checks:
      - service: sop-demo-app
      - port: 8081
      - url: http://127.0.0.1:8081/
        status: 200
      - command: sop-demo-app-version
        matches: "^1\\."
"""

RETURN = r"""
results:
  description: One entry per check, C(check), C(ok) and C(detail).
  returned: always
  type: list
  elements: dict
passed:
  description: Whether every check passed.
  returned: always
  type: bool
sop_evidence:
  description: C(kind=patch_validate), C(passed) and C(results), as stored in the audit record.
  returned: always
  type: dict
"""

import re
import socket
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url


def _service(module: AnsibleModule, check: dict[str, Any], timeout: int) -> tuple[bool, str]:
    _rc, out, err = module.run_command(["systemctl", "is-active", check["service"]])
    return out.strip() == "active", "systemctl is-active: %s" % (out.strip() or err.strip())


def _port(module: AnsibleModule, check: dict[str, Any], timeout: int) -> tuple[bool, str]:
    host = check.get("host", "127.0.0.1")
    try:
        socket.create_connection((host, int(check["port"])), timeout=timeout).close()
        return True, "{}:{} answers".format(host, check["port"])
    except (OSError, ValueError) as exc:
        return False, "{}:{}: {}".format(host, check["port"], exc)


def _url(module: AnsibleModule, check: dict[str, Any], timeout: int) -> tuple[bool, str]:
    expected = int(check.get("status", 200))
    try:
        response = open_url(check["url"], timeout=timeout, validate_certs=check.get("validate_certs", True))
        status, body = response.getcode(), response.read().decode("utf-8", "replace")
    except Exception as exc:  # HTTPError carries the status; any other error is a failure
        status, body = getattr(exc, "code", None), str(exc)
    ok = status == expected and (not check.get("body") or re.search(check["body"], body) is not None)
    return ok, "GET {}: {} (expected {}){}".format(check["url"], status, expected, f" body: {body.strip()[:120]}")


def _command(module: AnsibleModule, check: dict[str, Any], timeout: int) -> tuple[bool, str]:
    rc, out, err = module.run_command(["timeout", str(timeout), "sh", "-c", check["command"]])
    text = (out + err).strip()
    ok = rc == 0 and re.search(check.get("matches", ""), text, re.M) is not None
    return ok, f"rc {rc}: {text[:200]}"


KINDS = (("service", _service), ("port", _port), ("url", _url), ("command", _command))


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(checks=dict(type="list", elements="dict", required=True),
                           timeout=dict(type="int", default=5)),
        supports_check_mode=True,
    )
    results = []
    for check in module.params["checks"]:
        kinds = [(k, f) for k, f in KINDS if k in check]
        if len(kinds) != 1:
            module.fail_json(msg=f"check {check!r}: give exactly one of service, port, url, command")
        kind, func = kinds[0]
        ok, detail = func(module, check, module.params["timeout"])
        results.append({"check": f"{kind} {check[kind]}", "ok": ok, "detail": detail})
    passed = all(r["ok"] for r in results)
    failed = [r for r in results if not r["ok"]]
    module.exit_json(changed=False, results=results, passed=passed, failed=not passed,
                     sop_evidence=dict(kind="patch_validate", passed=passed, results=results),
                     msg=f"all {len(results)} checks passed" if passed
                     else "failed: " + "; ".join("{} ({})".format(r["check"], r["detail"]) for r in failed))


if __name__ == "__main__":
    main()
