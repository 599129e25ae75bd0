#!/bin/bash
# Runs inside the fresh VM as root (started by fresh-job.service from the job disk): README's commands on a clean
# copy of the repository, each timed, with its log in /job/out/<step>.log and its outcome in /job/out/summary.env.
# Lines starting with "FRESHVM| " are the progress the host shows live.
set -uo pipefail

OUT=/job/out
REPO=/root/sop-as-code
# shellcheck source=/dev/null
. /job/job.env   # MODE (smoke|full), SMOKE_TESTS, BUDGET_SECONDS, COMMIT (written by the host)
: > "$OUT/summary.env"

say() { echo "FRESHVM| $*"; }
result() {  # result KEY VALUE: one machine-readable line, on the job disk and on the console
  printf '%s=%s\n' "$1" "$2" >> "$OUT/summary.env"
  say "result $1=$2"
}
strip() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\r//g'; }

step() {  # step NAME CMD...: run CMD in $REPO within what is left of the budget; log, exit code and seconds
  local name=$1 left rc start
  shift
  left=$((BUDGET_SECONDS - SECONDS))
  if [ "$left" -le 60 ]; then
    say "step $name: skipped, time budget used up"
    result "${name}_rc" skipped
    return 1
  fi
  say "step $name: start: $* (limit ${left}s)"
  start=$SECONDS
  (cd "$REPO" && timeout --kill-after=30 "$left" "$@") 2>&1 | tee "$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  result "${name}_rc" "$rc"
  result "${name}_seconds" "$((SECONDS - start))"
  say "step $name: exit $rc after $((SECONDS - start))s"
  return "$rc"
}

pytest_line() {  # pytest's final summary line ("== 5 passed in 12.3s ==") of a log
  strip < "$1" | grep -E '^=* *(no tests ran|[0-9]+ (passed|failed|error|errors|skipped|deselected)\b).* in [0-9.]+s' | tail -n 1 \
    | sed -e 's/^=* *//' -e 's/ *=*$//'
}

bare_machine_facts() {
  local tool
  result guest_debian "$(cat /etc/debian_version)"
  result guest_kernel "$(uname -r)"
  result guest_cpus "$(nproc)"
  result guest_mem_mb "$(( $(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024 ))"
  for tool in git python3 podman pip3 gcc; do
    if command -v "$tool" > /dev/null; then result "pre_$tool" present; else result "pre_$tool" absent; fi
  done
}

demo() {
  step demo ./bootstrap demo
  local rc=$?
  strip < "$OUT/demo.log" | sed -n '/^Demo finished in/,$p' > "$OUT/demo-table.txt"
  while IFS= read -r line; do say "demo-table $line"; done < "$OUT/demo-table.txt"
  if [ "$rc" -ne 0 ]; then  # the line that says why (bootstrap's and sop's errors start with their name;
    # an uncaught Python exception ends with "SomeError: ..."), else the log's last line
    why=$(strip < "$OUT/demo.log" | grep -E '^(bootstrap|sop|E|error|ERROR):|^[A-Za-z_.]*(Error|Exception): ' | tail -n 1)
    result demo_error "${why:-$(strip < "$OUT/demo.log" | grep -v '^[[:space:]]*$' | tail -n 1)}"
  fi
  return "$rc"
}

network_backend() {
  local backend
  backend=$(podman info --format '{{.Host.NetworkBackend}}' 2> "$OUT/podman-info.err") || backend="error"
  result podman_network_backend "${backend:-none}"
  backend=$(CONTAINERS_CONF="$REPO/runner/lab/assets/containers.conf" podman info \
              --format '{{.Host.NetworkBackend}}' 2>> "$OUT/podman-info.err") || backend="error"
  result podman_network_backend_lab "${backend:-none}"
}

tests() {
  if [ "$MODE" = full ]; then
    step full ./bootstrap test
    result full_line "$(pytest_line "$OUT/full.log")"
  else
    # the demo's lab is not needed by the tests (they start a lab of their own): free its resources first
    step labdown .venv/bin/sop lab down
    # shellcheck disable=SC2086  # SMOKE_TESTS is a list of test ids
    step smoke .venv/bin/pytest -q $SMOKE_TESTS
    result smoke_line "$(pytest_line "$OUT/smoke.log")"
  fi
}

say "job: mode $MODE, commit $COMMIT, budget ${BUDGET_SECONDS}s"
result commit "$COMMIT"
bare_machine_facts
# A clean clone: the host cloned the committed HEAD onto the job disk; git itself is not on a bare machine
# (bootstrap installs it), so the clone is copied, .git included.
cp -a /job/repo "$REPO" || { say "error: cannot copy the clone"; exit 1; }
if getent hosts deb.debian.org > /dev/null; then result guest_dns ok; else result guest_dns failed; fi
demo
network_backend
tests
result finished yes
say "job: done"
