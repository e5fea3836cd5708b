#!/usr/bin/env bash
# Installs Debian packages through apt-get where the machine allows it (root,
# or password-less sudo), idempotently; where it cannot, says what is missing
# and for what, and exits 0: the caller decides whether that is fatal.
#   scripts/apt_install.sh "WHAT FOR" PACKAGE...
set -euo pipefail
purpose="$1"
shift
missing=()
for p in "$@"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(none); fi
fi
if ! command -v apt-get >/dev/null || [ "${sudo[0]:-}" = none ]; then
  echo "setup: $purpose needs the Debian packages ${missing[*]}; install them" \
    "(apt-get install ${missing[*]}) — cannot here (no apt-get, or not root)" >&2
  exit 0
fi
echo "setup: installing ${missing[*]} for $purpose (apt-get; a minute or two)"
export DEBIAN_FRONTEND=noninteractive
# Another set-up step may be running apt at the same moment: wait for its lock.
apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300)
if ! { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "setup: apt-get could not install ${missing[*]} for $purpose" >&2
fi
