#!/usr/bin/python3
"""cqlsh for the server image: the options k8s/base/cassandra/roles.sh uses, on Debian's driver.

  cqlsh HOST PORT -u USER --credentials=FILE [--request-timeout=SECONDS] -e 'STATEMENT'

FILE is cqlsh's credentials file ([PlainTextAuthProvider] username/password). Each row is printed
on its own line, its columns separated by " | " and each value as cqlsh prints it (True/False), after a
header line and a separator; exit 1 with the error on stderr when the statement fails, 2 on bad usage.
"""
import argparse
import configparser
import sys

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster


def main() -> int:
    parser = argparse.ArgumentParser(prog="cqlsh", add_help=True)
    parser.add_argument("host", nargs="?", default="127.0.0.1")
    parser.add_argument("port", nargs="?", type=int, default=9042)
    parser.add_argument("-u", "--username")
    parser.add_argument("-p", "--password")
    parser.add_argument("--credentials")
    parser.add_argument("--request-timeout", type=float, default=10.0)
    parser.add_argument("-e", "--execute", required=True)
    args = parser.parse_args()
    username, password = args.username, args.password
    if args.credentials:
        credentials = configparser.ConfigParser()
        credentials.read(args.credentials)
        section = credentials["PlainTextAuthProvider"]
        username = username or section.get("username")
        password = password or section.get("password")
    auth = PlainTextAuthProvider(username=username, password=password) if username else None
    cluster = Cluster([args.host], port=args.port, auth_provider=auth, protocol_version=5,
                      connect_timeout=args.request_timeout)
    try:
        session = cluster.connect()
        rows = session.execute(args.execute, timeout=args.request_timeout)
        names = list(rows.column_names or [])
        if names:
            print(" " + " | ".join(names))
            print("-" * (sum(len(n) + 3 for n in names)))
            for row in rows:
                print(" " + " | ".join(str(value) for value in row))
        return 0
    except Exception as error:  # noqa: BLE001 - cqlsh reports any failure the same way
        print(f"cqlsh: {error}", file=sys.stderr)
        return 1
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main())
