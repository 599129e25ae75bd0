"""The WORM audit store: S3-compatible object storage with Object Lock (COMPLIANCE retention).

``s3://bucket/prefix``; the endpoint comes from ``$SOP_AUDIT_STORE_ENDPOINT`` (else boto3's own settings,
``$AWS_ENDPOINT_URL``), credentials from boto3's usual chain. Every object is written with a COMPLIANCE-mode
retention of ``retention_days`` (policies/audit.yml). Ledger entries are written create-only
(``If-None-Match: *``); since a store may not enforce the condition atomically, a writer also checks that its
version is the key's first one, and readers of the ledger read the first version of each entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from runner.errors import ConfigError


class StoreUnavailable(Exception):
    """The store cannot be reached or refused a write (the caller spools and retries later)."""


@dataclass(frozen=True)
class StoreURL:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> StoreURL:
        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise ConfigError(f"audit store {url!r}: expected s3://bucket[/prefix]")
        bucket, _, prefix = url[5:].partition("/")
        return cls(bucket, prefix.strip("/"))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def _client(endpoint: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client(
        "s3",
        endpoint_url=endpoint or os.environ.get("SOP_AUDIT_STORE_ENDPOINT") or None,
        region_name=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        config=config,
    )


class WormStore:
    def __init__(self, url: str, *, retention_days: int = 2557, endpoint: str | None = None) -> None:
        self.url = StoreURL.parse(url)
        self.retention_days = retention_days
        self._s3 = _client(endpoint)

    def key(self, rel: str) -> str:
        return f"{self.url.prefix}/{rel}" if self.url.prefix else rel

    def _call(self, name: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._s3, name)(Bucket=self.url.bucket, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NotFound"}:
                return None
            if code in {"PreconditionFailed", "412"}:
                raise FileExistsError(kwargs.get("Key")) from None
            raise StoreUnavailable(f"{self.url}: {name} refused: {code or exc}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"{self.url}: unreachable ({type(exc).__name__})") from None

    def ensure_bucket(self) -> None:
        """Create the bucket with Object Lock enabled when missing (a real estate makes it beforehand)."""
        from botocore.exceptions import ClientError

        try:
            self._s3.head_bucket(Bucket=self.url.bucket)
        except ClientError:
            self._s3.create_bucket(Bucket=self.url.bucket, ObjectLockEnabledForBucket=True)

    def _retention(self) -> dict[str, Any]:
        until = datetime.now(UTC) + timedelta(days=self.retention_days)
        return {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}

    def put(self, rel: str, data: bytes, *, create_only: bool = False) -> str:
        """Write a locked object; returns its version id. ``create_only``: FileExistsError when it exists."""
        extra: dict[str, Any] = {"IfNoneMatch": "*"} if create_only else {}
        response = self._call("put_object", Key=self.key(rel), Body=data, **self._retention(), **extra)
        return str((response or {}).get("VersionId") or "")

    def versions(self, rel: str) -> list[str]:
        """Version ids of one key, oldest first."""
        response = self._call("list_object_versions", Prefix=self.key(rel)) or {}
        found = [v for v in response.get("Versions", []) if v.get("Key") == self.key(rel)]
        found.reverse()  # S3 lists a key's versions newest first
        return [str(v.get("VersionId")) for v in found]

    def get(self, rel: str, version: str | None = None) -> bytes | None:
        extra = {"VersionId": version} if version else {}
        response = self._call("get_object", Key=self.key(rel), **extra)
        return None if response is None else bytes(response["Body"].read())

    def first(self, rel: str) -> bytes | None:
        """The first version written (the create-only winner)."""
        versions = self.versions(rel)
        return self.get(rel, versions[0]) if versions else None

    def head(self, rel: str) -> dict[str, Any] | None:
        return self._call("head_object", Key=self.key(rel))

    def first_versions(self, rel_prefix: str) -> dict[str, str]:
        """Every key that has a version under a prefix (behind a delete marker or not) -> its first version."""
        base = self.key(rel_prefix)
        strip = len(self.url.prefix) + 1 if self.url.prefix else 0
        found: dict[str, str] = {}
        marker: dict[str, Any] = {}
        while True:
            response = self._call("list_object_versions", Prefix=base, **marker) or {}
            for version in response.get("Versions", []):  # newest first per key: the last one seen is the first
                found[str(version["Key"])[strip:]] = str(version["VersionId"])
            if not response.get("IsTruncated"):
                return dict(sorted(found.items()))
            marker = {"KeyMarker": response["NextKeyMarker"], "VersionIdMarker": response["NextVersionIdMarker"]}

    def keys_ever(self, rel_prefix: str) -> list[str]:
        """Every key that has a version under a prefix, hidden behind a delete marker or not, sorted."""
        return list(self.first_versions(rel_prefix))
