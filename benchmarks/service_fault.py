#!/usr/bin/env python3
"""Faults under smarketing-server's store, on loopback: what clients are
told, whether anything acknowledged is lost, and whether the server
recovers once the fault is gone. The store lives on a small tmpfs of its
own, so this needs root (mount).

1. The disk fills up: leads are written until writes fail, then the tmpfs
   grows and writes must succeed again, without a restart.
2. The store's file is made read-only (chmod 0444) during writes; the
   server is killed (kill -9) and restarted on it, then it is made
   writable again and the server restarted.
After each, every acknowledged lead must be there.

Usage: sudo benchmarks/service_fault.py SERVER_BINARY [--disk-mib 4]
(the server runs as the user nobody, whom file permissions bind)
Exits 1 when an acknowledged lead is missing or the server does not
recover. Outside CI.
"""

import argparse
import collections
import datetime
import importlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from service_probe import MARKETING, READER, hot_lead, start, stubs  # noqa: E402


class Writer:
    """Upserts leads of about 16 kB, one at a time, remembering which were
    acknowledged and what the refusals said."""

    def __init__(self, pb, address, prefix):
        import grpc
        self.grpc = grpc
        self.pb = pb
        self.connect(address)
        self.prefix = prefix
        self.n = 0
        self.acked = []
        self.errors = collections.Counter()
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)

    def connect(self, address):
        self.stub = self.pb.lead_service_pb2_grpc.LeadServiceStub(
            self.grpc.insecure_channel(address))

    def write(self):
        lead = hot_lead(self.pb.lead_pb2, self.pb.event_pb2,
                        f"{self.prefix}-{self.n:06d}", self.now)
        lead.attributes["filler"] = "x" * 16000
        self.n += 1
        try:
            self.stub.UpsertLead(self.pb.lead_service_pb2.UpsertLeadRequest(
                lead=lead), metadata=MARKETING, timeout=30)
            self.acked.append(lead.id)
            return True
        except self.grpc.RpcError as e:
            self.errors[f"{e.code().name}: {e.details()}"] += 1
            return False


def missing(pb, address, ids):
    import grpc
    stub = pb.lead_service_pb2_grpc.LeadServiceStub(grpc.insecure_channel(address))
    lost = []
    for lead_id in ids:
        try:
            stub.GetLead(pb.lead_service_pb2.GetLeadRequest(lead_id=lead_id),
                         metadata=READER, timeout=30)
        except grpc.RpcError:
            lost.append(lead_id)
    return lost


def restart_after_kill(binary, process, store, prefix):
    process.send_signal(signal.SIGKILL)
    process.wait()
    return start(binary, store, prefix)


def report(title, writer):
    print(f"{title}: {len(writer.acked)} acknowledged; refusals:")
    for message, count in writer.errors.most_common():
        print(f"  {count} x {message}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--disk-mib", type=int, default=4)
    args = parser.parse_args()
    stubs()
    # The generated modules, imported once stubs() has written them.
    pb = types.SimpleNamespace(**{name: importlib.import_module(f"smarketing.v1.{name}")
                                  for name in ("event_pb2", "lead_pb2", "lead_service_pb2", "lead_service_pb2_grpc")})
    work = pathlib.Path(tempfile.mkdtemp(prefix="smarketing-fault-"))
    disk = work / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.disk_mib}m",
                    "tmpfs", str(disk)], check=True)
    store = disk / "store.db"
    # File permissions do not stop root: the server runs as nobody.
    os.chmod(work, 0o755)
    os.chown(disk, 65534, 65534)
    nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    failed = False
    process = None
    try:
        # 1. The disk fills up.
        process, address = start(args.server, store, nobody)
        full = Writer(pb, address, "full")
        refused_in_a_row = 0
        while refused_in_a_row < 20 and full.n < 100000:
            refused_in_a_row = 0 if full.write() else refused_in_a_row + 1
        report(f"disk full ({args.disk_mib} MiB tmpfs)", full)
        lost = missing(pb, address, full.acked)
        print(f"disk full: {len(lost)} acknowledged leads unreadable while full")
        subprocess.run(["mount", "-o", f"remount,size={args.disk_mib * 4}m",
                        str(disk)], check=True)
        before = len(full.acked)
        for _ in range(50):
            full.write()
        recovered = len(full.acked) - before
        print(f"disk full: after the tmpfs grew, {recovered}/50 writes "
              f"acknowledged without a restart")
        failed |= recovered != 50 or bool(lost)
        process, address = restart_after_kill(args.server, process, store, nobody)
        lost = missing(pb, address, full.acked)
        print(f"disk full: after kill -9 and restart, {len(lost)} of "
              f"{len(full.acked)} acknowledged leads missing")
        failed |= bool(lost)

        # 2. The store's file is made read-only during writes, then the
        # server restarts on it, then it is writable again.
        subprocess.run(["mount", "-o", f"remount,size={args.disk_mib * 64}m",
                        str(disk)], check=True)
        writer = Writer(pb, address, "ro")
        stop = threading.Event()

        def keep_writing():
            while not stop.is_set():
                writer.write()
                time.sleep(0.01)
        thread = threading.Thread(target=keep_writing)
        thread.start()
        time.sleep(1)
        acked_before = len(writer.acked)
        os.chmod(store, 0o444)
        time.sleep(2)
        stop.set()
        thread.join()
        report("read-only file during writes (chmod 0444)", writer)
        print(f"read-only file: {len(writer.acked) - acked_before} writes "
              f"acknowledged after the chmod (the server's open descriptors "
              f"stay writable)")
        process.send_signal(signal.SIGKILL)
        process.wait()
        try:
            process, address = start(args.server, store, nobody)
            print("read-only file: the server restarted on it")
            writer.connect(address)
            before = len(writer.acked)
            for _ in range(5):
                writer.write()
            report("read-only file after a restart", writer)
            failed |= len(writer.acked) != before
        except RuntimeError as e:
            print(f"read-only file: the server refused to start: {e}")
            process = None
        os.chmod(store, 0o644)
        if process is not None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        process, address = start(args.server, store, nobody)
        writer.connect(address)
        before = len(writer.acked)
        for _ in range(20):
            writer.write()
        recovered = len(writer.acked) - before
        lost = missing(pb, address, writer.acked + full.acked)
        print(f"read-only file: writable again and restarted: {recovered}/20 "
              f"writes acknowledged; {len(lost)} of "
              f"{len(writer.acked) + len(full.acked)} acknowledged leads "
              f"missing")
        failed |= recovered != 20 or bool(lost)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        subprocess.run(["umount", str(disk)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    print("fault: FAIL" if failed else "fault: PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
