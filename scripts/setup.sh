#!/usr/bin/env bash
# Installs what is missing on a fresh machine: system packages (apt), uv, the venv, pinned packages, the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never

# pcscd + vpcd + OpenSC: the virtual card on the real PC/SC stack; libpcsclite-dev, swig, gcc: pyscard's build;
# softhsm2: the CA keys' HSM; openssl: interop checks.
# poppler-utils, zbar-tools: the notice tests read the PDFs back (text, QR); the fonts make rendered pages readable.
APT_PACKAGES=(pcscd libpcsclite-dev vsmartcard-vpcd opensc softhsm2 swig gcc openssl procps iproute2 util-linux
              poppler-utils poppler-data zbar-tools fonts-ipafont-gothic fonts-ipafont-mincho)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v uv >/dev/null || python3 -m pip install -q uv
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[[ -x .venv/bin/python ]] || uv venv -q -p "$PYTHON" .venv
export VIRTUAL_ENV=$PWD/.venv
uv pip install -q -r requirements.txt
pkgs=()
for f in gen/python/pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml; do
  [[ -f $f ]] && pkgs+=(-e "$(dirname "$f")")
done
uv pip install -q --no-deps "${pkgs[@]}"
echo "setup done: $(.venv/bin/python --version), $(ls -d gen/python libs/* services/* tools/* 2>/dev/null | wc -l) workspace packages"
