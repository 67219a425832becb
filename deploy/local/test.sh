#!/usr/bin/env bash
# Runs the whole test suite against a local PostgreSQL and Redis on loopback.
#
#   ./deploy/local/test.sh                                   # everything
#   ./deploy/local/test.sh --filter "FullyQualifiedName~Replay"  # extra args go to `dotnet test`
#
# First the JavaScript client's unit tests (clients/js: `npm test`, node's test runner; `npm ci` first when its
# node_modules is missing or older than package-lock.json; RECORDER_SKIP_JS_TESTS=1 skips them, e.g. with a filter).
# Starts (or reuses) PostgreSQL on 127.0.0.1:${RECORDER_PG_PORT:-25432} and Redis on
# 127.0.0.1:${RECORDER_REDIS_PORT:-26379}, exports ConnectionStrings__Recorder/Redis and
# RECORDER_TEST_PG/RECORDER_TEST_REDIS, runs `dotnet test Recorder.sln -c Release "$@"` and exits
# with its code. The services are left running (./deploy/local/stop.sh stops them).
#
# A test that runs longer than RECORDER_TEST_HANG_TIMEOUT (10m; 0 = off) is treated as hung: the
# test host is killed and the run fails, instead of eating the CI time budget.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=services.sh
source "$HERE/services.sh"
ROOT="$RECORDER_ROOT"
cd "$ROOT"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null 2>&1 || { echo "[recorder] ERROR: dotnet (SDK 10) is not on PATH" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "[recorder] ERROR: npm (Node.js 20 or later) is not on PATH: the build bundles clients/js with it" >&2; exit 1; }

recorder_pg_start || { echo "[recorder] ERROR: PostgreSQL did not start (see above)" >&2; exit 1; }
recorder_redis_start || { echo "[recorder] ERROR: Redis did not start (see above)" >&2; exit 1; }
export RECORDER_TEST_PG="$ConnectionStrings__Recorder"
export RECORDER_TEST_REDIS="$ConnectionStrings__Redis"

args=("$@")
hang="${RECORDER_TEST_HANG_TIMEOUT:-10m}"
if [ "$hang" != 0 ] && [[ " $* " != *" --blame"* ]]; then
    args+=(--blame-hang-timeout "$hang" --blame-hang-dump-type none)
fi

mkdir -p "$RECORDER_DATA_DIR"
out="$RECORDER_DATA_DIR/test-output.log"
js_out="$RECORDER_DATA_DIR/js-test-output.log"
: >"$js_out"

js_rc=0
if [ "${RECORDER_SKIP_JS_TESTS:-0}" != 1 ]; then
    echo "[recorder] clients/js: npm test" >&2
    set +e
    (
        cd "$ROOT/clients/js" || exit 1
        if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
            npm ci --ignore-scripts --no-audit --no-fund || exit 1
        fi
        npm test
    ) 2>&1 | tee "$js_out"
    js_rc=${PIPESTATUS[0]}
    set -e
fi
echo "[recorder] dotnet test Recorder.sln -c Release ${args[*]}" >&2

set +e
dotnet test Recorder.sln -c Release "${args[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e

# One summary line over all test assemblies and the JavaScript tests, e.g. "Tests: 120 passed, 0 failed, 3 skipped".
awk '
    # node --test: "# pass 16", "# fail 0", "# skipped 0" (TAP, when piped) or "ℹ pass 16" (spec, on a terminal)
    /^(#|ℹ) pass [0-9]+$/    { p += $3; found = 1 }
    /^(#|ℹ) fail [0-9]+$/    { f += $3; found = 1 }
    /^(#|ℹ) skipped [0-9]+$/ { k += $3 }
    /(Passed|Failed)! +- +Failed: / {
        line = $0; found = 1
        if (match(line, /Failed: *[0-9]+/))  { s = substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", s); f += s }
        if (match(line, /Passed: *[0-9]+/))  { s = substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", s); p += s }
        if (match(line, /Skipped: *[0-9]+/)) { s = substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", s); k += s }
    }
    /Test Run Aborted/ { aborted++ }
    END {
        if (found || aborted) {
            if (aborted) print "[recorder] a test run was aborted (a crash or a hung test); counted as a failure"
            printf "Tests: %d passed, %d failed, %d skipped\n", p, f + aborted, k
        } else {
            print "[recorder] no test summary found in the output (build failure, or no tests)"
        }
    }' "$js_out" "$out"

if [ "$js_rc" != 0 ]; then
    echo "[recorder] the JavaScript client tests failed (exit $js_rc; see $js_out)" >&2
    [ "$rc" != 0 ] || rc=$js_rc
fi
exit "$rc"
