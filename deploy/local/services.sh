#!/usr/bin/env bash
# shellcheck disable=SC2119,SC2120  # optional arguments default to the configured port/database
# Local PostgreSQL and Redis for Recorder development and tests, on loopback only.
#
# Source it to get the functions (run.sh and test.sh do):
#     source deploy/local/services.sh
#     recorder_pg_start        # PostgreSQL on 127.0.0.1:${RECORDER_PG_PORT:-25432}, exports ConnectionStrings__Recorder
#     recorder_redis_start     # Redis on 127.0.0.1:${RECORDER_REDIS_PORT:-26379}, exports ConnectionStrings__Redis
#     recorder_pg_stop; recorder_redis_stop; recorder_services_status
#
# or execute it:
#     deploy/local/services.sh start|stop|status|env|start-pg|stop-pg|start-redis|stop-redis|psql [args]
#     eval "$(deploy/local/services.sh env)"   # export the connection strings into your shell
#
# Everything lives under deploy/local/.data/ (gitignored): pg/ (cluster, socket, log) and redis/.
# When this runs as root, initdb/pg_ctl run as the `postgres` user. If that user cannot reach the
# repository (a parent folder it cannot traverse) or the path is too long for a unix socket, the
# cluster is placed in /tmp/recorder-pg-<uid>-<hash> and deploy/local/.data/pg is a symlink to it.
#
# Settings (environment):
#   RECORDER_PG_PORT        (25432)   RECORDER_REDIS_PORT (26379)
#   RECORDER_PG_BIN         folder with initdb/pg_ctl/postgres (default: newest /usr/lib/postgresql/*/bin)
#   RECORDER_DATA_DIR       (deploy/local/.data)
#   RECORDER_START_TIMEOUT  seconds to wait for a server to accept connections (60)
#   RECORDER_PG_DURABLE     1 = fsync and full_page_writes on (PostgreSQL's defaults, as production runs it),
#                           for the durable benchmarks: e.g. RECORDER_PG_DURABLE=1 RECORDER_PG_PORT=25433
#                           RECORDER_DATA_DIR=deploy/local/.data-durable deploy/local/services.sh start-pg
#
# This is a dev/test cluster: trust authentication on loopback, fsync off, the role `recorder`
# (password `recorder`) is a superuser so tests can create their own databases.

# ---------------------------------------------------------------- locations and settings

RECORDER_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
RECORDER_ROOT="$(cd "$RECORDER_LOCAL_DIR/../.." && pwd -P)"
RECORDER_DATA_DIR="${RECORDER_DATA_DIR:-$RECORDER_LOCAL_DIR/.data}"
# Defaults below the kernel's ephemeral range (32768-60999), so an outgoing connection never holds them.
RECORDER_PG_PORT="${RECORDER_PG_PORT:-25432}"
RECORDER_REDIS_PORT="${RECORDER_REDIS_PORT:-26379}"
RECORDER_START_TIMEOUT="${RECORDER_START_TIMEOUT:-60}"
export RECORDER_ROOT RECORDER_DATA_DIR RECORDER_PG_PORT RECORDER_REDIS_PORT

_recorder_log() { printf '[recorder] %s\n' "$*" >&2; }
_recorder_err() { printf '[recorder] ERROR: %s\n' "$*" >&2; }

_recorder_is_root() { [ "$(id -u)" = 0 ]; }

# A short stable id of the repository path (keeps two clones apart in /tmp).
_recorder_path_id() { printf '%s' "$RECORDER_ROOT" | cksum | cut -d' ' -f1; }

# ---------------------------------------------------------------- PostgreSQL

