"""Helpers the restic modules run on targets: error classification, restic timestamps, env files, masking."""

from __future__ import annotations

import datetime as dt

from ansible_collections.sop.core.plugins.module_utils import sop_restic


def test_classify_known_restic_errors() -> None:
    assert sop_restic.classify("Fatal: wrong password or no key found") == "wrong_password"
    assert sop_restic.classify("unable to create lock in backend: repository is already locked") == "locked"
    assert sop_restic.classify("dial tcp 169.254.210.9:5000: connect: connection refused") == "unreachable"
    assert sop_restic.classify("Is there a repository at the following location?") == "missing"
    assert sop_restic.classify("something else broke") == "error"


def test_parse_time_drops_nanoseconds() -> None:
    parsed = sop_restic.parse_time("2026-11-30T02:15:07.123456789Z")
    assert parsed == dt.datetime(2026, 11, 30, 2, 15, 7, 123456, tzinfo=dt.UTC)


def test_repo_reads_env_file_and_masks_its_secrets(tmp_path) -> None:
    password = tmp_path / "pw"
    password.write_text("s3cret-pass\n")
    env = tmp_path / "cloud.env"
    env.write_text(f"# comment\nRESTIC_REPOSITORY=s3:http://s3:5000/b\nAWS_SECRET_ACCESS_KEY=abc123\n"
                   f"RESTIC_PASSWORD_FILE={password}\n")
    repo = sop_restic.Repo("cloud", str(env))
    assert repo.location == "s3:http://s3:5000/b"
    assert repo.mask("key abc123 pass s3cret-pass") == "key **** pass ****"


def test_error_lines_prefers_error_lines() -> None:
    text = "open repository\nFatal: unable to open config file\nmore noise\n"
    assert sop_restic.error_lines(text) == ["Fatal: unable to open config file"]
