#!/usr/bin/env bash
# Generate the Python code of every proto under proto/ into $1 (default gen/python), as regular packages.
set -euo pipefail
out="${1:-gen/python}"
py="${PYTHON:-.venv/bin/python}"
rm -rf "$out/mynumber"
mkdir -p "$out"
mapfile -t files < <(find proto/mynumber -name '*.proto' | LC_ALL=C sort)
"$py" -m grpc_tools.protoc -I proto --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" "${files[@]}"
find "$out/mynumber" -type d -exec sh -c 'touch "$1/__init__.py"' _ {} \;
