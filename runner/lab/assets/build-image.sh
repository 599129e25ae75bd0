#!/usr/bin/env bash
# Build the lab's Debian 12 target image as a rootfs tarball.
# Usage: build-image.sh OUTPUT_TARBALL [MIRROR]
# The recipe hash (this file's sha256) names the cached image: edit this file and the lab rebuilds it.
set -euo pipefail
out=$1
mirror=${2:-http://deb.debian.org/debian}
packages=python3,python3-apt,openssh-server,sudo,systemd,systemd-sysv,dbus,iproute2,procps,ca-certificates,cron,iputils-ping,netcat-openbsd,dnsutils,curl,gnupg,less,slapd,ldap-utils
root=$(mktemp -d /var/tmp/sop-lab-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >&2

cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SRC

# Every container must get its own identity: machine-id and SSH host keys are made at first boot.
: > "$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
cat > "$root/etc/systemd/system/sop-lab-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys for this lab host
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/sop-lab-hostkeys.service "$root/etc/systemd/system/multi-user.target.wants/sop-lab-hostkeys.service"

# The automation account the lab inventory logs in as (key installed when a host starts).
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo sop
echo 'sop ALL=(ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/sop-automation"
chmod 0440 "$root/etc/sudoers.d/sop-automation"

# Units that make no sense in a container. slapd is in the image for the lab's directory service only (its
# container runs slapd with a config of its own, runner/lab/directory.py); the hosts don't run it.
for unit in systemd-resolved.service getty@tty1.service console-getty.service slapd.service; do
  chroot "$root" systemctl mask "$unit" >/dev/null 2>&1 || true
done

# Empty apt lists with an old mtime, so `apt: update_cache: true, cache_valid_time:` really updates.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*
touch -d '2000-01-01' "$root/var/lib/apt/lists"
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/cache/apt/*.bin

tar --numeric-owner -C "$root" -cf "$out" .
