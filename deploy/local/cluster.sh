#!/usr/bin/env bash
# A local cluster on loopback: PostgreSQL and Redis (services.sh), two hubs (the built Recorder.Hub with the Redis
# backplane) and Debian's nginx in front, with deploy/nginx/recorder.conf.template (the file the tests and
# deploy/compose.yml use).
#
#   deploy/local/cluster.sh start|stop|status|env
#
# start builds Recorder.Hub (Release), migrates, seeds user demo (token recorder-demo-token), imports the demo
# recording, starts hub 1 on 127.0.0.1:${RECORDER_HUB1_PORT:-5081}, hub 2 on ${RECORDER_HUB2_PORT:-5082} and nginx on
# 127.0.0.1:${RECORDER_NGINX_PORT:-5080}. Logs and pids: deploy/local/.data/cluster/. stop stops the hubs and nginx
# (PostgreSQL and Redis keep running: deploy/local/stop.sh). nginx: apt-get install -y --no-install-recommends nginx.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=services.sh
source "$HERE/services.sh"
ROOT="$RECORDER_ROOT"
DIR="$RECORDER_DATA_DIR/cluster"
NGINX="${RECORDER_NGINX_BIN:-/usr/sbin/nginx}"
NGINX_PORT="${RECORDER_NGINX_PORT:-5080}"
HUB_PORTS=("${RECORDER_HUB1_PORT:-5081}" "${RECORDER_HUB2_PORT:-5082}")
HUB_DLL="$ROOT/Recorder.Hub/bin/Release/net10.0/Recorder.Hub.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
log() { printf '[cluster] %s\n' "$*" >&2; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
answers() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

wait_for() { # url what
    local deadline=$((SECONDS + RECORDER_START_TIMEOUT))
    until answers "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || die "$2 does not answer $1 after ${RECORDER_START_TIMEOUT}s (logs: $DIR)"
        sleep 0.3
    done
}

hub() { (cd "$ROOT/Recorder.Hub" && dotnet "$HUB_DLL" "$@"); }

start() {
    [ -x "$NGINX" ] || die "nginx not found at $NGINX: apt-get install -y --no-install-recommends nginx (or set RECORDER_NGINX_BIN)"
    command -v curl >/dev/null 2>&1 || die "curl is required"
    mkdir -p "$DIR"
    recorder_pg_start || die "PostgreSQL did not start"
    recorder_redis_start || die "Redis did not start"
    export Recorder__RecordingsRoot="$ROOT/deploy/demo/recordings"
    log "building Recorder.Hub (Release)"
    dotnet build "$ROOT/Recorder.Hub/Recorder.Hub.csproj" -c Release -nologo -v quiet || die "build failed"
    hub migrate || die "migrate failed"
    hub users add demo --token recorder-demo-token || die "users add failed"
    hub recordings import "$ROOT/deploy/demo/recordings/demo" || die "recordings import failed"
    local i port
    for i in 0 1; do
        port="${HUB_PORTS[$i]}"
        if alive "$DIR/hub$((i + 1)).pid"; then
            log "hub $((i + 1)) already running (pid $(cat "$DIR/hub$((i + 1)).pid"))"; continue
        fi
        answers "http://127.0.0.1:$port/healthz" && die "something else answers on 127.0.0.1:$port"
        log "starting hub $((i + 1)) on 127.0.0.1:$port"
        (cd "$ROOT/Recorder.Hub" && exec setsid dotnet "$HUB_DLL" --urls "http://127.0.0.1:$port" \
            --Recorder:Proxy:KnownProxies:0=127.0.0.1 >"$DIR/hub$((i + 1)).log" 2>&1) &
        echo $! >"$DIR/hub$((i + 1)).pid"
    done
    for i in 0 1; do wait_for "http://127.0.0.1:${HUB_PORTS[$i]}/healthz" "hub $((i + 1))"; done

    if alive "$DIR/nginx.pid"; then
        log "nginx already running; reloading its config"
    fi
    export RECORDER_NGINX_PREFIX="$DIR/nginx" RECORDER_NGINX_LISTEN="127.0.0.1:$NGINX_PORT"
    export RECORDER_HUB_1="127.0.0.1:${HUB_PORTS[0]}" RECORDER_HUB_2="127.0.0.1:${HUB_PORTS[1]}"
    mkdir -p "$RECORDER_NGINX_PREFIX"
    # shellcheck disable=SC2016  # the list names the variables envsubst may replace
    envsubst '${RECORDER_NGINX_PREFIX}' <"$ROOT/deploy/nginx/main.conf.template" >"$RECORDER_NGINX_PREFIX/nginx.conf"
    # shellcheck disable=SC2016
    envsubst '${RECORDER_NGINX_LISTEN} ${RECORDER_HUB_1} ${RECORDER_HUB_2}' <"$ROOT/deploy/nginx/recorder.conf.template" >"$RECORDER_NGINX_PREFIX/recorder.conf"
    "$NGINX" -t -q -p "$RECORDER_NGINX_PREFIX" -c "$RECORDER_NGINX_PREFIX/nginx.conf" || die "the rendered nginx config is invalid"
    if alive "$DIR/nginx.pid"; then
        kill -HUP "$(cat "$DIR/nginx.pid")"
    else
        (exec setsid "$NGINX" -p "$RECORDER_NGINX_PREFIX" -c "$RECORDER_NGINX_PREFIX/nginx.conf" -g 'daemon off;' >"$DIR/nginx.log" 2>&1) &
        echo $! >"$DIR/nginx.pid"
    fi
    wait_for "http://127.0.0.1:$NGINX_PORT/healthz" "nginx"
    env_lines
    log "cluster up: http://127.0.0.1:$NGINX_PORT/hubs/recorder?user_id=demo&token=recorder-demo-token&recorder_dir=demo"
}

stop_one() { # pidfile name
    if alive "$1"; then
        local pid; pid="$(cat "$1")"
        log "stopping $2 (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "$2 did not stop in 10 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -f "$1"
}

stop() {
    stop_one "$DIR/nginx.pid" nginx
    stop_one "$DIR/hub1.pid" "hub 1"
    stop_one "$DIR/hub2.pid" "hub 2"
}

status() {
    local rc=0
    recorder_services_status || rc=1
    for i in 0 1; do
        if answers "http://127.0.0.1:${HUB_PORTS[$i]}/healthz"; then echo "hub $((i + 1)):      up on 127.0.0.1:${HUB_PORTS[$i]}"
        else echo "hub $((i + 1)):      down (port ${HUB_PORTS[$i]})"; rc=1; fi
    done
    if answers "http://127.0.0.1:$NGINX_PORT/healthz"; then echo "nginx:      up on 127.0.0.1:$NGINX_PORT"
    else echo "nginx:      down (port $NGINX_PORT)"; rc=1; fi
    return $rc
}

env_lines() {
    recorder_services_env
    echo "export RECORDER_HUB_URL='http://127.0.0.1:$NGINX_PORT/hubs/recorder'"
}

case "${1:-}" in
    start)  start ;;
    stop)   stop ;;
    status) status ;;
    env)    env_lines ;;
    *)      echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
