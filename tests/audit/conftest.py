"""Fixtures of the audit tests: a scratch audit dir, a signing key of the test's own (never /etc)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from labtools import moto_server

from runner.audit.worm import WormStore


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"


@pytest.fixture(autouse=True)
def _own_audit_key(key_dir: Path) -> Path:
    """Every audit test signs with a key of its own (the shared ``key_dir`` fixture, tests/conftest.py)."""
    return key_dir


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server of these tests' own on a free 127.0.0.1 port (not the lab's)."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def worm_url(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh Object Lock bucket (COMPLIANCE retention, 1 day) on the tests' moto server."""
    monkeypatch.setenv("SOP_AUDIT_STORE_ENDPOINT", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("SOP_AUDIT_STORE_RETENTION_DAYS", "1")
    url = f"s3://audit-{uuid.uuid4().hex[:12]}/sop"
    WormStore(url).ensure_bucket()
    return url
