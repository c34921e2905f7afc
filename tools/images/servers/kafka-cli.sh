#!/bin/bash
# The Kafka scripts the compose file and the k8s Jobs call, as in the apache/kafka image, each a
# main class of the jars in /opt/kafka/libs (chosen by the name it is called by).
set -euo pipefail
case $(basename "$0") in
  kafka-server-start.sh) main=kafka.Kafka ;;
  kafka-storage.sh) main=kafka.tools.StorageTool ;;
  kafka-topics.sh) main=org.apache.kafka.tools.TopicCommand ;;
  kafka-configs.sh) main=kafka.admin.ConfigCommand ;;
  kafka-acls.sh) main=org.apache.kafka.tools.AclCommand ;;
  kafka-broker-api-versions.sh) main=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
  *) echo "kafka-cli.sh: called as $(basename "$0"): no such tool" >&2; exit 64 ;;
esac
if [[ $main == kafka.Kafka ]]; then
  heap=${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}
  logging=/opt/kafka/config/log4j2.properties
else
  heap=${KAFKA_TOOLS_HEAP_OPTS:--Xmx256m}
  logging=/opt/kafka/config/tools-log4j2.properties
fi
# shellcheck disable=SC2086 # the heap options are words
exec java $heap -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile="$logging" \
  -cp '/opt/kafka/libs/*' "$main" "$@"
