#!/bin/bash
# A quick job for `run --job tests/fresh-machine/guest/network-probe.sh`: does the fresh VM have DHCP, DNS, apt
# and pip (PyPI through the inherited CA and pip configuration)? A few minutes under TCG.
set -euo pipefail
say() { echo "FRESHVM| $*"; }
say "probe: address $(ip -4 -o addr show scope global | awk '{print $4}' | head -n 1)"
say "probe: route $(ip route show default)"
say "probe: resolv.conf $(grep nameserver /etc/resolv.conf)"
say "probe: deb.debian.org is $(getent hosts deb.debian.org | awk '{print $1}' | head -n 1)"
start=$SECONDS
apt-get update -q
say "probe: apt-get update ok ($((SECONDS - start))s)"
start=$SECONDS
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-pip > /dev/null
say "probe: apt-get install python3-pip ok ($((SECONDS - start))s)"
start=$SECONDS
python3 -m pip download --no-deps --dest /tmp/wheels six
say "probe: pip download ok ($((SECONDS - start))s): $(ls /tmp/wheels)"
say "probe: all ok"
