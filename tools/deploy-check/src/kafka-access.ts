import { writeFileSync } from 'node:fs';
import {
  KAFKA_ADMIN,
  KAFKA_CONTROLLER,
  type KafkaGrant,
  type KafkaPrincipal,
  kafkaPrincipals,
} from '../../stack/kafka-acls';
import { APP_SERVICES } from '../../stack/services';
import { KAFKA_ACCESS_SCRIPT } from './paths';

/**
 * The Kafka principals of compose and Kubernetes, from the one catalogue the local stack uses
 * (tools/stack/kafka-acls.ts): `k8s/base/kafka/access.sh` is generated from it, committed, and run by
 * compose's `kafka-access` and the Job `dispatch-kafka-access`. A test fails when the committed script
 * differs from what the catalogue generates, so the deployments cannot drift from `./dispatch up`.
 */

/** Principals that get a login only when their password is given (an operator's tools). */
const TOOL_PRINCIPALS = new Set(['dispatch-dlq', 'dispatch-rebuild']);

/** Every principal with grants: one per service, then the operator tools. */
export function deploymentPrincipals(): KafkaPrincipal[] {
  return kafkaPrincipals(APP_SERVICES.map((s) => s.name));
}

export function isToolPrincipal(name: string): boolean {
  return TOOL_PRINCIPALS.has(name);
}

/** `order-service` → `ORDER_SERVICE`: the prefix of the principal's variables in compose and the Job. */
export function principalVariablePrefix(name: string): string {
  return name.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_');
}

/** The variable that holds a principal's password (ORDER_SERVICE_KAFKA_PASSWORD, ...). */
export function passwordVariable(name: string): string {
  return `${principalVariablePrefix(name)}_KAFKA_PASSWORD`;
}

/** The (optional) variable that must name the principal when set (ORDER_SERVICE_KAFKA_USERNAME, ...). */
export function usernameVariable(name: string): string {
  return `${principalVariablePrefix(name)}_KAFKA_USERNAME`;
}

/** The Kubernetes Secret of a principal's login: `<name>-kafka` (the admin's: dispatch-kafka-admin). */
export function principalSecret(name: string): string {
  return name === KAFKA_ADMIN ? 'dispatch-kafka-admin' : `${name}-kafka`;
}

// Topic, group and principal names go into the script as single-quoted words; the catalogue's names
// are plain, and anything else is refused rather than escaped into something surprising.
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

function word(value: string): string {
  if (!SAFE_NAME.test(value))
    throw new Error(`Kafka catalogue name ${JSON.stringify(value)} is not [A-Za-z0-9._-]+`);
  return `'${value}'`;
}

const OPERATION: Record<KafkaGrant['operation'], string> = { read: 'Read', write: 'Write', delete: 'Delete' };

/** One `grant` line per principal, pattern and operation (one CLI call adds all its resources). */
function grantLines(principal: KafkaPrincipal): string[] {
  const groups = new Map<string, KafkaGrant[]>();
  for (const grant of principal.grants) {
    const key = `${grant.pattern} ${grant.operation}`;
    groups.set(key, [...(groups.get(key) ?? []), grant]);
  }
  return [...groups.values()].map((grants) => {
    const { pattern, operation } = grants[0]!;
    const resources = grants.map((g) => `${g.resource}:${word(g.name)}`);
    return `grant ${word(principal.name)} ${pattern} ${OPERATION[operation]} ${resources.join(' ')}`;
  });
}

export const KAFKA_ACCESS_HEADER = `#!/usr/bin/env bash
# GENERATED from tools/stack/kafka-acls.ts (the one catalogue of Kafka principals and their grants) by
#   pnpm exec tsx tools/deploy-check/src/cli.ts kafka-acls
# Do not edit: change the catalogue and run the command again (a deploy-check test compares the two).
`;

