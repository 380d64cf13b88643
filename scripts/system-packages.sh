#!/usr/bin/env bash
# Check the Debian packages MeterOps needs and install the missing ones.
#
# Usage: scripts/system-packages.sh demo|test
#   demo: WeasyPrint's Pango libraries, a CJK font for PDF bills, gettext to
#         compile translations, poppler-utils to read PDFs back as text.
#   test: the same plus Debian's Chromium, which the browser tests drive.
# As root the missing packages are installed with apt-get. Otherwise the
# script prints the apt-get command to run and exits with status 1.
set -euo pipefail

purpose=${1:-demo}
packages=(libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei gettext poppler-utils)
case $purpose in
  demo) ;;
  test) packages+=(chromium) ;;
  *)
    echo "Unknown purpose '$purpose'; use demo or test." >&2
    exit 2
    ;;
esac

# Debian splits venv and ensurepip out of python3 into python3-venv.
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  packages+=(python3-venv)
fi

if ! command -v dpkg-query >/dev/null; then
  echo "This is not a Debian-based system, so the packages were not checked." >&2
  echo "Make sure these (or your system's equivalents) are installed: ${packages[*]}" >&2
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [[ $status != "install ok installed" ]]; then
    missing+=("$package")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "MeterOps needs these Debian packages, which are not installed: ${missing[*]}" >&2
  echo "Install them, then run make again:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
