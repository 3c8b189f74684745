#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes seed corpora for the fuzzers in Tests/Fuzz from packet traces, at run time.

Traces are never copied into the repository; scripts/fuzz.sh calls this on ../shared's corpus.
Each seed is laid out in the input format its fuzzer documents at the top of its main.swift:
  decode/     link selector byte + one frame
  tunnels/    parser byte + shape byte + the bytes after the outer IP or UDP header
  fragments/  reassembler shape bytes + (time step, length, raw IP packet) records: the trace's own
              fragments, and large IPv4 packets cut into fragments here (in and out of order)
  worker/     link selector byte + (time step, length, frame) records: windows of each trace
  dns/        options byte + one DNS message (UDP 53, 137, 5353, 5355 payloads)
  ntp/        one NTP payload (UDP 123)
  dhcp/       one DHCP payload (UDP 67, 68, 4011)
  http/       (control byte, length, bytes) records: TCP payloads on HTTP ports, in trace order
  tls/ ssh/ ftp/ smtp/ dnstcp/
              the same records, one seed per TCP connection on the protocol's ports (its first
              payloads, in trace order)
  x509/       one DER certificate, cut from the server side of the TLS connections

usage: seeds.py OUTDIR TRACE...   (pcapng input is converted with tcpdump first)
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

# Same order as the link selector of fuzz-decode and fuzz-worker.
LINK_TYPES = [1, 101, 0, 108, 113, 276, 228, 229]
# UDP ports whose payloads seed fuzz-dns, and TCP ports whose payloads seed fuzz-http.
DNS_PORTS = (53, 137, 5353, 5355)
HTTP_PORTS = (80, 81, 631, 1080, 3128, 6669, 8000, 8080, 8888)
# TCP ports whose connections seed the stream fuzzers that take one connection per input.
STREAM_PORTS = {
    "tls": (443, 465, 563, 636, 853, 993, 995, 5223, 8443),
    "ssh": (22,),
    "ftp": (21,),
    "smtp": (25, 587),
    "dnstcp": (53,),
}
# Parser byte of fuzz-tunnels by UDP port.
UDP_TUNNELS = {4789: 1, 6081: 2, 2152: 3, 2123: 3, 3544: 4, 5072: 5}


