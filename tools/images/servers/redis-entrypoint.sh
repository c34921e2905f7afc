#!/bin/bash
# As the redis:7 image: `redis-server [options]` without a config file listens on every interface of
# the container with protected mode off; runs as the user redis.
set -euo pipefail
if [[ ${1:-} == redis-server ]]; then
  shift
  set -- redis-server --bind '* -::*' --protected-mode no "$@"
fi
if [[ $(id -u) == 0 ]]; then exec setpriv --reuid=redis --regid=redis --init-groups "$@"; fi
exec "$@"
