#!/usr/bin/env bash
# A local S3 server for tests: npm s3rver 3.7.1 with the fixes it needs to behave like S3 for the SDKs.
#
#   scripts/test-services/s3rver.sh start <state-dir> [owner-pid]   (or DATAPLANE_TEST_OWNER_PID=<pid>)
#       Installs s3rver into <repo>/.tools/s3rver when absent, starts it on 127.0.0.1 and a free port with its
#       data in <state-dir>/data, waits until it answers, prints S3_ENDPOINT=http://127.0.0.1:PORT (plus
#       S3_ACCESS_KEY / S3_SECRET_KEY) and writes pid and endpoint into <state-dir>. Each state dir is its own
#       server, so several can run at once. With owner-pid, the server stops when that process exits
#       (a test host that crashes does not leave servers behind).
#   scripts/test-services/s3rver.sh stop <state-dir>
#       Stops the server started with that state dir (by its PID).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

S3RVER_VERSION=3.7.1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(repo_root)
tools="$repo/.tools/s3rver"
package="$tools/node_modules/s3rver"

usage() { echo "usage: $0 start <state-dir> [owner-pid] | stop <state-dir>" >&2; exit 2; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

install_s3rver() {
  command -v node >/dev/null || { echo "s3rver.sh: node is not installed (Node 18+ is needed)" >&2; exit 1; }
  command -v npm >/dev/null || { echo "s3rver.sh: npm is not installed" >&2; exit 1; }
  mkdir -p "$tools"
  # Several test hosts may start servers at once on a fresh machine: one installs, the others wait.
  exec 8>"$tools/.install.lock"
  flock 8
  if [ "$(node -p "try { require('$package/package.json').version } catch { '' }")" != "$S3RVER_VERSION" ]; then
    echo "s3rver.sh: installing s3rver@$S3RVER_VERSION into $tools" >&2
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "s3rver@$S3RVER_VERSION" >&2
  fi
  node "$here/s3rver/patch.js" "$package"
  flock -u 8
  exec 8>&-
}

start() {
  local state=$1 owner=${2:-${DATAPLANE_TEST_OWNER_PID:-}}
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  if [ -f "$state/pid" ] && alive "$(cat "$state/pid")" && [ -f "$state/endpoint" ]; then
    echo "S3_ENDPOINT=$(cat "$state/endpoint")"
    echo "S3_ACCESS_KEY=S3RVER"
    echo "S3_SECRET_KEY=S3RVER"
    return
  fi
  install_s3rver
  rm -f "$state/pid" "$state/endpoint"
  mkdir -p "$state/data"
  : >"$state/s3rver.log"
  # Port 0: the kernel picks a free port and s3rver prints it, so two servers never race for one.
  # --openssl-legacy-provider: s3rver encrypts listing continuation tokens with DES, which Node 17+ refuses.
  # --service-endpoint localhost: virtual-hosted requests name the bucket as <bucket>.s3.localhost (see S3Server.cs).
  setsid node --openssl-legacy-provider "$here/s3rver/run.js" "$package" \
    -d "$state/data" -a 127.0.0.1 -p 0 --service-endpoint localhost --silent >>"$state/s3rver.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$state/pid"

  local port="" i
  for i in $(seq 1 300); do
    port=$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$state/s3rver.log" | head -n1)
    [ -n "$port" ] && break
    if ! alive "$pid"; then
      echo "s3rver.sh: s3rver exited during start; its log ($state/s3rver.log):" >&2
      cat "$state/s3rver.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "s3rver.sh: s3rver did not report a port within 30 s; its log ($state/s3rver.log):" >&2
    cat "$state/s3rver.log" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
  fi
  # It prints after listening; still, do not hand out an endpoint that does not answer.
  wait_port "$port" 10 "$pid" || { echo "s3rver.sh: port $port does not answer; log in $state/s3rver.log" >&2; exit 1; }

  local endpoint="http://127.0.0.1:$port"
  echo "$endpoint" >"$state/endpoint"
  if [ -n "$owner" ]; then
    # A watcher, detached like the server, that stops it when the owner goes away.
    setsid bash -c "while kill -0 $owner 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; kill $pid 2>/dev/null" \
      >/dev/null 2>&1 </dev/null &
  fi
  echo "S3_ENDPOINT=$endpoint"
  echo "S3_ACCESS_KEY=S3RVER"
  echo "S3_SECRET_KEY=S3RVER"
}

stop() {
  local state=$1
  stop_pid "$state/pid" 5
  rm -f "$state/endpoint"
}

[ $# -ge 2 ] || usage
case "$1" in
  start) start "$2" "${3:-}" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