# Picks the PostgreSQL bin folder: $RECORDER_PG_BIN, else the one matching an existing cluster's
# PG_VERSION, else the newest /usr/lib/postgresql/*/bin, else pg_config / PATH.
_recorder_pg_find_bin() {
    local want="" d best=""
    if [ -n "${RECORDER_PG_BIN:-}" ]; then
        [ -x "$RECORDER_PG_BIN/initdb" ] && [ -x "$RECORDER_PG_BIN/pg_ctl" ] && { printf '%s' "$RECORDER_PG_BIN"; return 0; }
        _recorder_err "RECORDER_PG_BIN=$RECORDER_PG_BIN has no initdb/pg_ctl"
        return 1
    fi
    if [ -f "$RECORDER_DATA_DIR/pg/data/PG_VERSION" ]; then
        want="$(cat "$RECORDER_DATA_DIR/pg/data/PG_VERSION" 2>/dev/null || true)"
        if [ -n "$want" ] && [ -x "/usr/lib/postgresql/$want/bin/pg_ctl" ]; then
            printf '%s' "/usr/lib/postgresql/$want/bin"; return 0
        fi
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n); do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && best="$d"
    done
    if [ -z "$best" ] && command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null || true)"
        [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best="$d"
    fi
    if [ -z "$best" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        best="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
    fi
    if [ -z "$best" ]; then
        _recorder_err "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found."
        _recorder_err "Install them: apt-get install -y postgresql   (any PostgreSQL 13+; or set RECORDER_PG_BIN)"
        return 1
    fi
    if [ -n "$want" ] && [ "$want" != "$(basename "$(dirname "$best")")" ]; then
        _recorder_log "warning: the cluster in $RECORDER_DATA_DIR/pg is version $want; using binaries in $best"
    fi
    printf '%s' "$best"
}

# Runs a command as the cluster owner: the `postgres` user when we are root, else ourselves.
_recorder_pg_as_owner() {
    if _recorder_is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Sets RECORDER_PG_BASE (real folder holding data/, run/, postgres.log) and creates it if needed,
# owned by the cluster owner. deploy/local/.data/pg is that folder or a symlink to it.
_recorder_pg_prepare_base() {
    local link="$RECORDER_DATA_DIR/pg" base="" fallback sock
    fallback="/tmp/recorder-pg-$(id -u)-$(_recorder_path_id)"
    mkdir -p "$RECORDER_DATA_DIR" || { _recorder_err "cannot create $RECORDER_DATA_DIR"; return 1; }
    if _recorder_is_root; then
        id postgres >/dev/null 2>&1 || {
            _recorder_err "running as root but there is no 'postgres' user to own the cluster"
            _recorder_err "(it comes with the Debian package: apt-get install -y postgresql)"
            return 1
        }
        command -v runuser >/dev/null 2>&1 || { _recorder_err "runuser (util-linux) is required when running as root"; return 1; }
        chmod 0755 "$RECORDER_DATA_DIR" 2>/dev/null || true
    fi

    if [ -L "$link" ]; then
        base="$(readlink "$link")"
    elif [ -d "$link" ]; then
        base="$link"
    else
        base="$link"
        # The unix socket path (<base>/run/.s.PGSQL.<port>) must stay below ~107 bytes.
        sock="$link/run/.s.PGSQL.$RECORDER_PG_PORT"
        if [ "${#sock}" -gt 100 ]; then
            _recorder_log "the repository path is too long for a unix socket; the cluster goes to $fallback"
            base="$fallback"
        elif _recorder_is_root && ! runuser -u postgres -- test -x "$RECORDER_DATA_DIR" 2>/dev/null; then
            _recorder_log "user postgres cannot traverse $RECORDER_DATA_DIR (a parent folder is closed to it);"
            _recorder_log "the cluster goes to $fallback (symlinked from $link)"
            base="$fallback"
        fi
        if [ "$base" != "$link" ]; then
            ln -sfn "$base" "$link" || { _recorder_err "cannot create symlink $link -> $base"; return 1; }
        fi
    fi

    mkdir -p "$base/run" || { _recorder_err "cannot create $base"; return 1; }
    if _recorder_is_root; then
        chown postgres: "$base" "$base/run" || { _recorder_err "cannot chown $base to postgres"; return 1; }
        [ -e "$base/postgres.log" ] && chown postgres: "$base/postgres.log"
        if ! runuser -u postgres -- test -w "$base"; then
            _recorder_err "user postgres cannot write $base"
            return 1
        fi
    fi
    chmod 0700 "$base" "$base/run" 2>/dev/null || true
    RECORDER_PG_BASE="$base"
    RECORDER_PG_DATA="$base/data"
    RECORDER_PG_SOCKET_DIR="$base/run"
    RECORDER_PG_LOG="$base/postgres.log"
}

# Writes the settings this script owns; postgresql.conf includes the file.
_recorder_pg_write_conf() {
    local sockdir="${RECORDER_PG_SOCKET_DIR//\'/\'\'}"
    local durability="# A throw-away dev/test cluster: a PostgreSQL crash or restart loses nothing, an OS crash may.
fsync = off
full_page_writes = off"
    if [ "${RECORDER_PG_DURABLE:-0}" = 1 ]; then
        durability="# RECORDER_PG_DURABLE=1: every commit is flushed to disk, as in production.
fsync = on
full_page_writes = on
synchronous_commit = on"
    fi
    cat >"$RECORDER_PG_DATA/recorder.conf" <<EOF || { _recorder_err "cannot write $RECORDER_PG_DATA/recorder.conf"; return 1; }
# Written by deploy/local/services.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $RECORDER_PG_PORT
unix_socket_directories = '$sockdir'
max_connections = 300
shared_buffers = 128MB
$durability
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
    cat >"$RECORDER_PG_DATA/pg_hba.conf" <<'EOF' || { _recorder_err "cannot write $RECORDER_PG_DATA/pg_hba.conf"; return 1; }
# Written by deploy/local/services.sh: a dev/test cluster that listens on 127.0.0.1 only.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
    if _recorder_is_root; then
        chown postgres: "$RECORDER_PG_DATA/recorder.conf" "$RECORDER_PG_DATA/pg_hba.conf"
    fi
    chmod 0600 "$RECORDER_PG_DATA/recorder.conf" "$RECORDER_PG_DATA/pg_hba.conf"
}

_recorder_pg_log_tail() {
    if [ -n "${RECORDER_PG_LOG:-}" ] && [ -f "$RECORDER_PG_LOG" ]; then
        _recorder_err "last lines of $RECORDER_PG_LOG:"
        tail -n "${1:-40}" "$RECORDER_PG_LOG" | sed 's/^/    /' >&2
    fi
}

# The port of the running postmaster (line 4 of postmaster.pid), or nothing.
_recorder_pg_running_port() {
    if [ -f "$RECORDER_PG_DATA/postmaster.pid" ]; then
        sed -n 4p "$RECORDER_PG_DATA/postmaster.pid" 2>/dev/null || true
    fi
}

_recorder_pg_is_running() {
    _recorder_pg_as_owner "$RECORDER_PG_BIN/pg_ctl" -D "$RECORDER_PG_DATA" status >/dev/null 2>&1
}

_recorder_pg_isready() {
    "$RECORDER_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$RECORDER_PG_PORT" -U postgres -d postgres -t 2 >/dev/null 2>&1
}

# psql as the bootstrap superuser `postgres`, over TCP.
_recorder_pg_admin_psql() {
    "$RECORDER_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$RECORDER_PG_PORT" -U postgres -d postgres "$@"
}

_recorder_pg_init() {
    _recorder_log "initializing a new PostgreSQL cluster in $RECORDER_PG_DATA"
    local out
    if ! out="$(_recorder_pg_as_owner "$RECORDER_PG_BIN/initdb" -D "$RECORDER_PG_DATA" -U postgres \
            --auth=trust -E UTF8 --no-locale --no-instructions 2>&1)"; then
        _recorder_err "initdb failed:"
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        return 1
    fi
    printf "\ninclude_if_exists = 'recorder.conf'\n" >>"$RECORDER_PG_DATA/postgresql.conf" \
        || { _recorder_err "cannot write $RECORDER_PG_DATA/postgresql.conf"; return 1; }
}

# Starts (or reuses) the cluster, creates the role and database `recorder`, and exports
# ConnectionStrings__Recorder. Idempotent.
recorder_pg_start() {
    RECORDER_PG_BIN="$(_recorder_pg_find_bin)" || return 1
    _recorder_pg_prepare_base || return 1

    if [ ! -f "$RECORDER_PG_DATA/PG_VERSION" ]; then
        if [ -d "$RECORDER_PG_DATA" ] && [ -n "$(ls -A "$RECORDER_PG_DATA" 2>/dev/null)" ]; then
            _recorder_err "$RECORDER_PG_DATA exists but is not a PostgreSQL cluster; remove it (see docs/operations.md)"
            return 1
        fi
        _recorder_pg_init || return 1
    fi

    local running_port
    if _recorder_pg_is_running; then
        running_port="$(_recorder_pg_running_port)"
        if [ "$running_port" != "$RECORDER_PG_PORT" ]; then
            _recorder_log "the cluster runs on port $running_port; restarting it on $RECORDER_PG_PORT"
            _recorder_pg_write_conf || return 1
            _recorder_pg_as_owner "$RECORDER_PG_BIN/pg_ctl" -D "$RECORDER_PG_DATA" -m fast -w stop >/dev/null || {
                _recorder_err "could not stop the cluster"; return 1; }
        else
            _recorder_log "PostgreSQL already running on 127.0.0.1:$RECORDER_PG_PORT ($RECORDER_PG_DATA)"
        fi
    fi

    if ! _recorder_pg_is_running; then
        if _recorder_pg_isready || "$RECORDER_PG_BIN/pg_isready" -h 127.0.0.1 -p "$RECORDER_PG_PORT" -t 2 2>/dev/null | grep -q rejecting; then
            _recorder_err "another PostgreSQL server already listens on 127.0.0.1:$RECORDER_PG_PORT (not the cluster in $RECORDER_PG_DATA)."
            _recorder_err "Stop it, or pick another port: RECORDER_PG_PORT=25433 $0"
            return 1
        fi
        _recorder_pg_write_conf || return 1
        _recorder_log "starting PostgreSQL on 127.0.0.1:$RECORDER_PG_PORT (log: $RECORDER_PG_LOG)"
        if ! _recorder_pg_as_owner "$RECORDER_PG_BIN/pg_ctl" -D "$RECORDER_PG_DATA" -l "$RECORDER_PG_LOG" \
                -w -t "$RECORDER_START_TIMEOUT" start >/dev/null 2>&1; then
            _recorder_err "PostgreSQL failed to start on 127.0.0.1:$RECORDER_PG_PORT"
            _recorder_pg_log_tail 40
            return 1
        fi
    fi

    local deadline=$((SECONDS + RECORDER_START_TIMEOUT))
    until _recorder_pg_isready; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            _recorder_err "PostgreSQL does not accept connections on 127.0.0.1:$RECORDER_PG_PORT after ${RECORDER_START_TIMEOUT}s"
            _recorder_pg_log_tail 40
            return 1
        fi
        sleep 0.2
    done

    if ! _recorder_pg_admin_psql <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'recorder') THEN
        CREATE ROLE recorder LOGIN SUPERUSER CREATEDB PASSWORD 'recorder';
    ELSE
        ALTER ROLE recorder LOGIN SUPERUSER CREATEDB PASSWORD 'recorder';
    END IF;
END
$$;
SELECT 'CREATE DATABASE recorder OWNER recorder'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'recorder')
\gexec
SQL
    then
        _recorder_err "could not create the role/database 'recorder'"
        _recorder_pg_log_tail 20
        return 1
    fi

    export ConnectionStrings__Recorder="Host=127.0.0.1;Port=$RECORDER_PG_PORT;Database=recorder;Username=recorder;Password=recorder"
    export RECORDER_PG_BIN RECORDER_PG_BASE RECORDER_PG_DATA RECORDER_PG_LOG
    _recorder_log "PostgreSQL ready: $ConnectionStrings__Recorder"
}

