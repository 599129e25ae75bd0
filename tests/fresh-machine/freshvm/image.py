"""The base image recipe: a bare Debian 12 server (debootstrap's standard variant + a kernel), cached by recipe hash.

The guest inherits only the host's local CA certificates and its pip/apt client configuration; everything else
(python3-venv, podman, git, ...) is for the project's bootstrap to install. The cache key hashes this file, the
guest files baked into the image and the inherited host files, so a change to any of them builds a new image.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .host import FreshVmError, Log, remove_tree, run

SUITE = "bookworm"
PACKAGES = ("linux-image-amd64", "systemd-sysv", "ca-certificates")
IMAGE_SIZE = "20G"
HOSTNAME = "fresh-vm"
GUEST_DNS = "169.254.77.3"  # QEMU user networking's DNS (see vm.NETWORK)
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"
HOST_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
GUEST_DIR = Path(__file__).resolve().parent.parent / "guest"
BAKED_IN = ("fresh-job.service", "fresh-job")  # guest files that go into the image (job.sh goes on the job disk)
KEEP_IMAGES = 2  # older cached images than the newest ones are removed

# The VM's own NIC only (ens2): a broader match (Type=ether) also takes podman's veth ports and, KeepMaster= being
# off, detaches them from the lab's bridge, which cuts the lab containers off.
NETWORK_UNIT = """[Match]
Name=en*

[Network]
DHCP=yes
"""


@dataclass(frozen=True)
class BaseImage:
    directory: Path

    @property
    def disk(self) -> Path:
        return self.directory / "base.img"

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"

    @property
    def meta(self) -> dict:
        return json.loads((self.directory / "meta.json").read_text(encoding="utf-8"))

    def complete(self) -> bool:
        return all(p.is_file() for p in (self.disk, self.kernel, self.initrd, self.directory / "meta.json"))


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sop-as-code" / "fresh-vm"


def mirrors(sources: Path = HOST_SOURCES) -> tuple[str, str]:
    """The host's Debian mirror and security mirror (deb822 sources), else deb.debian.org."""
    main, security = DEFAULT_MIRROR, DEFAULT_SECURITY
    if not sources.is_file():
        return main, security
    for block in re.split(r"\n\s*\n", sources.read_text(encoding="utf-8")):
        fields = dict(re.findall(r"^(URIs|Suites):\s*(.+)$", block, flags=re.MULTILINE))
        if "URIs" not in fields or "Suites" not in fields:
            continue
        uri, suites = fields["URIs"].split()[0], fields["Suites"].split()
        if f"{SUITE}-security" in suites:
            security = uri
        elif SUITE in suites:
            main = uri
    return main, security


def inherited_files() -> list[tuple[Path, Path]]:
    """(host path, path in the image) of everything the guest inherits from the host."""
    pairs: list[tuple[Path, Path]] = []
    cas = Path("/usr/local/share/ca-certificates")
    pip_dir = Path("/etc/xdg/pip")
    single = [Path("/etc/pip.conf"), Path("/root/.config/pip/pip.conf"), Path("/etc/apt/sources.list"),
              *sorted(Path("/etc/apt/apt.conf.d").glob("99*")),
              *sorted(Path("/etc/apt/sources.list.d").glob("*.sources")),
              *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]
    for folder in (cas, pip_dir):
        if folder.is_dir():
            single.extend(sorted(p for p in folder.rglob("*") if p.is_file()))
    for path in single:
        if path.is_file():
            pairs.append((path, path))
    return pairs


def cache_key() -> str:
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    for name in BAKED_IN:
        digest.update(name.encode() + (GUEST_DIR / name).read_bytes())
    for host_path, guest_path in inherited_files():
        digest.update(str(guest_path).encode() + host_path.read_bytes())
    digest.update(" ".join(mirrors()).encode())
    return digest.hexdigest()[:16]


def write(root: Path, path: str, text: str, mode: int = 0o644) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    target.write_text(text, encoding="utf-8")
    target.chmod(mode)


def install_inherited(root: Path) -> None:
    """Copy the host's local CAs and pip/apt client configuration in; apt sources replace debootstrap's."""
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    for host_path, guest_path in inherited_files():
        target = root / str(guest_path).lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(host_path, target)
    copy_keyrings(root)
    ensure_suites(root)
    run(["chroot", str(root), "update-ca-certificates"], timeout=120)


