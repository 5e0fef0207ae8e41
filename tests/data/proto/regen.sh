#!/bin/sh
# Regenerate the wire goldens with protoc --encode (Debian protobuf-compiler)
# from dorafs's own .proto files (requests) and newer_server.proto (server
# responses carrying fields dorafs does not know).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
proto=$(cd "$here/../../../proto" && pwd)
enc() { # type proto-file proto-path input output
	protoc --encode="$1" -I "$3" "$2" < "$here/$4" > "$here/$5"
}
enc alluxio.grpc.file.GetStatusPRequest grpc/file_system_master.proto "$proto" get_status_request.txt get_status_request.bin
enc alluxio.grpc.file.ListStatusPRequest grpc/file_system_master.proto "$proto" list_status_request.txt list_status_request.bin
enc alluxio.grpc.file.ExistsPRequest grpc/file_system_master.proto "$proto" exists_request.txt exists_request.bin
enc alluxio.grpc.block.CacheDataRequest grpc/block_worker.proto "$proto" cache_data_request.txt cache_data_request.bin
enc alluxio.grpc.block.ReadRequest grpc/block_worker.proto "$proto" read_request_first.txt read_request_first.bin
enc alluxio.grpc.block.ReadRequest grpc/block_worker.proto "$proto" read_request_ack.txt read_request_ack.bin
enc alluxio.grpc.sasl.SaslMessage grpc/sasl_server.proto "$proto" sasl_challenge.txt sasl_challenge.bin
enc alluxio.grpc.sasl.SaslMessage grpc/sasl_server.proto "$proto" sasl_success.txt sasl_success.bin
enc alluxio.grpc.PMode grpc/common.proto "$proto" pmode_0754.txt pmode_0754.bin
enc alluxio.grpc.file.GetStatusPResponse newer_server.proto "$here" get_status_response_newer.txt get_status_response_newer.bin
enc alluxio.grpc.file.ListStatusPResponse newer_server.proto "$here" list_status_response_newer.txt list_status_response_newer.bin
enc alluxio.grpc.file.ReadResponse newer_server.proto "$here" read_response_newer.txt read_response_newer.bin
