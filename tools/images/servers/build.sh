#!/usr/bin/env bash
# Builds the four server images docker-compose.yml needs, on a machine without a container registry
# (tools/images makes the service images the same way): FROM the debootstrap base of
# `./dispatch images` (localhost/dispatch/node-base:<.node-version>-bookworm), plus Debian packages
# (openjdk-17-jre-headless, postgresql-15, redis-server, python3-cassandra) and the local stack's jars
# (.stack/lib/kafka, .stack/lib/cassandra: `./dispatch up` fetches them with infra/local/pom.xml; the
# Kafka CLI tools with pom.xml here, from the Maven cache or repository). Serially: the machine is shared.
#
#   tools/images/servers/build.sh            # builds what is missing
#   tools/images/servers/build.sh --rebuild  # all of them again
#
# Images: localhost/dispatch/{jre:17-bookworm, kafka:<kafka>, cassandra:<cassandra>, postgres:15, redis:7}.
# compose uses them through KAFKA_IMAGE, CASSANDRA_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE (docs/deploy.md).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
here=$repo/tools/images/servers
work=$repo/.stack/images/servers
rebuild=false
[[ ${1:-} == --rebuild ]] && rebuild=true

fail() { echo "server images: $*" >&2; exit 1; }
log() { echo "server images: $*"; }

version() { sed -n "s:.*<$1>\([^<]*\)</$1>.*:\1:p" "$repo/infra/local/pom.xml" | head -n 1; }
kafka_version=$(version kafka.version)
cassandra_version=$(version cassandra.version)
base=${BASE_IMAGE:-localhost/dispatch/node-base:$(cat "$repo/.node-version")-bookworm}
jre=localhost/dispatch/jre:17-bookworm
podman image exists "$base" || fail "no base image $base: run ./dispatch images first"
for lib in kafka cassandra; do
  compgen -G "$repo/.stack/lib/$lib/*.jar" >/dev/null || fail "no jars in .stack/lib/$lib: run ./dispatch up once"
done
mkdir -p "$work/logs"

# build TAG CONTAINERFILE CONTEXT [podman build options...]
build() {
  local tag=$1 file=$2 context=$3 started=$SECONDS logfile
  shift 3
  if ! $rebuild && podman image exists "$tag"; then log "$tag exists"; return; fi
  logfile="$work/logs/$(basename "$file" .Containerfile).log"
  log "building $tag (log: ${logfile#"$repo"/})"
  if ! podman build --format docker --pull=never --network host -f "$here/$file" -t "$tag" "$@" "$context" \
    >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    fail "building $tag failed"
  fi
  log "$tag: $(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1/1e6}') in $((SECONDS - started)) s"
}

# Contexts: hard links (or copies) of what each image takes, under .stack/images/servers.
context() {
  rm -rf "$work/$1"
  mkdir -p "$work/$1"
  echo "$work/$1"
}
link() { cp -l "$@" 2>/dev/null || cp "$@"; }

build "$jre" jre.Containerfile "$here" --build-arg BASE="$base"

ctx=$(context kafka)
mkdir -p "$ctx/libs"
link "$repo"/.stack/lib/kafka/*.jar "$ctx/libs/"
mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DexcludeTransitive=true -DoutputDirectory="$ctx/libs" ||
  fail "could not get the Kafka CLI tools (mvn -f tools/images/servers/pom.xml)"
cp "$here/kafka-cli.sh" "$here/log4j2.properties" "$here/tools-log4j2.properties" "$ctx/"
build "localhost/dispatch/kafka:$kafka_version" kafka.Containerfile "$ctx" --build-arg JRE="$jre"

ctx=$(context cassandra)
mkdir -p "$ctx/lib"
link "$repo"/.stack/lib/cassandra/*.jar "$ctx/lib/"
cp "$repo/infra/local/cassandra/cassandra.yaml" "$repo/infra/local/cassandra/jvm.options" "$ctx/"
cp "$here/logback.xml" "$here/nodetool-logback.xml" "$here/cassandra-entrypoint.sh" "$here/nodetool" \
  "$here/cqlsh.py" "$ctx/"
build "localhost/dispatch/cassandra:$cassandra_version" cassandra.Containerfile "$ctx" --build-arg JRE="$jre"

build localhost/dispatch/postgres:15 postgres.Containerfile "$here" --build-arg BASE="$base"
build localhost/dispatch/redis:7 redis.Containerfile "$here" --build-arg BASE="$base"

podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'dispatch/(jre|kafka|cassandra|postgres|redis):' || true