def guest_sources(root: Path) -> str:
    files = [root / "etc/apt/sources.list", *sorted((root / "etc/apt/sources.list.d").glob("*"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in files if p.is_file())


def copy_keyrings(root: Path) -> None:
    """Keyrings the inherited apt sources name (Signed-By) and the image lacks come from the host."""
    for keyring in set(re.findall(r"(?:Signed-By:\s*|signed-by=)(/[^\s\]]+)", guest_sources(root))):
        target = root / keyring.lstrip("/")
        if not target.exists() and Path(keyring).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(keyring, target)


def ensure_suites(root: Path) -> None:
    """The guest's sources have bookworm, bookworm-updates and bookworm-security (added if the host's lack them)."""
    text = guest_sources(root)
    main, security = mirrors()
    wanted = {SUITE: main, f"{SUITE}-updates": main, f"{SUITE}-security": security}
    missing = {suite: uri for suite, uri in wanted.items() if not re.search(rf"(?<![\w-]){suite}(?![\w-])", text)}
    blocks = [f"Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: main\n"
              f"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n" for suite, uri in missing.items()]
    if blocks:
        write(root, "/etc/apt/sources.list.d/fresh-vm.sources", "\n".join(blocks))


def configure(root: Path) -> None:
    """Hostname, root file system, DHCP with systemd-networkd, the resolver, and the job unit."""
    write(root, "/etc/hostname", f"{HOSTNAME}\n")
    write(root, "/etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n::1\tlocalhost ip6-localhost\n")
    write(root, "/etc/fstab", "/dev/vda\t/\text4\tdefaults,errors=remount-ro\t0\t0\n")
    write(root, "/etc/resolv.conf", f"nameserver {GUEST_DNS}\n")
    write(root, "/etc/systemd/network/20-dhcp.network", NETWORK_UNIT)
    machine_id = root / "etc/machine-id"
    if not machine_id.is_file() or not machine_id.read_text(encoding="utf-8").strip():
        write(root, "/etc/machine-id", hashlib.sha256(os.urandom(32)).hexdigest()[:32] + "\n", 0o444)
    write(root, "/etc/systemd/system/fresh-job.service", (GUEST_DIR / "fresh-job.service").read_text("utf-8"))
    write(root, "/usr/local/sbin/fresh-job", (GUEST_DIR / "fresh-job").read_text("utf-8"), 0o755)
    systemctl = ["systemctl", f"--root={root}"]
    run([*systemctl, "enable", "systemd-networkd.service", "fresh-job.service"], timeout=60)
    # the serial console carries the job's output; no login prompt or first-boot questions on it
    run([*systemctl, "mask", "serial-getty@ttyS0.service", "systemd-firstboot.service"], timeout=60)
    run(["chroot", str(root), "apt-get", "clean"], timeout=120)


def extract_boot_files(root: Path, image: Path) -> None:
    for pattern, name in (("vmlinuz-*", "vmlinuz"), ("initrd.img-*", "initrd.img")):
        found = sorted((root / "boot").glob(pattern))
        if len(found) != 1:
            raise FreshVmError(f"expected one {pattern} in the image's /boot, found {[p.name for p in found]}")
        shutil.copy2(found[0], image / name)


def build(image: BaseImage, log: Log, timeout: float) -> float:
    """debootstrap, configure, mkfs.ext4 -d; returns the seconds it took. Builds next to the cache entry and
    renames it into place at the end, so an interrupted build never looks cached."""
    started = time.monotonic()
    work = image.directory.with_name(image.directory.name + ".build")
    remove_tree(work)
    root = work / "root"
    root.mkdir(parents=True)
    build_log = work / "build.log"
    main, _ = mirrors()
    log.say(f"image: debootstrap {SUITE} from {main} (+ {', '.join(PACKAGES)}), log {build_log}")
    try:
        run(["debootstrap", f"--include={','.join(PACKAGES)}", SUITE, str(root), main],
            log_file=build_log, timeout=timeout)
        log.say("image: configuring (network, resolver, CAs, pip/apt config, job unit)")
        install_inherited(root)
        configure(root)
        extract_boot_files(root, work)
        log.say(f"image: mkfs.ext4 -d root base.img {IMAGE_SIZE}")
        run(["mkfs.ext4", "-q", "-F", "-L", "fresh-root", "-d", str(root), str(work / "base.img"), IMAGE_SIZE],
            log_file=build_log, timeout=1200)
        seconds = time.monotonic() - started
        meta = {"key": image.directory.name, "built": time.strftime("%Y-%m-%d %H:%M:%S"),
                "build_seconds": round(seconds), "mirror": main, "packages": list(PACKAGES)}
        (work / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    finally:
        remove_tree(root)
    remove_tree(image.directory)
    work.rename(image.directory)
    prune(image.directory.parent, keep=image.directory)
    return seconds


def prune(cache: Path, keep: Path) -> None:
    """Keep the newest KEEP_IMAGES cached images (a 20G sparse image each)."""
    entries = sorted((p for p in cache.iterdir() if p.is_dir() and not p.name.endswith(".build") and p != keep),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_IMAGES - 1:]:
        remove_tree(old)


def ensure(log: Log, timeout: float, rebuild: bool = False) -> tuple[BaseImage, float | None]:
    """The cached base image for the current recipe, built if missing; (image, build seconds or None if cached)."""
    image = BaseImage(cache_root() / cache_key())
    if image.complete() and not rebuild:
        log.say(f"image: cached {image.directory} (built {image.meta['built']} in {image.meta['build_seconds']}s)")
        return image, None
    image.directory.parent.mkdir(parents=True, exist_ok=True)
    seconds = build(image, log, timeout)
    log.say(f"image: built in {seconds:.0f}s: {image.directory}")
    return image, seconds
