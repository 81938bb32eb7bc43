#!/usr/bin/env bash
# Installs the Debian packages the test suite uses for real (no mocks):
#   postgresql  - the service and scale-out tests start a server on loopback
#   chromium    - the reviewer console and HTML reports are tested in headless Chromium
#   ffmpeg      - video frames for the vPDQ signal
# Runs apt-get only when something is missing. Without root or apt the tests that
# need these parts skip with a reason, except under CI (CI=true), where this fails.
set -uo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  if apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    exit 0
  fi
  echo "apt-get install failed for: ${need[*]}" >&2
else
  echo "not root or no apt-get: cannot install ${need[*]}; tests needing them will skip" >&2
fi
if [ "${CI:-}" = "true" ]; then
  exit 1
fi
exit 0
