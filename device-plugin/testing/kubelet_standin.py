#!/usr/bin/env python3
"""A kubelet stand-in on Python grpcio (gRPC C-core), for rdma-sriov's device-plugin tests.

It serves the kubelet's v1beta1 Registration service on <plugin dir>/kubelet.sock, validates a
registration as the kubelet does, then drives the plugin over its unix socket: options,
ListAndWatch (each device list is reported), Allocate, GetPreferredAllocation. A simulated
restart stops the server, drops every plugin connection, deletes every socket in the plugin
directory and serves a new kubelet.sock.

Usage: kubelet_standin.py GENERATED_STUBS_DIR PLUGIN_DIR
Commands arrive on stdin, one JSON object a line ({"id": N, "cmd": ...}); answers and events
leave on stdout, one JSON object a line. Nothing else is printed on stdout.
"""

import base64
import json
import os
import re
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, sys.argv[1])
PLUGIN_DIR = sys.argv[2]

import grpc  # noqa: E402
from deviceplugin.v1beta1 import api_pb2 as pb  # noqa: E402
from deviceplugin.v1beta1 import api_pb2_grpc as pb_grpc  # noqa: E402

VERSION = "v1beta1"
KUBELET_SOCK = os.path.join(PLUGIN_DIR, "kubelet.sock")
CHECKPOINT = "kubelet_internal_checkpoint"

_out = threading.Lock()


def emit(obj):
    with _out:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def valid_resource(name):
    domain, sep, rest = name.partition("/")
    if not sep or "/" in rest or not domain or len(domain) > 253 or len(rest) > 63:
        return False
    if domain == "kubernetes.io" or domain.endswith(".kubernetes.io"):
        return False
    return all(_LABEL.match(l) and len(l) <= 63 for l in domain.split(".")) and bool(_NAME.match(rest))


def valid_endpoint(ep):
    return ep not in ("", ".", "..", "kubelet.sock") and "/" not in ep and "\0" not in ep


class Endpoint:
    def __init__(self, endpoint, channel, stub, stream):
        self.endpoint = endpoint
        self.channel = channel
        self.stub = stub
        self.stream = stream
        self.alive = True

    def close(self):
        self.stream.cancel()
        self.channel.close()


endpoints = {}
lock = threading.Lock()


def consume(resource, ep):
    try:
        for resp in ep.stream:
            devices = [
                {"id": d.ID, "health": d.health, "numa": [n.ID for n in d.topology.nodes]}
                for d in resp.devices
            ]
            emit({"event": "devices", "resource": resource, "devices": devices})
    except grpc.RpcError:
        pass
    ep.alive = False


class Registration(pb_grpc.RegistrationServicer):
    def Register(self, request, context):
        def refuse(code, msg):
            emit({"event": "refused", "reason": msg})
            context.abort(code, msg)

        if request.version != VERSION:
            refuse(grpc.StatusCode.INVALID_ARGUMENT, "Unsupported version %r; supported: [%s]" % (request.version, VERSION))
        if not valid_resource(request.resource_name):
            refuse(grpc.StatusCode.INVALID_ARGUMENT, "%r is not an extended resource name" % request.resource_name)
        if not valid_endpoint(request.endpoint):
            refuse(grpc.StatusCode.INVALID_ARGUMENT, "endpoint %r must be a socket file name" % request.endpoint)
        with lock:
            old = endpoints.get(request.resource_name)
            if old is not None and old.endpoint != request.endpoint and old.alive:
                refuse(grpc.StatusCode.ALREADY_EXISTS, "another plugin serves %s" % request.resource_name)
        # C-core (since 1.57) sends the %-encoded socket path as :authority on unix sockets,
        # which hyper's h2 (so any tonic server) refuses with RST_STREAM(PROTOCOL_ERROR)
        # (grpc/grpc#38142, hyperium/h2#487). The Go kubelet sends "localhost"; so does this
        # stand-in, to talk to a tonic plugin as the kubelet does.
        channel = grpc.insecure_channel(
            "unix:" + os.path.join(PLUGIN_DIR, request.endpoint),
            options=[("grpc.default_authority", "localhost")],
        )
        stub = pb_grpc.DevicePluginStub(channel)
        try:
            options = stub.GetDevicePluginOptions(pb.Empty(), timeout=5)
        except grpc.RpcError as e:
            channel.close()
            context.abort(grpc.StatusCode.UNAVAILABLE, "cannot reach the plugin: %s" % e.details())
        stream = stub.ListAndWatch(pb.Empty())
        ep = Endpoint(request.endpoint, channel, stub, stream)
        with lock:
            old = endpoints.get(request.resource_name)
            endpoints[request.resource_name] = ep
        if old is not None:
            old.close()
        threading.Thread(target=consume, args=(request.resource_name, ep), daemon=True).start()
        emit({
            "event": "registered",
            "resource": request.resource_name,
            "endpoint": request.endpoint,
            "version": request.version,
            "options": {
                "pre_start_required": request.options.pre_start_required,
                "get_preferred_allocation_available": request.options.get_preferred_allocation_available,
            },
        })
        return pb.Empty()


