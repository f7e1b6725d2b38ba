#!/usr/bin/env python3
"""A real gRPC server and client for the grpc_* fault tests, with Debian's python3-grpcio.

  grpc_check.py serve       serves test.Echo (methods Say and Shout, bytes in, bytes out) on
                            127.0.0.1, a free port; prints "port=N pid=P" and serves until killed
  grpc_check.py call ADDR [--times]
                            calls Say and Shout once each through ADDR; prints one line per call:
                            "<method> OK <reply>" or "<method> <STATUS_CODE> <details>", with
                            --times then " <seconds the call took>"
Exits 77 when grpc cannot be imported (the test then skips, saying so). No generated stubs: the
service is a generic handler on raw bytes.
"""
import os
import sys
import time

try:
    import grpc
except ImportError as e:  # pragma: no cover - depends on the host
    print(f"python3-grpcio is not installed ({e}); install the Debian package python3-grpcio", file=sys.stderr)
    sys.exit(77)

from concurrent import futures

SERVICE = "test.Echo"
METHODS = ("Say", "Shout")


def identity(b):
    return b


def serve():
    def say(request, context):
        return b"said " + request

    def shout(request, context):
        return b"SHOUTED " + request.upper()

    handlers = {
        "Say": grpc.unary_unary_rpc_method_handler(say, request_deserializer=identity, response_serializer=identity),
        "Shout": grpc.unary_unary_rpc_method_handler(shout, request_deserializer=identity, response_serializer=identity),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"port={port} pid={os.getpid()}", flush=True)
    parent = os.getppid()
    while os.getppid() == parent:  # ends with the test that started it
        time.sleep(0.5)
    server.stop(0)


def call(address, times):
    with grpc.insecure_channel(address) as channel:
        for method in METHODS:
            stub = channel.unary_unary(f"/{SERVICE}/{method}", request_serializer=identity, response_deserializer=identity)
            start = time.monotonic()
            try:
                reply = stub(b"hello", timeout=20)
                line = f"{method} OK {reply.decode()}"
            except grpc.RpcError as e:
                line = f"{method} {e.code().name} {e.details()}"
            if times:
                line += f" {time.monotonic() - start:.3f}"
            print(line, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "serve":
        serve()
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "call":
        call(sys.argv[2], sys.argv[3:] == ["--times"])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
