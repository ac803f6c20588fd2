#!/usr/bin/env bash
# Build the Go client of collector.algorithm.v1 offline, from Debian's Go packages
# (golang-go, golang-google-grpc-dev, golang-google-protobuf-dev under /usr/share/gocode):
# protoc-gen-go and protoc-gen-go-grpc are built from their sources there, the stubs are
# generated into a temporary GOPATH, nothing generated is committed.
# usage: build.sh OUT_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=${1:?usage: build.sh OUT_BINARY}
work=$(mktemp -d /tmp/collector-goclient.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOCACHE="${GOCACHE:-$work/cache}"
mkdir -p "$work/bin" "$work/gopath/src/collector/algoclient"
go build -o "$work/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$work/bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
PATH="$work/bin:$PATH" protoc -I"$repo/proto" --go_out="$work/gopath/src" --go-grpc_out="$work/gopath/src" \
	collector/algorithm/v1/algorithm.proto
cp "$here/algoclient/main.go" "$work/gopath/src/collector/algoclient/"
go build -o "$out" collector/algoclient