server = None


def start_server():
    global server
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb_grpc.add_RegistrationServicer_to_server(Registration(), server)
    server.add_insecure_port("unix:" + KUBELET_SOCK)
    server.start()


def restart():
    server.stop(None).wait()
    with lock:
        old = list(endpoints.values())
        endpoints.clear()
    for ep in old:
        ep.close()
    for name in os.listdir(PLUGIN_DIR):
        if name != CHECKPOINT:
            os.remove(os.path.join(PLUGIN_DIR, name))
    start_server()


def stub_of(resource):
    with lock:
        ep = endpoints.get(resource)
    if ep is None:
        raise LookupError("no plugin registered for %s" % resource)
    return ep.stub


def error_of(e):
    return {"code": e.code().value[0], "message": e.details() or ""}


def allocate_request(ids):
    return pb.AllocateRequest(container_requests=[pb.ContainerAllocateRequest(devices_ids=ids)])


def encoded(resp):
    return {"ok": base64.b64encode(resp.container_responses[0].SerializeToString()).decode()}


def handle(cmd):
    kind = cmd["cmd"]
    if kind == "allocate":
        stub = stub_of(cmd["resource"])
        calls = [stub.Allocate.future(allocate_request(ids), timeout=60) for ids in cmd["requests"]]
        results = []
        for call in calls:
            try:
                results.append(encoded(call.result()))
            except grpc.RpcError as e:
                results.append(error_of(e))
        return {"results": results}
    if kind == "preferred":
        stub = stub_of(cmd["resource"])
        req = pb.PreferredAllocationRequest(container_requests=[pb.ContainerPreferredAllocationRequest(
            available_deviceIDs=cmd["available"],
            must_include_deviceIDs=cmd["must_include"],
            allocation_size=cmd["size"],
        )])
        try:
            resp = stub.GetPreferredAllocation(req, timeout=60)
            return {"ids": list(resp.container_responses[0].deviceIDs)}
        except grpc.RpcError as e:
            return {"error": error_of(e)}
    if kind == "bench_allocate":
        stub = stub_of(cmd["resource"])
        req = allocate_request(cmd["ids"])
        latencies = []
        for _ in range(cmd["count"]):
            start = time.perf_counter_ns()
            stub.Allocate(req, timeout=60)
            latencies.append(time.perf_counter_ns() - start)
        return {"latencies_ns": latencies}
    if kind == "restart":
        restart()
        return {"restarted": True}
    raise ValueError("unknown command %r" % kind)


def main():
    start_server()
    emit({"id": 0, "ready": True})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd.get("cmd") == "quit":
            break
        try:
            answer = handle(cmd)
        except Exception as e:  # the test sees every failure as an answer
            answer = {"failure": "%s: %s" % (type(e).__name__, e)}
        answer["id"] = cmd["id"]
        emit(answer)
    server.stop(None).wait()


if __name__ == "__main__":
    main()
