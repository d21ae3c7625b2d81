#!/usr/bin/env bash
# Installs everything smarketing needs to build and test: Debian's packages,
# and grpcurl, ghz and buf from the Go module proxy. Safe to run again: it
# installs only what is missing.
set -euo pipefail

apt_packages=(
  build-essential cmake ninja-build pkg-config git
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  libabsl-dev libre2-dev libyaml-cpp-dev libsqlite3-dev libpqxx-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev pybind11-dev libsimdjson-dev
  libgoogle-perftools-dev
  python3-dev python3-venv
  libxml2-utils
  openjdk-17-jre-headless
  clang clang-format libclang-rt-14-dev
  openssl
  libcpp-httplib-dev libcurl4-openssl-dev
  chromium
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "Installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# grpcurl and ghz exercise the service (tests, benchmark), buf lints the
# schema and checks it for breaking changes; they come from the
# Go module proxy, built into build-tools/go/bin, at pinned versions.
gobin="$(cd "$(dirname "$0")/.." && pwd)/build-tools/go/bin"
go_tools=(
  grpcurl=github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
  ghz=github.com/bojand/ghz/cmd/ghz@v0.93.0
  buf=github.com/bufbuild/buf/cmd/buf@v1.47.2
)
for tool in "${go_tools[@]}"; do
  [ -x "$gobin/${tool%%=*}" ] && continue
  go=$(command -v go || echo /usr/local/go/bin/go)
  if [ ! -x "$go" ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go
    go=$(command -v go)
  fi
  echo "Installing ${tool%%=*} from the Go module proxy"
  GOBIN="$gobin" "$go" install "${tool#*=}"
done
