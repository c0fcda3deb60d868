#!/usr/bin/env bash
# Runs scripts/setup.sh on a stock distribution and smoke-tests the result: a minimal Debian 12 (bookworm) or
# Ubuntu 24.04 (noble) root made by debootstrap, this checkout copied into /root/mynumber (mode 0700, as on a
# real machine), setup run there as root with nothing else installed. Needs root and debootstrap on the host.
#   bash scripts/fresh_setup_check.sh bookworm|noble [keep]
# The root lives under var/fresh/<release> (gitignored); every mount is undone on exit, and the root is removed
# unless `keep` is given (then it stays, unmounted, and a second run reuses it).
set -euo pipefail
cd "$(dirname "$0")/.."
release=${1:?usage: fresh_setup_check.sh bookworm|noble [keep]}
keep=${2:-}
case $release in
  bookworm) mirror=http://deb.debian.org/debian
            sources="deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main" ;;
  # The stock image's components (universe holds vsmartcard-vpcd and the IPA fonts).
  noble)    mirror=http://archive.ubuntu.com/ubuntu
            sources="deb $mirror noble main restricted universe multiverse
deb $mirror noble-updates main restricted universe multiverse
deb http://security.ubuntu.com/ubuntu noble-security main restricted universe multiverse" ;;
  *) echo "unknown release $release (bookworm or noble)" >&2; exit 2 ;;
esac
root=$PWD/var/fresh/$release
mounted=()
cleanup() {
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  if [[ -z $keep ]]; then rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT

if [[ ! -x $root/usr/bin/apt-get ]]; then
  mkdir -p "$root"
  # minbase: what a container image has (no make, git, Python, compiler or CA bundle).
  extra=()
  [[ $release == noble && ! -e /usr/share/debootstrap/scripts/noble ]] && extra=(/usr/share/debootstrap/scripts/gutsy)
  gpg=()
  [[ $release == noble && ! -e /usr/share/keyrings/ubuntu-archive-keyring.gpg ]] && gpg=(--no-check-gpg)
  debootstrap --variant=minbase "${gpg[@]}" "$release" "$root" "$mirror" "${extra[@]}"
fi
printf '%s\n' "$sources" > "$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# This host's site CAs (an egress proxy's): a machine on this network has them in its store as well.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
for m in proc sys dev dev/pts; do
  mkdir -p "$root/$m"
  case $m in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sys "$root/sys" ;;
    *) mount --bind "/$m" "$root/$m" ;;
  esac
  mounted+=("$root/$m")
done
# The checkout as git sees it (tracked and new files, nothing ignored: no .venv, no var/).
rm -rf "$root/root/mynumber"
mkdir -p "$root/root/mynumber"
git ls-files -z --cached --others --exclude-standard | tar -c --null -T - | tar -x -C "$root/root/mynumber"

run() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
          LANG=C.UTF-8 TERM=dumb /bin/bash -c "$1"; }
echo "== $release: before setup: $(run 'for c in make git python3 gcc uv curl; do command -v $c >/dev/null && printf "%s " $c; done; echo')"
# From another folder, as the README says.
run 'cd /tmp && bash /root/mynumber/scripts/setup.sh'
run 'cd /root/mynumber && make setup'
run 'cd /root/mynumber && .venv/bin/python -c "import sys, numbering, notice, jpki; print(\"imports ok on\", sys.version.split()[0])"'
run 'cd /root/mynumber && .venv/bin/python -m pytest -q -p no:cacheprovider -x services/numbering/tests/unit libs/runtime/tests/unit'
echo "== $release: setup and smoke passed"
