#!/usr/bin/env bash
# Installs what fasmcov needs on a fresh Debian machine with Node 20, and says what it does:
# the Debian packages in scripts/debian-packages.txt (apt-get, as root or through sudo) and
# node_modules (npm ci). Does nothing when all is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'fasmcov setup: %s\n' "$*" >&2; }

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done < scripts/debian-packages.txt

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    say "missing Debian packages: ${missing[*]}; run as root: apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Debian's fasm is a 32-bit program; where the kernel cannot run 32-bit code (no IA-32
# emulation), fasmcov runs it through qemu-i386 (see packages/fas/src/fasm-runner.ts).
native=$(fasm 2>&1 || true)
if [[ "$native" != *"flat assembler"* ]]; then
  emulated=$(qemu-i386 "$(command -v fasm)" 2>&1 || true)
  if [[ "$emulated" == *"flat assembler"* ]]; then
    say "this kernel cannot run 32-bit programs; fasm runs through qemu-i386"
  else
    say "fasm does not run here, not even through qemu-i386"
    exit 1
  fi
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing node modules (npm ci)"
  npm ci --no-audit --no-fund >&2
fi
