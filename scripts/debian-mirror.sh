#!/usr/bin/env bash
# Prints the Debian archive this machine already installs a release from (default: bookworm), read
# from its apt sources only: deb822 files (sources.list.d/*.sources), then one-line lists
# (sources.list, sources.list.d/*.list). Exits 1 with a message when there is none.
# Usage: debian-mirror.sh [release]; APT_ETC overrides /etc/apt.
set -euo pipefail
release=${1:-bookworm}
apt_etc=${APT_ETC:-/etc/apt}

candidates() {
  local f
  for f in "$apt_etc"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # A stanza counts when it is enabled, of type deb, and lists the release among its suites.
    awk -v release="$release" '
      function stanza_end() {
        if (enabled != "no" && index(" " types " ", " deb ") && index(" " suites " ", " " release " ")) {
          split(uris, u, " ")
          print u[1]
        }
        types = ""; uris = ""; suites = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { stanza_end(); next }
      { key = tolower($1); $1 = "" }
      key == "types:" { types = $0 }
      key == "uris:" { uris = $0 }
      key == "suites:" { suites = $0 }
      key == "enabled:" { enabled = tolower($2) }
      END { stanza_end() }
    ' "$f"
  done
  for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [options] URI suite components...
    awk -v release="$release" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == release) print $i
      }
    ' "$f"
  done
}

mirror=$(candidates | awk 'NR == 1')
if [ -z "$mirror" ]; then
  echo "no Debian archive for $release in $apt_etc/sources.list.d/*.sources, $apt_etc/sources.list or" \
    "$apt_etc/sources.list.d/*.list: add the archive this machine should use" >&2
  exit 1
fi
echo "${mirror%/}"