def read_pcap(path):
    """Returns (linktype, [(seconds, micros, bytes)]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as tmp:
            converted = tmp.name
        subprocess.run(["tcpdump", "-r", path, "-w", converted], check=True, capture_output=True)
        try:
            return read_pcap(converted)
        finally:
            os.unlink(converted)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    nanos = magic in (0xA1B23C4D, 0x4D3CB2A1)
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    frames, at = [], 24
    while at + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        at += 16
        frames.append((sec, frac // 1000 if nanos else frac, data[at:at + incl]))
        at += incl
    return linktype, frames


def network_offset(linktype, frame):
    """Offset of the IP header in a frame, or None."""
    if linktype in (101, 228, 229):
        return 0
    if linktype in (0, 108):
        return 4
    if linktype == 113:
        etype, at = struct.unpack(">H", frame[14:16])[0], 16
    elif linktype == 276:
        etype, at = struct.unpack(">H", frame[0:2])[0], 20
    elif linktype == 1:
        if len(frame) < 14:
            return None
        etype, at = struct.unpack(">H", frame[12:14])[0], 14
    else:
        return None
    while etype in (0x8100, 0x88A8, 0x9100) and at + 4 <= len(frame):
        etype, at = struct.unpack(">H", frame[at + 2:at + 4])[0], at + 4
    if etype == 0x8864 and at + 8 <= len(frame):
        ppp = struct.unpack(">H", frame[at + 6:at + 8])[0]
        etype, at = {0x21: 0x0800, 0x57: 0x86DD}.get(ppp, 0), at + 8
    return at if etype in (0x0800, 0x86DD) else None


def ip_fields(packet):
    """(version, protocol, header length, is fragment) of a raw IP packet, or None."""
    if len(packet) < 20:
        return None
    version = packet[0] >> 4
    if version == 4:
        flags = struct.unpack(">H", packet[6:8])[0]
        return 4, packet[9], (packet[0] & 0x0F) * 4, bool(flags & 0x2000 or flags & 0x1FFF)
    if version == 6 and len(packet) >= 40:
        return 6, packet[6], 40, packet[6] == 44
    return None


def fragment_v4(packet, size):
    """Cuts an IPv4 packet without options into fragments of `size` payload bytes (a multiple of 8)."""
    header, payload = bytearray(packet[:20]), packet[20:]
    pieces = []
    for start in range(0, len(payload), size):
        chunk = payload[start:start + size]
        h = bytearray(header)
        more = 0x2000 if start + size < len(payload) else 0
        struct.pack_into(">HH", h, 2, 20 + len(chunk), more | (start // 8))
        struct.pack_into(">H", h, 10, 0)
        total = sum(struct.unpack(">10H", bytes(h)))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        struct.pack_into(">H", h, 10, ~total & 0xFFFF)
        pieces.append(bytes(h) + chunk)
    return pieces


def certificates(stream):
    """DER certificates (SEQUENCE of a SEQUENCE with an explicit version) found in TLS bytes."""
    found, at = [], stream.find(b"\x30\x82")
    while at >= 0 and len(found) < 8:
        if stream[at + 4:at + 6] == b"\x30\x82" and stream[at + 8:at + 10] == b"\xa0\x03":
            end = at + 4 + struct.unpack(">H", stream[at + 2:at + 4])[0]
            if end <= len(stream):
                found.append(stream[at:end])
        at = stream.find(b"\x30\x82", at + 1)
    return found


def records(items):
    """(time step, length, bytes) records."""
    return b"".join(bytes([step]) + struct.pack(">H", len(b)) + b for step, b in items)


class Corpus:
    def __init__(self, root):
        self.root = root
        self.count = {}

    def add(self, fuzzer, data, limit=600):
        if self.count.get(fuzzer, 0) >= limit or len(data) > 65_000:
            return
        folder = os.path.join(self.root, fuzzer)
        os.makedirs(folder, exist_ok=True)
        name = os.path.join(folder, hashlib.sha1(data).hexdigest())
        if not os.path.exists(name):
            with open(name, "wb") as f:
                f.write(data)
            self.count[fuzzer] = self.count.get(fuzzer, 0) + 1


def seed_trace(corpus, path):
    linktype, frames = read_pcap(path)
    if linktype not in LINK_TYPES:
        return
    selector = LINK_TYPES.index(linktype)
    for _, _, frame in frames[::max(1, len(frames) // 40)][:40]:
        corpus.add("decode", bytes([selector | 0x10]) + frame, limit=2000)
    # Worker: windows of 48 frames with their real spacing (in 10 ms steps, capped).
    for start in range(0, min(len(frames), 480), 48):
        window, last = [], None
        for sec, usec, frame in frames[start:start + 48]:
            now = sec * 1_000_000 + usec
            step = 0 if last is None else min(127, max(0, (now - last) // 10_000))
            last = now
            window.append((step, frame[:65_535]))
        corpus.add("worker", bytes([selector]) + records(window), limit=200)
    fragments, cut, http = [], 0, []
    streams = {}  # (fuzzer, connection) -> [record]
    for _, _, frame in frames:
        at = network_offset(linktype, frame)
        if at is None:
            continue
        packet = frame[at:]
        fields = ip_fields(packet)
        if fields is None:
            continue
        version, proto, hlen, is_fragment = fields
        payload = packet[hlen:]
        if is_fragment:
            fragments.append((1, packet))
        elif version == 4 and hlen == 20 and len(packet) > 200 and cut < 8:
            cut += 1
            pieces = fragment_v4(packet, 64 if cut % 2 else 128)
            ordered = pieces if cut % 4 < 2 else list(reversed(pieces))
            corpus.add("fragments", bytes([0x23, 0x3F]) + records((0, p) for p in ordered))
        if proto == 47:
            corpus.add("tunnels", bytes([0, 0]) + payload)
        elif proto in (4, 41):
            corpus.add("tunnels", bytes([6, 0]) + payload)
        elif proto == 6 and len(payload) >= 20:
            sport, dport = struct.unpack(">HH", payload[:4])
            data = payload[(payload[12] >> 4) * 4:]
            if data and (sport in HTTP_PORTS or dport in HTTP_PORTS) and len(http) < 64:
                http.append(bytes([1 if dport in HTTP_PORTS else 0]) + struct.pack(">H", len(data)) + data)
            for fuzzer, ports in STREAM_PORTS.items():
                if data and (sport in ports or dport in ports):
                    src, dst = (packet[12:16], packet[16:20]) if version == 4 else (packet[8:24], packet[24:40])
                    ends = sorted([(src, sport), (dst, dport)])
                    recs = streams.setdefault((fuzzer, tuple(ends)), [])
                    if len(recs) < 64:
                        recs.append((dport in ports, data))
        elif proto == 17 and len(payload) > 8:
            ports = struct.unpack(">HH", payload[:4])
            if ports[1] in DNS_PORTS or ports[0] in DNS_PORTS:
                corpus.add("dns", bytes([5 if ports[1] in DNS_PORTS else 4]) + payload[8:])
            if 123 in ports:
                corpus.add("ntp", payload[8:])
            if ports[0] in (67, 68, 4011) or ports[1] in (67, 68, 4011):
                corpus.add("dhcp", payload[8:])
            for port in ports:
                if port in UDP_TUNNELS:
                    corpus.add("tunnels", bytes([UDP_TUNNELS[port], 0]) + payload[8:])
                    break
    if fragments:
        corpus.add("fragments", bytes([0x23, 0x7F]) + records(fragments[:64]))
    if http:
        corpus.add("http", b"".join(http))
    for (fuzzer, _), recs in streams.items():
        corpus.add(fuzzer, b"".join(bytes([int(orig)]) + struct.pack(">H", len(d)) + d for orig, d in recs))
        if fuzzer == "tls":
            for der in certificates(b"".join(d for orig, d in recs if not orig)):
                corpus.add("x509", der)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    corpus = Corpus(sys.argv[1])
    for path in sys.argv[2:]:
        try:
            seed_trace(corpus, path)
        except (ValueError, subprocess.CalledProcessError, struct.error) as e:
            print(f"seeds.py: skipping {path}: {e}", file=sys.stderr)
    for fuzzer, n in sorted(corpus.count.items()):
        print(f"{fuzzer}: {n} seeds")


if __name__ == "__main__":
    main()
