"""The lab's Debian 12 image: built with debootstrap, imported into podman, cached by recipe hash."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
from pathlib import Path

from runner import execute
from runner.errors import LabError
from runner.lab import podman
from runner.paths import cache_dir

log = logging.getLogger(__name__)

RECIPE = Path(__file__).with_name("assets") / "build-image.sh"
REPOSITORY = "localhost/sop-lab-debian12"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# debootstrap takes ~90 s on the project's machines, but 15-25 min in an emulated (TCG) VM on a busy host.
BUILD_TIMEOUT_S = 3600


def recipe_hash() -> str:
    return hashlib.sha256(RECIPE.read_bytes()).hexdigest()[:12]


def image_ref() -> str:
    return f"{REPOSITORY}:{recipe_hash()}"


def debian_mirror(sources: tuple[Path, ...] = (Path("/etc/apt/sources.list"),
                                                *sorted(Path("/etc/apt/sources.list.d").glob("*")))) -> str:
    """The machine's own Debian mirror (one-line or deb822 sources), else deb.debian.org."""
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"(?m)^(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+/debian)/?\s", text + "\n"):
            return match.group(1)
    return DEFAULT_MIRROR


def build_timeout() -> float:
    """The image build's limit in seconds: $SOP_LAB_IMAGE_TIMEOUT, else BUILD_TIMEOUT_S."""
    value = os.environ.get("SOP_LAB_IMAGE_TIMEOUT")
    if not value:
        return BUILD_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        raise LabError(f"SOP_LAB_IMAGE_TIMEOUT={value!r}: not a number of seconds") from None
    if seconds <= 0:
        raise LabError(f"SOP_LAB_IMAGE_TIMEOUT={value!r}: must be more than 0 seconds")
    return seconds


def ensure_image(progress: callable = print) -> str:  # type: ignore[valid-type]
    """Return the image reference, building and importing it only if its recipe changed."""
    ref = image_ref()
    if podman.exists("image", ref):
        return ref
    tarball = cache_dir() / f"sop-lab-debian12-{recipe_hash()}.tar"
    if not tarball.exists():
        mirror = debian_mirror()
        progress(f"building the Debian 12 lab image with debootstrap from {mirror} (~90 s, cached afterwards)")
        partial = tarball.with_suffix(".partial")
        limit = build_timeout()
        try:
            execute.run(["bash", str(RECIPE), str(partial), mirror], timeout=limit)
        except subprocess.TimeoutExpired:
            raise LabError(f"building the lab image did not finish in {limit:.0f} s",
                           hint="a slow machine or mirror: raise SOP_LAB_IMAGE_TIMEOUT (seconds) and retry") from None
        except subprocess.CalledProcessError as exc:
            tail = (exc.stderr or "").strip().splitlines()[-3:]
            raise LabError("building the lab image failed: " + " | ".join(tail),
                           hint="check that debootstrap is installed and the Debian mirror is reachable") from None
        partial.rename(tarball)
    progress(f"importing {tarball.name} as {ref}")
    podman.podman("import", "--change", 'CMD ["/sbin/init"]', "--change", "STOPSIGNAL=SIGRTMIN+3",
                  str(tarball), ref, timeout=600)
    return ref
