"""Check methods: what each control needs probed on a host, and how the raw facts are judged.

Each method has ``request(params) -> probe arguments`` and ``evaluate(params, facts) -> Finding``. Findings
carry the value seen and the value required, so a report line explains itself.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Facts = dict[str, Any]
Params = dict[str, Any]
DAY = 86400.0


@dataclass
class Finding:
    status: str  # pass | fail | error
    message: str
    seen: dict[str, Any] = field(default_factory=dict)
    required: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    request: Callable[[Params], dict[str, Any]]
    evaluate: Callable[[Params, Facts], Finding]


def verdict(problems: list[str], ok: str, seen: dict[str, Any], required: dict[str, Any]) -> Finding:
    if problems:
        return Finding("fail", "; ".join(problems), seen, required)
    return Finding("pass", ok, seen, required)


# --- parsing helpers --------------------------------------------------------------------------------------
def files_matching(facts: Facts, prefix: str) -> list[tuple[str, str]]:
    """(path, text) of collected files under ``prefix``, in path order (readable ones only)."""
    return [
        (p, t)
        for p, t in sorted(facts.get("files", {}).items())
        if p.startswith(prefix) and isinstance(t, str)
    ]


def active_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def key_values(text: str, sep: str = "=") -> dict[str, str]:
    out: dict[str, str] = {}
    for line in active_lines(text):
        if sep == " ":
            key, _, value = line.partition(" ")
        else:
            key, found, value = line.partition(sep)
            if not found:
                out[key.strip()] = ""
                continue
        out[key.strip()] = value.strip()
    return out


def pam_lines(text: str, module: str) -> list[list[str]]:
    """Active PAM lines that load ``module``, split into words (bracketed controls kept whole)."""
    found = []
    for line in active_lines(text):
        words = re.findall(r"\[[^\]]*\]|\S+", line)
        if any(w.endswith(module) for w in words):
            found.append(words)
    return found


def module_args(words: list[str], module: str) -> dict[str, str]:
    index = next(i for i, w in enumerate(words) if w.endswith(module))
    return dict([*a.split("=", 1), ""][:2] for a in words[index + 1 :])


def as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def unit_ok(facts: Facts, unit: str, need_enabled: bool = True) -> tuple[bool, str]:
    info = facts.get("units", {}).get(unit, {})
    if "error" in info or info.get("LoadState") in (None, "not-found"):
        return False, f"{unit} not installed"
    if info.get("LoadState") != "loaded":
        return False, f"{unit} {info.get('LoadState')}"
    state = f"{unit} {info.get('ActiveState')}/{info.get('UnitFileState')}"
    enabled = info.get("UnitFileState") in ("enabled", "enabled-runtime", "static", "alias", "indirect")
    return info.get("ActiveState") == "active" and (enabled or not need_enabled), state


# --- PWD-001 pwquality ------------------------------------------------------------------------------------
def pwquality_request(_: Params) -> dict[str, Any]:
    return {
        "files": [
            "/etc/security/pwquality.conf",
            "/etc/security/pwquality.conf.d/*.conf",
            "/etc/pam.d/common-password",
        ]
    }


def pwquality_evaluate(params: Params, facts: Facts) -> Finding:
    settings = {"minlen": "8", "minclass": "0"}  # libpwquality defaults
    for _, text in files_matching(facts, "/etc/security/pwquality.conf"):
        settings.update({k: v for k, v in key_values(text).items() if k in settings})
    stack = pam_lines(facts["files"].get("/etc/pam.d/common-password", ""), "pam_pwquality.so")
    for words in stack:
        settings.update({k: v for k, v in module_args(words, "pam_pwquality.so").items() if k in settings})
    seen = {
        "pam_pwquality_stacked": bool(stack),
        "minlen": as_int(settings["minlen"]),
        "minclass": as_int(settings["minclass"]),
    }
    required = {
        "pam_pwquality_stacked": True,
        "minlen": f">= {params['minlen']}",
        "minclass": f">= {params['minclass']}",
    }
    problems = []
    if not stack:
        problems.append("pam_pwquality is not in /etc/pam.d/common-password")
    if (seen["minlen"] or 0) < params["minlen"]:
        problems.append(f"minlen {seen['minlen']} < {params['minlen']}")
    if (seen["minclass"] or 0) < params["minclass"]:
        problems.append(f"minclass {seen['minclass']} < {params['minclass']}")
    return verdict(
        problems, f"pam_pwquality minlen={seen['minlen']} minclass={seen['minclass']}", seen, required
    )


# --- PWD-002 login.defs -----------------------------------------------------------------------------------
def login_defs_request(_: Params) -> dict[str, Any]:
    return {"files": ["/etc/login.defs"]}


def login_defs_evaluate(params: Params, facts: Facts) -> Finding:
    text = facts["files"].get("/etc/login.defs")
    if not isinstance(text, str):
        return Finding("fail", "/etc/login.defs missing or unreadable", {}, {})
    values = {}
    for line in active_lines(text):
        parts = line.split()
        if len(parts) >= 2:
            values[parts[0]] = parts[1]
    seen = {
        k.lower(): as_int(values.get(k.upper())) for k in ("pass_max_days", "pass_min_days", "pass_warn_age")
    }
    required = {
        "pass_max_days": f"<= {params['pass_max_days']}",
        "pass_min_days": f">= {params['pass_min_days']}",
        "pass_warn_age": f">= {params['pass_warn_age']}",
    }
    problems = []
    if seen["pass_max_days"] is None or seen["pass_max_days"] > params["pass_max_days"]:
        problems.append(f"PASS_MAX_DAYS {seen['pass_max_days']} > {params['pass_max_days']}")
    for key in ("pass_min_days", "pass_warn_age"):
        if seen[key] is None or seen[key] < params[key]:
            problems.append(f"{key.upper()} {seen[key]} < {params[key]}")
    return verdict(problems, "password aging within policy", seen, required)


# --- PWD-003 faillock -------------------------------------------------------------------------------------
def faillock_request(_: Params) -> dict[str, Any]:
    return {"files": ["/etc/security/faillock.conf", "/etc/pam.d/common-auth"]}


def faillock_evaluate(params: Params, facts: Facts) -> Finding:
    settings = {"deny": "3", "unlock_time": "600"}  # pam_faillock defaults
    conf = facts["files"].get("/etc/security/faillock.conf", "")
    settings.update(
        {k: v for k, v in key_values(conf if isinstance(conf, str) else "").items() if k in settings}
    )
    stack = pam_lines(facts["files"].get("/etc/pam.d/common-auth", ""), "pam_faillock.so")
    modes = set()
    for words in stack:
        args = module_args(words, "pam_faillock.so")
        modes.update(k for k in ("preauth", "authfail", "authsucc") if k in args)
        settings.update({k: v for k, v in args.items() if k in settings})
    deny, unlock = as_int(settings["deny"]), as_int(settings["unlock_time"])
    seen = {"common_auth_modes": sorted(modes), "deny": deny, "unlock_time": unlock}
    required = {
        "common_auth_modes": ["authfail", "preauth"],
        "deny": f"1..{params['deny_max']}",
        "unlock_time": f"0 (admin unlock) or >= {params['unlock_time_min']}",
    }
    problems = []
    if not {"preauth", "authfail"} <= modes:
        problems.append(f"pam_faillock preauth+authfail not in common-auth (found {sorted(modes) or 'none'})")
    if deny is None or not 1 <= deny <= params["deny_max"]:
        problems.append(f"deny {deny} not in 1..{params['deny_max']}")
    if unlock is None or (unlock != 0 and unlock < params["unlock_time_min"]):
        problems.append(f"unlock_time {unlock} < {params['unlock_time_min']}")
    return verdict(problems, f"lockout after {deny} failures for {unlock}s", seen, required)


# --- AV-001 antivirus -------------------------------------------------------------------------------------
def antivirus_request(params: Params) -> dict[str, Any]:
    return {"packages": params["packages"], "units": params["scanner_units"] + params["updater_units"]}


def antivirus_evaluate(params: Params, facts: Facts) -> Finding:
    installed = {p: facts["packages"].get(p) for p in params["packages"]}
    scanners = {u: unit_ok(facts, u) for u in params["scanner_units"]}
    updaters = {u: unit_ok(facts, u) for u in params["updater_units"]}
    seen = {
        "packages": installed,
        "scanners": {u: s for u, (_, s) in scanners.items()},
        "updaters": {u: s for u, (_, s) in updaters.items()},
    }
    required = {
        "packages": "installed",
        "scanners": f"one of {params['scanner_units']} active+enabled",
        "updaters": "all active+enabled",
    }
    problems = [f"package {p} not installed" for p, v in installed.items() if v is None]
    if not any(ok for ok, _ in scanners.values()):
        problems.append("no scanner active (" + ", ".join(s for _, s in scanners.values()) + ")")
    problems += [f"updater not active ({s})" for ok, s in updaters.values() if not ok]
    return verdict(problems, "ClamAV installed, scanning and updating", seen, required)


# --- AV-002 signatures ------------------------------------------------------------------------------------
def av_signatures_request(params: Params) -> dict[str, Any]:
    return {"clamav_dirs": [params["database_dir"]]}


def signature_built(entry: dict[str, Any]) -> float | None:
    """Build time (epoch) of a CVD/CLD header (ClamAV-VDB:time:version:sigs:flevel:md5:dsig:builder:stime)."""
    fields = entry.get("header", "").split(":")
    if len(fields) >= 9 and fields[0] == "ClamAV-VDB":
        return float(fields[8]) if fields[8].isdigit() else None
    return None


def av_signatures_evaluate(params: Params, facts: Facts) -> Finding:
    directory, max_age = params["database_dir"], params["max_age_days"]
    db = facts.get("clamav", {}).get(directory, {})
    daily = {name: entry for name, entry in db.items() if name.startswith("daily.")}
    required = {"daily_signatures_age_days": f"<= {max_age}"}
    if not daily:
        return Finding(
            "fail",
            f"signatures missing: no daily.cvd/daily.cld in {directory} "
            "(freshclam has never downloaded; is the update mirror reachable?)",
            {"database_files": sorted(db)},
            required,
        )
    built = [b for b in (signature_built(e) for e in daily.values()) if b is not None]
    if not built:
        return Finding(
            "error",
            f"cannot read the build time of {sorted(daily)} in {directory}",
            {"headers": {n: e.get("header", e.get("error")) for n, e in daily.items()}},
            required,
        )
    age = (facts["now"] - max(built)) / DAY
    seen = {"daily_signatures_age_days": round(age, 1), "database_files": sorted(db)}
    if age > max_age:
        return Finding(
            "fail", f"signatures stale: daily database is {age:.0f} days old (max {max_age})", seen, required
        )
    return Finding("pass", f"signatures {age:.1f} days old", seen, required)


# --- MFA-001 ssh 2FA --------------------------------------------------------------------------------------
def ssh_2fa_request(params: Params) -> dict[str, Any]:
    return {
        "files": ["/etc/pam.d/sshd", "/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/*.conf"],
        "groups": [params["admin_group"]],
        "users": params["service_accounts"],
        "paths": [f"/lib/*/security/{params['pam_module']}", f"/usr/lib/*/security/{params['pam_module']}"],
    }


def _methods(value: str | None) -> str:
    return ",".join(p.strip() for p in (value or "").split(",")) if value else "missing"


def _match_block_methods(facts: Facts, group: str) -> str | None:
    """AuthenticationMethods inside `Match Group <group>` in the sshd config files (when no member exists)."""
    current = None
    for _, text in files_matching(facts, "/etc/ssh/sshd_config"):
        for line in active_lines(text):
            words = shlex.split(line)
            if words[0].lower() == "match":
                current = words[1:]
            elif (
                words[0].lower() == "authenticationmethods"
                and current
                and current[0].lower() == "group"
                and group in current[1].split(",")
            ):
                return words[1]
    return None


def ssh_2fa_evaluate(params: Params, facts: Facts) -> Finding:
    group, wanted, pam_module = params["admin_group"], params["required_methods"], params["pam_module"]
    info = facts["groups"].get(group, {"exists": False, "members": []})
    pam = pam_lines(facts["files"].get("/etc/pam.d/sshd", ""), pam_module)
    module_present = any(facts.get("paths", {}).values())
    members = {m: _methods(facts["sshd"].get(m, {}).get("authenticationmethods")) for m in info["members"]}
    seen: dict[str, Any] = {
        "admin_group": group,
        "group_exists": info["exists"],
        "members": members,
        "pam_sshd": [" ".join(w) for w in pam],
        "pam_module_installed": module_present,
    }
    problems = []
    if not info["exists"]:
        problems.append(f"admin group {group} does not exist")
    if not module_present:
        problems.append(f"{pam_module} not installed")
    if not any(w[0] == "auth" and "nullok" not in w for w in pam):
        problems.append(f"/etc/pam.d/sshd has no auth line for {pam_module} without nullok")
    if members:
        problems += [
            f"{m}: AuthenticationMethods {v} (need {wanted})" for m, v in members.items() if v != wanted
        ]
    else:
        block = _match_block_methods(facts, group)
        seen["match_block_methods"] = block
        if _methods(block) != wanted:
            problems.append(f"no 'Match Group {group}' block requiring {wanted} (found {block})")
    seen["service_accounts"] = exceptions = _service_accounts(params, facts, group)
    problems += [f"service account {u}: {s}" for u, s in exceptions.items() if not s.startswith("key-only")]
    return verdict(
        problems,
        f"{group} needs {wanted}; service accounts key-only (documented exception)",
        seen,
        {
            "admin_group_methods": wanted,
            "pam": f"auth required {pam_module} (no nullok)",
            "service_accounts": "key-only, not in the admin group",
        },
    )


def _service_accounts(params: Params, facts: Facts, group: str) -> dict[str, str]:
    out = {}
    for user in params["service_accounts"]:
        uinfo = facts.get("users", {}).get(user, {"exists": False})
        settings = facts["sshd"].get(user, {})
        if not uinfo.get("exists"):
            out[user] = "key-only (account absent)"
        elif group in uinfo.get("groups", []):
            out[user] = f"is a member of {group}"
        elif (
            settings.get("passwordauthentication") != "no"
            or settings.get("kbdinteractiveauthentication") != "no"
        ):
            out[user] = (
                f"password={settings.get('passwordauthentication')} "
                f"kbd-interactive={settings.get('kbdinteractiveauthentication')} (must be key-only)"
            )
        else:
            out[user] = f"key-only (methods {_methods(settings.get('authenticationmethods'))})"
    return out


# --- SSH-001 sshd settings --------------------------------------------------------------------------------
def sshd_settings_request(_: Params) -> dict[str, Any]:
    return {"packages": ["openssh-server"]}


def sshd_settings_evaluate(params: Params, facts: Facts) -> Finding:
    settings = facts["sshd"].get("sop-check-probe", {})
    if "error" in settings:
        return Finding("error", f"sshd -T failed: {settings['error']}", {}, {})
    equals, at_most = params["equals"], params.get("at_most", {})
    seen = {k: settings.get(k) for k in [*equals, *at_most]}
    required = {**equals, **{k: f"<= {v}" for k, v in at_most.items()}}
    problems = [f"{k} {seen[k]} (need {v})" for k, v in equals.items() if str(seen[k]).lower() != v.lower()]
    problems += [
        f"{k} {seen[k]} (need <= {v})"
        for k, v in at_most.items()
        if as_int(seen[k]) is None or as_int(seen[k]) > v
    ]
    return verdict(problems, "sshd settings within baseline", seen, required)


# --- PATCH-001 / PATCH-002 --------------------------------------------------------------------------------
def apt_request(_: Params) -> dict[str, Any]:
    return {"apt": True, "packages": ["unattended-upgrades"], "units": ["apt-daily-upgrade.timer"]}


def _days_since(facts: Facts, stamp: float | None) -> float | None:
    return None if stamp is None else round((facts["now"] - stamp) / DAY, 1)


def security_updates_evaluate(params: Params, facts: Facts) -> Finding:
    apt = facts.get("apt", {})
    pending = [p for p in apt.get("pending", []) if "security" in p["origin"].lower()]
    index_age = _days_since(facts, apt.get("index_mtime"))
    since_patch = _days_since(facts, apt.get("last_patch_run"))
    seen = {
        "pending_security": len(pending),
        "packages": [f"{p['package']} {p['candidate']}" for p in pending][:20],
        "index_age_days": index_age,
        "days_since_patch_run": since_patch,
    }
    required = {
        "pending_security": f"0, or last patch run <= {params['max_days_since_patch']} days ago",
        "index_age_days": f"<= {params['max_index_age_days']}",
    }
    if apt.get("simulation_rc", 0) != 0:
        return Finding("error", f"apt-get -s failed: {apt.get('simulation_error')}", seen, required)
    if index_age is None:
        return Finding(
            "fail", "package index never refreshed: pending security updates unknown", seen, required
        )
    if index_age > params["max_index_age_days"]:
        return Finding(
            "fail",
            f"package index {index_age:.0f} days old: pending security updates unknown",
            seen,
            required,
        )
    if not pending:
        return Finding("pass", "no security update pending", seen, required)
    if since_patch is not None and since_patch <= params["max_days_since_patch"]:
        return Finding(
            "pass",
            f"{len(pending)} security update(s) pending, within the patch window "
            f"(last patch run {since_patch:.0f} days ago)",
            seen,
            required,
        )
    last = "never" if since_patch is None else f"{since_patch:.0f} days ago"
    return Finding(
        "fail",
        f"{len(pending)} security update(s) pending, last patch run {last} "
        f"(max {params['max_days_since_patch']} days)",
        seen,
        required,
    )


def _apt_config(facts: Facts, key: str) -> list[str]:
    dump = facts.get("apt", {}).get("apt_config", "")
    return re.findall(rf'^{re.escape(key)}(?:::)? "([^"]*)";$', dump, re.M)


def patch_mechanism_evaluate(params: Params, facts: Facts) -> Finding:
    unattended = (_apt_config(facts, "APT::Periodic::Unattended-Upgrade") or ["0"])[-1]
    lists = (_apt_config(facts, "APT::Periodic::Update-Package-Lists") or ["0"])[-1]
    origins = _apt_config(facts, "Unattended-Upgrade::Origins-Pattern") + _apt_config(
        facts, "Unattended-Upgrade::Allowed-Origins"
    )
    timer_ok, timer = unit_ok(facts, "apt-daily-upgrade.timer")
    since_patch = _days_since(facts, facts.get("apt", {}).get("last_patch_run"))
    seen = {
        "unattended_upgrades": facts["packages"].get("unattended-upgrades"),
        "periodic_unattended_upgrade": unattended,
        "periodic_update_package_lists": lists,
        "security_origins": [o for o in origins if "security" in o.lower()],
        "timer": timer,
        "days_since_patch_run": since_patch,
    }
    required = {
        "either": "unattended-upgrades installed, Unattended-Upgrade/Update-Package-Lists != 0, a "
        "security origin, apt-daily-upgrade.timer active",
        "or": f"a patch run within {params['max_days_since_patch']} days",
    }
    problems = []
    if seen["unattended_upgrades"] is None:
        problems.append("unattended-upgrades not installed")
    if unattended in ("0", "") or lists in ("0", ""):
        problems.append(f"APT::Periodic Unattended-Upgrade={unattended} Update-Package-Lists={lists}")
    if not seen["security_origins"]:
        problems.append("no security origin in Unattended-Upgrade::Origins-Pattern")
    if not timer_ok:
        problems.append(f"timer not active ({timer})")
    if not problems:
        return Finding("pass", "unattended security updates configured", seen, required)
    if since_patch is not None and since_patch <= params["max_days_since_patch"]:
        return Finding("pass", f"monthly patch run recorded {since_patch:.0f} days ago", seen, required)
    last = "never" if since_patch is None else f"{since_patch:.0f} days ago"
    return Finding("fail", "; ".join(problems) + f"; last patch run {last}", seen, required)


# --- USB-001 modprobe -------------------------------------------------------------------------------------
MODPROBE_DIRS = ("/etc/modprobe.d/", "/lib/modprobe.d/", "/usr/lib/modprobe.d/", "/run/modprobe.d/")
DISABLING = {"/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true"}


def modprobe_request(params: Params) -> dict[str, Any]:
    return {"files": [f"{d}*.conf" for d in MODPROBE_DIRS], "kernel_modules": params["modules"]}


def modprobe_evaluate(params: Params, facts: Facts) -> Finding:
    seen: dict[str, Any] = {}
    problems = []
    for module in params["modules"]:
        names = {module, module.replace("-", "_"), module.replace("_", "-")}
        install, blacklisted = None, False
        for directory in MODPROBE_DIRS:
            for path, text in files_matching(facts, directory):
                for line in active_lines(text):
                    words = line.split()
                    if len(words) >= 3 and words[0] == "install" and words[1] in names:
                        install = f"{' '.join(words[2:])} ({path})"
                    if len(words) >= 2 and words[0] == "blacklist" and words[1] in names:
                        blacklisted = True
        disabled = install is not None and install.split(" (")[0] in DISABLING
        seen[module] = {
            "install": install,
            "blacklisted": blacklisted,
            "loaded_now": facts.get("kernel_modules", {}).get(module),
            "live_state": "not judged (containers share the host kernel)",
        }
        if not disabled:
            problems.append(f"{module}: no 'install {module} /bin/false' (found {install})")
        if not blacklisted:
            problems.append(f"{module}: not blacklisted")
    return verdict(
        problems,
        "disabled by modprobe configuration",
        seen,
        {m: {"install": "/bin/false", "blacklisted": True} for m in params["modules"]},
    )


# --- AUD-001 journald -------------------------------------------------------------------------------------
def journal_request(_: Params) -> dict[str, Any]:
    return {
        "files": ["/etc/systemd/journald.conf", "/etc/systemd/journald.conf.d/*.conf"],
        "paths": ["/var/log/journal"],
        "units": ["systemd-journald.service"],
    }


def journal_evaluate(_: Params, facts: Facts) -> Finding:
    storage = "auto (default)"
    for _path, text in files_matching(facts, "/etc/systemd/journald.conf"):
        value = key_values(text).get("Storage")
        if value:
            storage = value
    active, unit = unit_ok(facts, "systemd-journald.service", need_enabled=False)
    directory = bool(facts.get("paths", {}).get("/var/log/journal"))
    seen = {"Storage": storage, "/var/log/journal": directory, "journald": unit}
    problems = []
    if storage != "persistent":
        problems.append(f"journald Storage={storage} (need persistent)")
    if not directory:
        problems.append("/var/log/journal missing")
    if not active:
        problems.append(f"journald not active ({unit})")
    return verdict(
        problems,
        "journald stores logs persistently",
        seen,
        {"Storage": "persistent", "/var/log/journal": True, "journald": "active"},
    )


# --- AUD-002 / TIME-002 service ---------------------------------------------------------------------------
def service_request(params: Params) -> dict[str, Any]:
    return {"packages": params["packages"], "units": params["units"]}


def service_evaluate(params: Params, facts: Facts) -> Finding:
    packages = {p: facts["packages"].get(p) for p in params["packages"]}
    states = {u: unit_ok(facts, u) for u in params["units"]}
    seen = {"packages": packages, "units": {u: s for u, (_, s) in states.items()}}
    problems = [f"package {p} not installed" for p, v in packages.items() if v is None]
    oks = [ok for ok, _ in states.values()]
    if not (any(oks) if params.get("any") else all(oks)):
        problems.append(
            ", ".join(s for _, s in states.values())
            + (" (need one active+enabled)" if params.get("any") else " (need active+enabled)")
        )
    return verdict(
        problems,
        "service active and enabled",
        seen,
        {"packages": "installed", "units": ("one" if params.get("any") else "all") + " active+enabled"},
    )


# --- TIME-001 time sync configuration ---------------------------------------------------------------------
def time_sync_request(params: Params) -> dict[str, Any]:
    return {
        "units": params["units"],
        "files": [
            "/etc/systemd/timesyncd.conf",
            "/etc/systemd/timesyncd.conf.d/*.conf",
            "/etc/chrony/chrony.conf",
            "/etc/chrony/conf.d/*.conf",
            "/etc/chrony/sources.d/*.sources",
        ],
    }


def time_sync_evaluate(params: Params, facts: Facts) -> Finding:
    servers: dict[str, list[str]] = {"systemd-timesyncd.service": [], "chrony.service": []}
    for _path, text in files_matching(facts, "/etc/systemd/timesyncd.conf"):
        value = key_values(text).get("NTP")
        if value is not None:
            servers["systemd-timesyncd.service"] = value.split()
    for _path, text in files_matching(facts, "/etc/chrony/"):
        servers["chrony.service"] += [
            ln.split()[1]
            for ln in active_lines(text)
            if ln.split()[0] in ("server", "pool") and len(ln.split()) > 1
        ]
    seen: dict[str, Any] = {}
    good = []
    for unit in params["units"]:
        info = facts.get("units", {}).get(unit, {})
        seen[unit] = {
            "installed": info.get("LoadState") == "loaded",
            "unit_file": info.get("UnitFileState"),
            "servers": servers.get(unit, []),
        }
        if seen[unit]["installed"] and info.get("UnitFileState") == "enabled" and seen[unit]["servers"]:
            good.append(unit)
    if good:
        return Finding(
            "pass",
            f"{good[0]} enabled with servers {seen[good[0]]['servers']}",
            seen,
            {"any_of": params["units"]},
        )
    return Finding(
        "fail",
        "no time sync service installed+enabled with explicit NTP servers",
        seen,
        {"any_of": f"{params['units']} installed, enabled, NTP servers configured"},
    )


METHODS: dict[str, Method] = {
    "pwquality": Method(pwquality_request, pwquality_evaluate),
    "login_defs": Method(login_defs_request, login_defs_evaluate),
    "faillock": Method(faillock_request, faillock_evaluate),
    "antivirus": Method(antivirus_request, antivirus_evaluate),
    "av_signatures": Method(av_signatures_request, av_signatures_evaluate),
    "ssh_2fa": Method(ssh_2fa_request, ssh_2fa_evaluate),
    "sshd_settings": Method(sshd_settings_request, sshd_settings_evaluate),
    "security_updates": Method(apt_request, security_updates_evaluate),
    "patch_mechanism": Method(apt_request, patch_mechanism_evaluate),
    "modprobe_disabled": Method(modprobe_request, modprobe_evaluate),
    "persistent_journal": Method(journal_request, journal_evaluate),
    "service_active": Method(service_request, service_evaluate),
    "time_sync_config": Method(time_sync_request, time_sync_evaluate),
}
