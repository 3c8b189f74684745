#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""select-demo-flows.py: print a tcpdump filter that keeps a small, representative set of whole flows
from a capture made by ../shared/bench/make-real-capture.sh (see Tests/Fixtures/Traces/README.md).

Usage: scripts/select-demo-flows.py CAPTURE.pcap > filter.txt
Reads classic pcap (Ethernet, IPv4) with the standard library only. For each service it keeps the N
smallest flows (by bytes), so the trace stays well under 1 MB; for TLS it also keeps the smallest flow
whose server sends its certificate in clear (TLS 1.2, for x509.log). ICMP, ARP and the
UDP datagrams to closed ports are kept whole.
"""
import struct
import sys
from collections import defaultdict

# (description, protocol, server address, server port or None for "any", flows to keep)
PICKS = [
    ("DNS over UDP", 17, "198.18.0.53", 53, 24),
    ("DNS over TCP", 6, "198.18.0.53", 53, 3),
    ("HTTP/1.1 nginx", 6, "198.18.0.80", 80, 4),
    ("HTTP/1.0 python", 6, "198.18.0.81", 8080, 3),
    ("TLS nginx", 6, "198.18.0.43", 443, 4),
    ("TLS s_server", 6, "198.18.0.44", 4433, 2),
    ("SSH dropbear", 6, "198.18.0.22", 22, 2),
    ("UDP echo", 17, "198.18.0.70", 5005, 4),
    ("NTP-like", 17, "198.18.0.70", 123, 3),
    ("REJ scan", 6, "198.18.0.99", None, 20),
    ("S0 (dropped SYNs)", 6, None, 9999, 6),
]


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    flows = defaultdict(int)  # (pick name, proto, client ip, client port, server ip, server port) -> bytes
    clear_cert = set()  # flows whose server sent "bench.test" in clear (the TLS 1.2 certificate)
    with open(sys.argv[1], "rb") as f:
        magic = f.read(24)[:4]
        endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        while True:
            hdr = f.read(16)
            if len(hdr) < 16:
                break
            _, _, caplen, wirelen = struct.unpack(endian + "IIII", hdr)
            pkt = f.read(caplen)
            if len(pkt) < 38 or pkt[12:14] != b"\x08\x00":
                continue
            ihl = (pkt[14] & 0x0F) * 4
            proto = pkt[23]
            src, dst = ".".join(map(str, pkt[26:30])), ".".join(map(str, pkt[30:34]))
            if proto not in (6, 17):
                continue
            sport, dport = struct.unpack(">HH", pkt[14 + ihl:18 + ihl])
            for pick in PICKS:
                _, p, sip, sport_want, _ = pick
                for (cip, cport, rip, rport) in ((src, sport, dst, dport), (dst, dport, src, sport)):
                    if p == proto and (sip is None or sip == rip) and (sport_want is None or sport_want == rport):
                        key = (pick[0], proto, cip, cport, rip, rport)
                        flows[key] += wirelen
                        if rip == src and rport == sport and b"bench.test" in pkt:
                            clear_cert.add(key)
    # ARP and ICMP whole (echo and port unreachable), with the UDP datagrams to closed ports 5006-5020
    # that drew the unreachables.
    clauses = ["arp", "icmp", "(udp and dst host 198.18.0.70 and dst portrange 5006-5020)"]
    for name, proto, _, _, keep in PICKS:
        ranked = sorted((b, k) for k, b in flows.items() if k[0] == name)
        chosen = ranked[:keep]
        with_cert = [bk for bk in ranked if bk[1] in clear_cert and name.startswith("TLS")]
        if with_cert and with_cert[0] not in chosen:
            chosen.append(with_cert[0])
        print(f"{name}: {len(chosen)} flows", file=sys.stderr)
        for _, (_, p, cip, cport, rip, rport) in chosen:
            word = "tcp" if p == 6 else "udp"
            clauses.append(f"({word} and host {cip} and host {rip} and port {cport} and port {rport})")
    print(" or ".join(clauses))


if __name__ == "__main__":
    main()