recorder_pg_stop() {
    RECORDER_PG_BIN="$(_recorder_pg_find_bin)" || return 1
    local link="$RECORDER_DATA_DIR/pg"
    if [ ! -e "$link" ]; then
        _recorder_log "no PostgreSQL cluster in $link"
        return 0
    fi
    # The real folder, not the symlink: when the cluster was put under /tmp because user postgres cannot traverse
    # the repository's folders, it cannot reach the cluster through deploy/local/.data/pg either.
    local base="$link"
    [ -L "$link" ] && base="$(readlink "$link")"
    RECORDER_PG_DATA="$base/data"
    RECORDER_PG_LOG="$base/postgres.log"
    if _recorder_pg_is_running; then
        _recorder_log "stopping PostgreSQL ($RECORDER_PG_DATA)"
        if ! _recorder_pg_as_owner "$RECORDER_PG_BIN/pg_ctl" -D "$RECORDER_PG_DATA" -m fast -w -t "$RECORDER_START_TIMEOUT" stop >/dev/null; then
            _recorder_err "PostgreSQL did not stop"
            _recorder_pg_log_tail 20
            return 1
        fi
    else
        _recorder_log "PostgreSQL is not running"
    fi
}

# psql as the `recorder` role on the local cluster: recorder_psql -c 'select 1'
recorder_psql() {
    local bin="${RECORDER_PG_BIN:-}"
    [ -n "$bin" ] || bin="$(_recorder_pg_find_bin)" || return 1
    PGPASSWORD=recorder "$bin/psql" -X -h 127.0.0.1 -p "$RECORDER_PG_PORT" -U recorder -d recorder "$@"
}

