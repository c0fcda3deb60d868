#!/usr/bin/env bash
# Installs what is missing on a fresh Debian 12 / Ubuntu 24.04 machine: system packages (apt), uv, the venv, the
# pinned Python packages and the workspace. Needs nothing but bash and apt (run it as root, or install the listed
# packages first); `make` is one of the packages, so this script is the first command, `make setup` later ones.
# Runs from any folder: it works on the checkout that holds it.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
# The distribution's trust store, not uv's bundled roots: a machine behind a proxy with its own CA (installed by
# the admin into /usr/local/share/ca-certificates) reaches the package index as apt and git do.
export UV_NATIVE_TLS=${UV_NATIVE_TLS:-1}

# The base a stock image may lack: make (every later command), git (`make check-generated`, `make lock`), Python
# with venv (the uv bootstrap) and headers plus gcc (pyscard builds from source), ca-certificates (HTTPS to the
# package index).
BASE_PACKAGES=(make git ca-certificates python3 python3-venv python3-dev gcc)
# pcscd + vpcd + OpenSC: the virtual card on the real PC/SC stack; libpcsclite-dev, swig: pyscard's build;
# softhsm2: the CA keys' HSM; openssl: interop checks; procps, iproute2, util-linux: the tests' process tools.
# poppler-utils, zbar-tools: the notice tests read the PDFs back (text, QR); the fonts make rendered pages readable.
APT_PACKAGES=("${BASE_PACKAGES[@]}" pcscd libpcsclite-dev vsmartcard-vpcd opensc softhsm2 swig openssl procps
              iproute2 util-linux poppler-utils poppler-data zbar-tools fonts-ipafont-gothic fonts-ipafont-mincho)
# uv is installed into a private venv under var/ when none is on PATH; the system Python gets no package.
UV_VERSION=0.13.9
UV_BOOTSTRAP=var/uv

fail() { echo "setup: $*" >&2; exit 1; }

if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # Captured, not piped into grep -q: under pipefail an early grep exit fails the writer with SIGPIPE.
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      fail "missing system packages; as root run: apt-get update && apt-get install -y ${missing[*]}
       (or: sudo apt-get update && sudo apt-get install -y ${missing[*]}), then run this again"
    fi
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq
    # A package with no candidate is usually in a component the sources do not enable (Ubuntu: universe).
    absent=()
    for p in "${missing[@]}"; do
      policy=$(apt-cache policy "$p" 2>/dev/null || true)
      [[ $policy =~ Candidate:\ [^\(] ]] || absent+=("$p")
    done
    if ((${#absent[@]})); then
      fail "apt has no package ${absent[*]}: enable the component that holds it (Ubuntu: universe, e.g.
       'add-apt-repository universe' or 'universe' on the deb lines of /etc/apt/sources.list.d/), then run this again"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "setup: no apt here; install the equivalents of: ${APT_PACKAGES[*]}" >&2
fi

# The interpreter: the distribution's (3.11 on Debian 12, 3.12 on Ubuntu 24.04), or PYTHON=/path/to/python3.x.
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
[[ -n $PYTHON ]] || fail "no python3 found: install python3 python3-venv python3-dev (Python >= 3.11)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  fail "$PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); the platform needs >= 3.11:
       install one (e.g. apt-get install python3.11 python3.11-venv python3.11-dev) and run PYTHON=python3.11 $0"

# uv: the one on PATH, else a pinned copy in a private venv (pip inside a venv: the system Python stays untouched,
# no --break-system-packages).
UV=${UV:-$(command -v uv || true)}
if [[ -z $UV ]]; then
  UV=$UV_BOOTSTRAP/bin/uv
  if ! { [[ -x $UV ]] && [[ $("$UV" --version) == "uv $UV_VERSION"* ]]; }; then
    echo "setup: installing uv $UV_VERSION into $UV_BOOTSTRAP"
    rm -rf "$UV_BOOTSTRAP"
    "$PYTHON" -m venv "$UV_BOOTSTRAP" ||
      fail "'$PYTHON -m venv' failed: install python3-venv (Debian/Ubuntu) and run this again"
    "$UV_BOOTSTRAP/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
  fi
fi

# A .venv whose interpreter no longer runs (copied from another machine, Python removed) is made again.
if [[ -e .venv ]] && ! .venv/bin/python -c '' 2>/dev/null; then
  echo "setup: .venv does not run here; making it again"
  rm -rf .venv
fi
[[ -x .venv/bin/python ]] || "$UV" venv -q -p "$PYTHON" .venv
export VIRTUAL_ENV=$PWD/.venv
"$UV" pip install -q -r requirements.txt
pkgs=()
for f in gen/python/pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml; do
  [[ -f $f ]] && pkgs+=(-e "$(dirname "$f")")
done
"$UV" pip install -q --no-deps "${pkgs[@]}"
echo "setup done: $(.venv/bin/python --version), $((${#pkgs[@]} / 2)) workspace packages, in $PWD"
