#!/usr/bin/env bash
# The browser test's system packages (tests/browser/), from Debian through
# apt, idempotently: Chromium and its ChromeDriver (the test drives the
# system browser; nothing may download a browser build of its own) and a CJK
# font, without which the notebooks' Korean text renders as boxes.
#
# Called by scripts/test.sh (running the notebooks needs no browser). A no-op when all are there; otherwise installs
# them where the machine allows it (root, or password-less sudo, and apt-get).
# Where it can't, it says what is missing and carries on: the browser test
# then fails with the same message, it never passes without a browser.
set -euo pipefail

packages=(chromium chromium-driver fonts-noto-cjk)
missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && exit 0
[ ${#missing[@]} -eq 0 ] && missing=("${packages[@]}") # installed, yet a binary is gone

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(none); fi
fi
if ! command -v apt-get >/dev/null || [ "${sudo[0]:-}" = none ]; then
  echo "setup: the browser test needs the Debian packages ${missing[*]}; install them" \
    "(apt-get install ${missing[*]}) — cannot here (no apt-get, or not root)" >&2
  exit 0
fi
echo "setup: installing ${missing[*]} for the browser test (apt-get; a minute or two)"
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq &&
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "setup: apt-get could not install ${missing[*]}; the browser test will fail until they are there" >&2
fi
