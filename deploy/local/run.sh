#!/usr/bin/env bash
# Runs the Recorder hub locally on http://127.0.0.1:5080 with the demo user and demo recording.
#
#   ./deploy/local/run.sh                      # PostgreSQL only (no Redis backplane)
#   RECORDER_WITH_REDIS=1 ./deploy/local/run.sh  # also start Redis and use it as the backplane
#
# Starts (or reuses) the local PostgreSQL cluster, builds, migrates, seeds user `demo` (token
# `recorder-demo-token`), imports deploy/demo/recordings/demo, then runs the hub in the foreground.
# Ctrl-C stops the hub; PostgreSQL (and Redis) keep running: ./deploy/local/stop.sh stops them.
#
# Settings: RECORDER_HTTP_PORT (5080), RECORDER_PG_PORT (25432), RECORDER_REDIS_PORT (26379),
# RECORDER_WITH_REDIS (0). Any Recorder__* / ConnectionStrings__* variable you export is passed on
# (ConnectionStrings__Recorder, and ConnectionStrings__Redis, are set by this script).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=services.sh
source "$HERE/services.sh"
ROOT="$RECORDER_ROOT"
cd "$ROOT"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

HTTP_PORT="${RECORDER_HTTP_PORT:-5080}"
HUB_BASE="http://127.0.0.1:$HTTP_PORT"
DEMO_ROOT="$ROOT/deploy/demo/recordings"
DEMO_DIR="$DEMO_ROOT/demo"

die() { printf '[recorder] ERROR: %s\n' "$*" >&2; exit 1; }
log() { printf '[recorder] %s\n' "$*" >&2; }

command -v dotnet >/dev/null 2>&1 || die "dotnet (SDK 10) is not on PATH; see README.md, Prerequisites"

# Fail early when the HTTP port is taken (the build takes a while).
if { exec {probe}<>"/dev/tcp/127.0.0.1/$HTTP_PORT"; } 2>/dev/null; then
    exec {probe}>&-
    die "something already listens on 127.0.0.1:$HTTP_PORT; stop it or set RECORDER_HTTP_PORT"
fi

recorder_pg_start || die "PostgreSQL did not start (see above)"
if [ "${RECORDER_WITH_REDIS:-0}" = 1 ]; then
    recorder_redis_start || die "Redis did not start (see above)"
else
    unset ConnectionStrings__Redis
fi
export Recorder__RecordingsRoot="$DEMO_ROOT"

log "building Recorder.Hub (Release)"
dotnet build "$ROOT/Recorder.Hub/Recorder.Hub.csproj" -c Release -nologo -v quiet \
    || die "build failed"

# The hub and its CLI verbs run from the project folder, so that its content root (appsettings*.json,
# wwwroot/) is the project's, as with a plain `dotnet run` there.
hub() {
    (cd "$ROOT/Recorder.Hub" && dotnet run -c Release --no-build --no-launch-profile -- "$@")
}

log "applying migrations"
hub migrate || die "'migrate' failed; is PostgreSQL reachable with: $ConnectionStrings__Recorder ?"

log "seeding user demo"
hub users add demo --token recorder-demo-token || die "'users add demo --token recorder-demo-token' failed"

if [ -d "$DEMO_DIR" ]; then
    log "importing the demo recording $DEMO_DIR"
    hub recordings import "$DEMO_DIR" || die "'recordings import $DEMO_DIR' failed"
else
    log "warning: $DEMO_DIR does not exist; the demo recording was not imported"
fi

cat <<EOF

================================================================================
 Recorder hub: $HUB_BASE
   SignalR hub   $HUB_BASE/hubs/recorder
   user_id       demo
   token         recorder-demo-token
   recorder_dir  demo
   e.g. $HUB_BASE/hubs/recorder?user_id=demo&token=recorder-demo-token&recorder_dir=demo
   Redis backplane: $( [ -n "${ConnectionStrings__Redis:-}" ] && echo "$ConnectionStrings__Redis" || echo "off (RECORDER_WITH_REDIS=1 turns it on)")
   PostgreSQL:      $ConnectionStrings__Recorder
 JavaScript (@microsoft/signalr) and .NET (Recorder.Client) snippets: README.md
 Ctrl-C stops the hub; ./deploy/local/stop.sh stops PostgreSQL and Redis.
================================================================================

EOF

cd "$ROOT/Recorder.Hub"
exec dotnet run -c Release --no-build --no-launch-profile -- --urls "$HUB_BASE"