/** The script: logins and ACLs of every principal, exactly as the catalogue says. Pure. */
export function renderKafkaAccessScript(
  principals: readonly KafkaPrincipal[] = deploymentPrincipals(),
): string {
  for (const reserved of [KAFKA_ADMIN, KAFKA_CONTROLLER]) {
    if (principals.some((p) => p.name === reserved))
      throw new Error(`${reserved} is not a grantable principal`);
  }
  const logins = principals.map(
    (p) =>
      `login ${word(p.name)} ${passwordVariable(p.name)} ${usernameVariable(p.name)} ${isToolPrincipal(p.name) ? 'optional' : 'required'}`,
  );
  const grants = principals.flatMap(grantLines);
  const services = principals.filter((p) => !isToolPrincipal(p.name)).map((p) => passwordVariable(p.name));
  const tools = principals.filter((p) => isToolPrincipal(p.name)).map((p) => passwordVariable(p.name));
  return `${KAFKA_ACCESS_HEADER}#
# Creates each principal's SCRAM-SHA-512 login and makes its ACLs exactly the catalogue's: missing ones
# added, any other ACL of these principals removed (a grant dropped from the catalogue is revoked); ACLs
# of other principals are left alone. Idempotent; every run sets each login's password from its variable
# (rotation). Logs in as the super user with Kafka's own CLI (the apache/kafka image's /opt/kafka/bin).
#
#   KAFKA_BROKERS               bootstrap servers, host:port[,host:port...]
#   KAFKA_ADMIN_USERNAME        the super user (default ${KAFKA_ADMIN}); KAFKA_ADMIN_PASSWORD, its password
#   KAFKA_TLS=true              SASL_SSL instead of SASL_PLAINTEXT; KAFKA_TLS_CA_FILE: a PEM CA bundle (implies TLS)
#   KAFKA_BIN                   the folder of kafka-configs.sh and kafka-acls.sh (default /opt/kafka/bin)
#   <PRINCIPAL>_KAFKA_PASSWORD  each login's password, required for the services:
#                               ${services.join(' ')}
#                               optional for the operator tools (no login without one, ACLs all the same):
#                               ${tools.join(' ')}
#   <PRINCIPAL>_KAFKA_USERNAME  optional; when set (from a Secret) it must be the principal's name
# Passwords: 16 or more of A-Z a-z 0-9 + / . _ ~ - (openssl rand -base64 24 gives 32 of them); they go
# into JAAS and ConfigCommand's [password=...] syntax, which have no escaping for other characters.
set -euo pipefail

bin=\${KAFKA_BIN:-/opt/kafka/bin}
brokers=\${KAFKA_BROKERS:?set KAFKA_BROKERS}
admin_user=\${KAFKA_ADMIN_USERNAME:-${KAFKA_ADMIN}}
admin_password=\${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}

fail() {
  echo "kafka-access: $*" >&2
  exit 1
}

check_password() {
  [[ $2 =~ ^[A-Za-z0-9+/._~-]{16,}$ ]] ||
    fail "$1: use 16 or more of A-Z a-z 0-9 + / . _ ~ - (e.g. openssl rand -base64 24)"
}

[[ $admin_user =~ ^[A-Za-z0-9._-]+$ ]] || fail "KAFKA_ADMIN_USERNAME: only A-Z a-z 0-9 . _ -"
check_password KAFKA_ADMIN_PASSWORD "$admin_password"

protocol=SASL_PLAINTEXT
if [[ \${KAFKA_TLS:-false} == true || -n \${KAFKA_TLS_CA_FILE:-} ]]; then protocol=SASL_SSL; fi

umask 077
work=$(mktemp -d "\${TMPDIR:-/tmp}/dispatch-kafka-access.XXXXXX")
trap 'rm -rf "$work"' EXIT
{
  printf 'security.protocol=%s\\n' "$protocol"
  printf 'sasl.mechanism=SCRAM-SHA-512\\n'
  printf 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";\\n' \\
    "$admin_user" "$admin_password"
  if [[ -n \${KAFKA_TLS_CA_FILE:-} ]]; then
    [[ -r $KAFKA_TLS_CA_FILE ]] || fail "KAFKA_TLS_CA_FILE: cannot read $KAFKA_TLS_CA_FILE"
    printf 'ssl.truststore.type=PEM\\nssl.truststore.location=%s\\n' "$KAFKA_TLS_CA_FILE"
  fi
} >"$work/admin.properties"

# Short-lived CLI JVMs: a small heap and no optimising compiler start several times faster.
export KAFKA_HEAP_OPTS=\${KAFKA_HEAP_OPTS:--Xmx256m}
export KAFKA_JVM_PERFORMANCE_OPTS=\${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true}
configs() { "$bin/kafka-configs.sh" --bootstrap-server "$brokers" --command-config "$work/admin.properties" "$@"; }
acls() { "$bin/kafka-acls.sh" --bootstrap-server "$brokers" --command-config "$work/admin.properties" "$@"; }

declare -A ours=() held=() wanted=()

# login <principal> <password variable> <username variable> <required|optional>
login() {
  local name=$1 password=\${!2:-} username=\${!3:-}
  ours["User:$name"]=1
  if [[ -n $username && $username != "$name" ]]; then fail "$3 is '$username', the catalogue's principal is '$name'"; fi
  if [[ -z $password ]]; then
    [[ $4 == optional ]] || fail "set $2 (the password of $name)"
    echo "$name: no login ($2 is not set); its ACLs are kept"
    return 0
  fi
  check_password "$2" "$password"
  # An argument (ConfigCommand's --add-config-file mangles the SCRAM key): visible to this container only.
  configs --alter --entity-type users --entity-name "$name" --add-config "SCRAM-SHA-512=[password=$password]" >/dev/null
  echo "$name: SCRAM-SHA-512 login set"
}

# The ACLs the cluster holds, as principal|TYPE|PATTERN|host|OPERATION|PERMISSION|name.
acls --list >"$work/acls.txt"
resource=('' '' '')
while IFS= read -r line; do
  if [[ $line =~ resourceType=([A-Z_]+),\\ name=(.*),\\ patternType=([A-Z]+)\\) ]]; then
    resource=("\${BASH_REMATCH[1]}" "\${BASH_REMATCH[3]}" "\${BASH_REMATCH[2]}")
  elif [[ $line =~ \\(principal=(.+),\\ host=(.+),\\ operation=([A-Z_]+),\\ permissionType=([A-Z]+)\\) ]]; then
    held["\${BASH_REMATCH[1]}|\${resource[0]}|\${resource[1]}|\${BASH_REMATCH[2]}|\${BASH_REMATCH[3]}|\${BASH_REMATCH[4]}|\${resource[2]}"]=1
  fi
done <"$work/acls.txt"
added=0 removed=0

# grant <principal> <literal|prefixed> <Read|Write|Delete> <topic|group>:<name>...
grant() {
  local principal="User:$1" pattern=$2 operation=$3 missing= item type name key
  local args=()
  shift 3
  for item in "$@"; do
    type=\${item%%:*} name=\${item#*:}
    key="$principal|\${type^^}|\${pattern^^}|*|\${operation^^}|ALLOW|$name"
    wanted[$key]=1
    if [[ -z \${held[$key]:-} ]]; then missing=1 added=$((added + 1)); fi
    args+=("--$type" "$name")
  done
  if [[ -n $missing ]]; then
    acls --add --allow-principal "$principal" --allow-host '*' --operation "$operation" \\
      --resource-pattern-type "$pattern" "\${args[@]}" >/dev/null
    echo "$principal: $operation on $pattern $*"
  fi
}

# DESCRIBE_CONFIGS → DescribeConfigs, as the CLI's --operation spells it.
pascal() {
  local part rest out= IFS=_
  for part in $1; do
    rest=\${part:1}
    out+=\${part:0:1}\${rest,,}
  done
  printf '%s' "$out"
}

${logins.join('\n')}

${grants.join('\n')}

for key in "\${!held[@]}"; do
  [[ -z \${wanted[$key]:-} ]] || continue
  IFS='|' read -r principal type pattern host operation permission name <<<"$key"
  [[ -n \${ours[$principal]:-} ]] || continue
  case $type in
    TOPIC) target=(--topic "$name") ;;
    GROUP) target=(--group "$name") ;;
    CLUSTER) target=(--cluster) ;;
    TRANSACTIONAL_ID) target=(--transactional-id "$name") ;;
    DELEGATION_TOKEN) target=(--delegation-token "$name") ;;
    USER) target=(--user-principal "$name") ;;
    *)
      echo "$principal: $type $name is not a resource this script knows; left alone" >&2
      continue
      ;;
  esac
  acls --remove --force "--\${permission,,}-principal" "$principal" "--\${permission,,}-host" "$host" \\
    --operation "$(pascal "$operation")" --resource-pattern-type "\${pattern,,}" "\${target[@]}" >/dev/null
  removed=$((removed + 1))
  echo "$principal: revoked $permission $operation on \${pattern,,} \${type,,} $name"
done

echo "kafka-access: ${principals.length} principals; ACLs as the catalogue ($added added, $removed removed)"
`;
}

/** Writes k8s/base/kafka/access.sh; returns its path. */
export function writeKafkaAccessScript(): string {
  writeFileSync(KAFKA_ACCESS_SCRIPT, renderKafkaAccessScript(), { mode: 0o755 });
  return KAFKA_ACCESS_SCRIPT;
}
