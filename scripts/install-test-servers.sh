#!/usr/bin/env bash
# The store and cluster suites start real servers (tools/test-servers):
# nats-server and PostgreSQL's initdb/postgres. On a Debian-like machine as
# root, installs whichever is missing; elsewhere prints one line saying what to
# install (the suites then fail with the same line, they never skip).
# Run by `pnpm test` and `.ci/run`; a no-op when both are there.
set -uo pipefail

missing=()
if [ -z "${MK_NATS_SERVER:-}" ] && ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  missing+=(nats-server)
fi
if [ -z "${MK_PG_BIN:-}" ] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "install-test-servers: installing ${missing[*]}"
  # The tests start their own clusters: the package's default one is not needed.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  fi
  export DEBIAN_FRONTEND=noninteractive
  # --force-confold keeps the createcluster.conf written above without a conffile prompt.
  apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
      -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null && exit 0
  echo "install-test-servers: apt-get install ${missing[*]} failed" >&2
  exit 1
fi
echo "install-test-servers: missing ${missing[*]}: install them (Debian/Ubuntu: apt-get install -y ${missing[*]}); the store tests need them" >&2
exit 0
