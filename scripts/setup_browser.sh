#!/usr/bin/env bash
# The browser test's system packages (tests/browser/), from Debian through
# apt, idempotently: Chromium and its ChromeDriver (the test drives the
# system browser; nothing may download a browser build of its own) and a CJK
# font, without which the notebooks' Korean text renders as boxes.
#
# Called by scripts/test.sh (running the notebooks needs no browser). A no-op
# when all are there; otherwise installs them where the machine allows it.
# Where it can't, it says what is missing and carries on: the browser test
# then fails with the same message, it never passes without a browser.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
packages=(chromium chromium-driver fonts-noto-cjk)
"$here/apt_install.sh" "the browser test" "${packages[@]}"
