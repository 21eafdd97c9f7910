#!/usr/bin/env bash
# Installs the Debian 12 packages queuelens builds and tests with, skipping what is present.
# Usage: scripts/install-deps.sh [build|test|all]   (default: all)
set -euo pipefail

build_pkgs=(
  cmake ninja-build g++ pkg-config
  clang libclang-rt-14-dev  # the fuzz preset: clang and its libFuzzer/sanitizer runtimes
  prometheus-cpp-dev libcivetweb-dev libcurl4-openssl-dev rapidjson-dev libsimdjson-dev
  libspdlog-dev zlib1g-dev libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libcpp-httplib-dev clang-format clang-tidy
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler  # the KEDA external scaler
)
# libtorch-dev: DeepScaler's model, queuelens-train and their tests (optional for a build);
# libopenblas0-serial: the BLAS libtorch runs on, single-threaded (without it Debian's reference
# BLAS makes a deepscaler prediction about 3x slower).
test_pkgs=(prometheus curl nodejs npm python3 python3-yaml kubernetes-client libtorch-dev
  libopenblas0-serial)

want=("${build_pkgs[@]}")
case "${1:-all}" in
  build) ;;
  test | all) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # A tool already on PATH (e.g. node from another install) counts as present.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
    python3-yaml) python3 -c 'import yaml' >/dev/null 2>&1 && continue ;;
    kubernetes-client) command -v kubectl >/dev/null 2>&1 && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
