#!/usr/bin/env bash
# Stops the local PostgreSQL cluster and Redis started by deploy/local/services.sh (data is kept;
# `rm -rf deploy/local/.data` afterwards resets everything, see docs/operations.md).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=services.sh
source "$HERE/services.sh"

rc=0
recorder_pg_stop || rc=1
recorder_redis_stop || rc=1
exit $rc
