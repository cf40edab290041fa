#!/usr/bin/env bash
# Runs the conformance suite against each Node peer under interop/peers (a
# receiver on a provider's official library), holding it to its
# expectation file: a case failing outside the file, or one in the file
# not failing as listed, fails this script. Run by .ci/run after
# `npm ci --prefix interop`; prints passed/failed/skipped per peer.
#
#	interop/peers/run.sh [PEER...]     # default: every peer below
set -euo pipefail
cd "$(dirname "$0")/../.."

# name  port (the manifest's url; the sink is port+1)  secret variable.
# The ports are below Linux's ephemeral range (32768-60999), where the
# suite's own connections could hold them.
peers=(
  "stripe 29101 STRIPE_WEBHOOK_SECRET"
  "standardwebhooks 29111 STANDARD_WEBHOOKS_SECRET"
  "svix 29121 SVIX_WEBHOOK_SECRET"
  "github 29131 GITHUB_WEBHOOK_SECRET"
)
# Test secrets, as the providers show them (not real ones).
export STRIPE_WEBHOOK_SECRET=whsec_hooklab_peer_stripe_0123456789
export STANDARD_WEBHOOKS_SECRET=whsec_aG9va2xhYi1wZWVyLXN0YW5kYXJkLXdlYmhvb2tz
export SVIX_WEBHOOK_SECRET=whsec_aG9va2xhYi1wZWVyLXN2aXgtc2VjcmV0LTAxMjM0NQ==
export GITHUB_WEBHOOK_SECRET=hooklab-peer-github-0123456789

# pid is the running peer, cpid the running suite: both are stopped on
# exit. They run in the background, waited for with wait, so that a
# signal is handled at once, not when the foreground command ends.
work=$(mktemp -d)
pid= cpid=
stop() { # PID...
  local p
  for p in "$@"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
}
cleanup() {
  stop "$cpid" "$pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/hooklab" ./cmd/hooklab

# up: wait up to 30 s for the peer ($pid) to say it listens (not only for
# the port to answer: a stale process could hold it).
up() {
  local i
  for i in $(seq 300); do
    grep -q '^listening on ' "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

want=("$@")
failures=0
for p in "${peers[@]}"; do
  read -r name port _ <<<"$p"
  if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  log="$work/$name.log" out="$work/$name.out"
  HOOKLAB_SINK="127.0.0.1:$((port + 1))" timeout 900 node "interop/peers/$name.mjs" "$port" >"$log" 2>&1 &
  pid=$!
  if ! up; then
    echo "$name: the peer did not come up on 127.0.0.1:$port"; cat "$log"
    failures=$((failures + 1)); stop "$pid"; pid=
    continue
  fi
  timeout 600 "$work/hooklab" conformance --declared "interop/peers/$name.yaml" \
    --expect "interop/peers/$name.expect.yaml" >"$out" 2>&1 &
  cpid=$!
  rc=0
  wait "$cpid" || rc=$?
  cpid=
  stop "$pid"; pid=
  # The report's counts line, then the expected failures seen, each
  # with its cause.
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$out" || echo "no report")
  if [ "$rc" = 0 ]; then
    echo "$name: $counts; $(tail -1 "$out")"
    sed -n '/^expected failures (/,$p' "$out" | sed '$d'
  else
    echo "$name: $counts; exit $rc: not as interop/peers/$name.expect.yaml expects"
    cat "$out"
    echo "-- the peer's log:"; cat "$log"
    failures=$((failures + 1))
  fi
done
if [ "$failures" -gt 0 ]; then
  echo "interop/peers: $failures peer(s) not as expected"
  exit 1
fi
echo "interop/peers: every peer as expected"
