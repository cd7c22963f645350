#!/usr/bin/env bash
# npm's pretest: the suite needs two Debian programs besides node_modules — chromium at /usr/bin/chromium
# (browser tests, driven by playwright-core) and redis-server at /usr/bin/redis-server (Redis adapter tests).
# Present: does nothing. Missing and root: apt-get update, then installs them. Missing otherwise: one line
# naming the command to run, and npm test stops.
# PROVISION_CHROMIUM / PROVISION_REDIS_SERVER replace the two paths checked; they exist only to try the
# "missing" path of this script (the tests themselves always use the /usr/bin paths).
set -euo pipefail

chromium=${PROVISION_CHROMIUM:-/usr/bin/chromium}
redis_server=${PROVISION_REDIS_SERVER:-/usr/bin/redis-server}

missing=()
[ -x "$chromium" ] || missing+=(chromium)
[ -x "$redis_server" ] || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs Debian's ${missing[*]}: run  sudo apt-get install -y ${missing[*]}  then npm test again" >&2
  exit 1
fi

echo "npm test: installing ${missing[*]} with apt-get (missing on this machine)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