# ---------------------------------------------------------------- Redis

# Installs redis-server with apt-get when it is missing (root only).
recorder_redis_ensure_installed() {
    command -v redis-server >/dev/null 2>&1 && return 0
    if ! _recorder_is_root; then
        _recorder_err "redis-server is not installed. Install it, e.g.: sudo apt-get install -y redis-server"
        return 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        _recorder_err "redis-server is not installed and apt-get is not available; install Redis 6+ by hand"
        return 1
    fi
    _recorder_log "installing redis-server with apt-get"
    local log="$RECORDER_DATA_DIR/apt-redis.log"
    mkdir -p "$RECORDER_DATA_DIR"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends redis-server >"$log" 2>&1; then
        _recorder_log "apt-get install failed; running apt-get update and retrying"
        if ! { apt-get update -q && apt-get install -y -q --no-install-recommends redis-server; } >>"$log" 2>&1; then
            _recorder_err "could not install redis-server; last lines of $log:"
            tail -n 20 "$log" | sed 's/^/    /' >&2
            return 1
        fi
    fi
    command -v redis-server >/dev/null 2>&1 || { _recorder_err "redis-server still not on PATH after install"; return 1; }
}

# True when something on 127.0.0.1:<port> answers PING with PONG (plain bash, no redis-cli needed).
_recorder_redis_ping() {
    local port="${1:-$RECORDER_REDIS_PORT}" fd reply=""
    { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&"$fd"
    IFS= read -r -t 2 reply <&"$fd" || true
    exec {fd}>&-
    [[ "$reply" == "+PONG"* ]]
}

# The pid in our pidfile if that process is alive and is a redis-server.
_recorder_redis_pid() {
    local pidfile="$RECORDER_DATA_DIR/redis/redis.pid" pid
    [ -f "$pidfile" ] || return 1
    pid="$(cat "$pidfile" 2>/dev/null)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    grep -q redis "/proc/$pid/comm" 2>/dev/null || return 1
    printf '%s' "$pid"
}

recorder_redis_start() {
    recorder_redis_ensure_installed || return 1
    local dir="$RECORDER_DATA_DIR/redis" pid
    mkdir -p "$dir" || { _recorder_err "cannot create $dir"; return 1; }

    if _recorder_redis_ping; then
        if pid="$(_recorder_redis_pid)"; then
            _recorder_log "Redis already running on 127.0.0.1:$RECORDER_REDIS_PORT (pid $pid)"
        else
            _recorder_log "warning: a Redis server not started by this script already answers on 127.0.0.1:$RECORDER_REDIS_PORT; using it"
        fi
    else
        _recorder_log "starting Redis on 127.0.0.1:$RECORDER_REDIS_PORT (log: $dir/redis.log)"
        rm -f "$dir/redis.pid"
        if ! redis-server --bind 127.0.0.1 --port "$RECORDER_REDIS_PORT" --protected-mode yes \
                --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" \
                --save '' --appendonly no </dev/null >/dev/null 2>&1; then
            _recorder_err "redis-server failed to start"
            [ -f "$dir/redis.log" ] && tail -n 20 "$dir/redis.log" | sed 's/^/    /' >&2
            return 1
        fi
        local started=$SECONDS
        until _recorder_redis_ping; do
            # Give up at the deadline, or early when the daemon is gone after a few seconds.
            if [ $((SECONDS - started)) -ge "$RECORDER_START_TIMEOUT" ] \
                || { [ $((SECONDS - started)) -ge 3 ] && ! _recorder_redis_pid >/dev/null; }; then
                _recorder_err "Redis does not answer on 127.0.0.1:$RECORDER_REDIS_PORT"
                [ -f "$dir/redis.log" ] && tail -n 20 "$dir/redis.log" | sed 's/^/    /' >&2
                return 1
            fi
            sleep 0.1
        done
    fi
    export ConnectionStrings__Redis="127.0.0.1:$RECORDER_REDIS_PORT"
    _recorder_log "Redis ready: $ConnectionStrings__Redis"
}

recorder_redis_stop() {
    local pid
    if pid="$(_recorder_redis_pid)"; then
        _recorder_log "stopping Redis (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            _recorder_log "Redis did not stop within 10s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$RECORDER_DATA_DIR/redis/redis.pid"
    elif _recorder_redis_ping; then
        _recorder_log "a Redis server on 127.0.0.1:$RECORDER_REDIS_PORT was not started by this script; leaving it alone"
    else
        _recorder_log "Redis is not running"
    fi
}

# ---------------------------------------------------------------- both

recorder_services_status() {
    local bin rc=0
    if bin="$(_recorder_pg_find_bin 2>/dev/null)" && "$bin/pg_isready" -q -h 127.0.0.1 -p "$RECORDER_PG_PORT" -t 2; then
        echo "PostgreSQL: up on 127.0.0.1:$RECORDER_PG_PORT (cluster: $(readlink -f "$RECORDER_DATA_DIR/pg" 2>/dev/null)/data)"
    else
        echo "PostgreSQL: down (port $RECORDER_PG_PORT)"; rc=1
    fi
    if _recorder_redis_ping; then
        echo "Redis:      up on 127.0.0.1:$RECORDER_REDIS_PORT"
    else
        echo "Redis:      down (port $RECORDER_REDIS_PORT)"; rc=1
    fi
    return $rc
}

# Prints the export lines for the local services (for eval).
recorder_services_env() {
    echo "export ConnectionStrings__Recorder='Host=127.0.0.1;Port=$RECORDER_PG_PORT;Database=recorder;Username=recorder;Password=recorder'"
    echo "export ConnectionStrings__Redis='127.0.0.1:$RECORDER_REDIS_PORT'"
    echo "export RECORDER_TEST_PG='Host=127.0.0.1;Port=$RECORDER_PG_PORT;Database=recorder;Username=recorder;Password=recorder'"
    echo "export RECORDER_TEST_REDIS='127.0.0.1:$RECORDER_REDIS_PORT'"
}

# ---------------------------------------------------------------- executed directly

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    cmd="${1:-}"
    [ $# -gt 0 ] && shift
    case "$cmd" in
        start)       recorder_pg_start; recorder_redis_start; recorder_services_env ;;
        stop)        rc=0; recorder_pg_stop || rc=1; recorder_redis_stop || rc=1; exit $rc ;;
        status)      recorder_services_status ;;
        env)         recorder_services_env ;;
        start-pg)    recorder_pg_start ;;
        stop-pg)     recorder_pg_stop ;;
        start-redis) recorder_redis_start ;;
        stop-redis)  recorder_redis_stop ;;
        psql)        recorder_psql "$@" ;;
        *)
            echo "usage: $0 start|stop|status|env|start-pg|stop-pg|start-redis|stop-redis|psql [psql args]" >&2
            exit 2 ;;
    esac
fi
