#!/usr/bin/env bash
# Runs every test of the repository against real services, on a fresh machine:
#   installs what the tests need (Debian packages, npm packages), starts a Kafka broker and an S3 server
#   as local processes on loopback, runs `dotnet test` on the solution, stops the services, and ends with
#   the line "N passed, N failed, N skipped".
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Storage").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.test-services"
results="$root/TestResults"

log() { printf '[test.sh] %s\n' "$*" >&2; }

# 1. What the tests need beyond the .NET SDK, Node and Java.
need_apt=()
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import avro' 2>/dev/null || need_apt+=(python3-avro)
[ -x /usr/bin/avrocat ] || need_apt+=(avro-bin)
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v node >/dev/null || need_apt+=(nodejs npm)
# The console's browser test drives Debian's Chromium (playwright-core cannot download a browser here).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing ${need_apt[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    log "missing ${need_apt[*]}: install them (apt-get install ${need_apt[*]}) and run again"; exit 1
  fi
fi

# 2. Services: started once here and shared by every test project through environment variables
#    (each fixture starts its own when these are absent, so `dotnet test` alone works too).
rm -rf "$state" "$results"; mkdir -p "$state"
cleanup() {
  bash scripts/test-services/kafka.sh stop "$state/kafka" || true
  [ -f scripts/test-services/s3rver.sh ] && bash scripts/test-services/s3rver.sh stop "$state/s3" || true
}
trap cleanup EXIT

log "starting Kafka"
kafka_out=$(bash scripts/test-services/kafka.sh start "$state/kafka")
export DATAPLANE_TEST_KAFKA_BOOTSTRAP=$(sed -n 's/^KAFKA_BOOTSTRAP=//p' <<<"$kafka_out")
export DATAPLANE_TEST_KAFKA_LEGACY=1
log "Kafka at $DATAPLANE_TEST_KAFKA_BOOTSTRAP"
if [ -f scripts/test-services/s3rver.sh ]; then
  log "starting the S3 server"
  s3_out=$(bash scripts/test-services/s3rver.sh start "$state/s3")
  export DATAPLANE_TEST_S3_ENDPOINT=$(sed -n 's/^S3_ENDPOINT=//p' <<<"$s3_out")
  export DATAPLANE_TEST_S3_ACCESS_KEY=$(sed -n 's/^S3_ACCESS_KEY=//p' <<<"$s3_out")
  export DATAPLANE_TEST_S3_SECRET_KEY=$(sed -n 's/^S3_SECRET_KEY=//p' <<<"$s3_out")
  export DATAPLANE_TEST_S3_KIND=s3rver
  log "S3 server at $DATAPLANE_TEST_S3_ENDPOINT"
fi

# 3. The tests. Test projects run one after another: the machine has 2 cores and the integration
#    tests are heavier than the build.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build DataPlane.sln -nologo -v q -clp:ErrorsOnly
status=0
dotnet test DataPlane.sln --no-build -nologo -m:1 --logger "trx" --results-directory "$results" "$@" || status=$?

# 4. One closing line for people and CI, summed over every project's TRX file.
if compgen -G "$results/*.trx" >/dev/null; then
  python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns).attrib
    passed += int(c["passed"]); failed += int(c["failed"]) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    # xunit's skipped tests are counted in total but not in executed (notExecuted stays 0).
    skipped += int(c["total"]) - int(c["executed"])
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
else
  echo "0 passed, 1 failed"
  status=1
fi

# 5. The code style of .editorconfig, checked without changing anything (a filtered run skips it).
if [ $# -eq 0 ]; then
  log "checking the code style (dotnet format --verify-no-changes)"
  if ! dotnet format DataPlane.sln --verify-no-changes --no-restore -v q; then
    echo "code style: the files above differ from .editorconfig's style; run 'dotnet format DataPlane.sln' and commit the result"
    status=1
  fi
fi
exit $status
