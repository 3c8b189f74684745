// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
import CPeregrineTestBPF
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

/// The real XDP program attached in native mode to a veth through a BPF link: it passes the
/// verifier, sees and counts every replayed packet (no AF_XDP socket yet, so each is passed on and
/// counted as such), and leaves nothing attached once the link is released.
@Suite struct XDPProgramTests {
    @Test func countersMatchTheSharedHeader() {
        let expected: [(XDPProgram.Counter, peregrine_counter)] = [
            (.packets, PEREGRINE_COUNTER_PACKETS), (.notIP, PEREGRINE_COUNTER_NOT_IP),
            (.filtered, PEREGRINE_COUNTER_FILTERED), (.shunted, PEREGRINE_COUNTER_SHUNTED),
            (.shuntPassed, PEREGRINE_COUNTER_SHUNT_PASSED), (.redirected, PEREGRINE_COUNTER_REDIRECTED),
            (.noSocket, PEREGRINE_COUNTER_NO_SOCKET), (.noMetadata, PEREGRINE_COUNTER_NO_METADATA),
        ]
        #expect(expected.allSatisfy { $0.0.rawValue == $0.1.rawValue })
        #expect(XDPProgram.Counter.allCases.count == Int(PEREGRINE_COUNTER_COUNT.rawValue))
    }

    @Test func nativeModeOnVethCountsEveryReplayedPacket() throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        let trace = PcapTestFiles.zeekCorpus.path + "/conn-wikipedia/wikipedia.pcap"
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: corpus not found at \(PcapTestFiles.zeekCorpus.path)")
            return
        }
        let seed: UInt32 = 99
        let notIPHash = SymmetricFlowHash.hash(ethernetFrame: UnsafeRawBufferPointer(start: nil, count: 0), seed: seed)
        var notIP: UInt64 = 0
        _ = try PcapFileSource(path: trace).forEachFrame { frame in
            if SymmetricFlowHash.hash(ethernetFrame: frame.bytes, seed: seed) == notIPHash { notIP += 1 }
        }

        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let program = try XDPProgram(directory: try BPFTestObjects.directory(), seed: seed, socketCount: 2)
        var link: XDPLink? = try veth.inCaptureNamespace {
            try program.attach(interfaceIndex: CInt(if_nametoindex(veth.captureInterface)), mode: .native)
        }
        let shown = try VethNamespaces.run("ip", "-n", veth.captureNamespace, "link", "show", veth.captureInterface)
        #expect(shown.contains("xdp "), "native mode shows as `xdp` in ip link: \(shown)")

        let sent = UInt64(try veth.replay([trace]))
        Thread.sleep(forTimeInterval: 0.2)
        let packets = try program.count(.packets), passed = try program.count(.noSocket)
        print("XDP native on veth: \(sent) sent, \(packets) seen, \(passed) passed on, \(try program.count(.notIP)) not IP")
        #expect(packets == sent && passed == sent)
        #expect(try program.count(.notIP) == notIP)
        #expect(try program.count(.redirected) == 0 && program.count(.noMetadata) == 0)

        link = nil
        _ = link
        let after = try VethNamespaces.run("ip", "-n", veth.captureNamespace, "link", "show", veth.captureInterface)
        #expect(!after.contains("xdp"), "the program stays attached after its link was released: \(after)")
    }

    @Test func anUnknownInterfaceIsRefusedNamingTheCall() throws {
        guard geteuid() == 0 else {
            print("skipped: needs root (CAP_BPF to load programs)")
            return
        }
        let program = try XDPProgram(directory: try BPFTestObjects.directory(), seed: 1, socketCount: 1)
        #expect {
            _ = try program.attach(interfaceIndex: 999_999, mode: .native)
        } throws: { error in
            "\(error)".hasPrefix("bpf_link_create(BPF_XDP, native, interface 999999) failed")
        }
    }
}

/// The XDP program's drop filter and shunt table, run with BPF_PROG_TEST_RUN on hand-built frames.
@Suite struct XDPFilterAndShuntTests {
    static let xdpDrop: UInt32 = 1
    static let xdpPass: UInt32 = 2  // no socket in the XSKMAP during a test run

    func tcp(from src: [UInt8], _ sport: UInt16, to dst: [UInt8], _ dport: UInt16, flags: UInt8) -> [UInt8] {
        Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 6, payloadLength: 20, src: src, dst: dst)
            + Headers.tcp(src: sport, dst: dport, flags: flags)
    }

    func verdict(_ object: BPFObject, _ frame: [UInt8]) throws -> UInt32 {
        try frame.withUnsafeBytes { try object.testRun(program: BPFObject.xdpProgramName, packet: $0).returnValue }
    }

    @Test func filteredAddressesAndShuntedFlowsAreDroppedButFINAndRSTPass() throws {
        guard geteuid() == 0 else {
            print("skipped: needs root (CAP_BPF to load programs)")
            return
        }
        var configuration = peregrine_config()
        configuration.hash_seed = 3
        configuration.socket_count = 1
        configuration.features = PEREGRINE_FEATURE_DROP_FILTER | PEREGRINE_FEATURE_SHUNT
        let object = try BPFObject(
            path: try BPFTestObjects.directory() + "/" + BPFObject.xdpFileName, configuration: configuration)

        // Drop filter: 192.0.2.0/24, as an IPv4-mapped prefix (96 + 24 bits).
        var prefix = peregrine_prefix_key()
        prefix.prefix_length = 96 + 24
        withUnsafeMutableBytes(of: &prefix.address) { $0.copyBytes(from: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 0]) }
        var one: UInt8 = 1
        #expect(CPeregrineTestBPF_updateMap(try object.mapDescriptor(named: "drop_filter"), &prefix, &one) == 0)
        let ack: UInt8 = 0x10, fin: UInt8 = 0x11, rst: UInt8 = 0x04
        #expect(try verdict(object, tcp(from: [192, 0, 2, 7], 5000, to: [10, 0, 0, 1], 80, flags: ack)) == Self.xdpDrop)
        #expect(try verdict(object, tcp(from: [10, 0, 0, 1], 80, to: [192, 0, 2, 7], 5000, flags: ack)) == Self.xdpDrop)
        #expect(try verdict(object, tcp(from: [192, 0, 3, 7], 5000, to: [10, 0, 0, 1], 80, flags: ack)) == Self.xdpPass)

        // Shunt 10.0.0.1:1234 <-> 10.0.0.2:80 (key endpoints ordered: 10.0.0.1 first).
        var key = peregrine_flow_key()
        key.addr_a = (0, 0, 0xFFFF, 0x0A00_0001)
        key.addr_b = (0, 0, 0xFFFF, 0x0A00_0002)
        key.ports = 1234 << 16 | 80
        key.protocol = 6
        // One peregrine_shunt_counts per possible CPU (up to 1024).
        let zeroCounts = [UInt8](repeating: 0, count: MemoryLayout<peregrine_shunt_counts>.size * 1024)
        #expect(CPeregrineTestBPF_updateMap(try object.mapDescriptor(named: "shunt"), &key, zeroCounts) == 0)
        let a: [UInt8] = [10, 0, 0, 1], b: [UInt8] = [10, 0, 0, 2]
        #expect(try verdict(object, tcp(from: a, 1234, to: b, 80, flags: ack)) == Self.xdpDrop)
        #expect(try verdict(object, tcp(from: b, 80, to: a, 1234, flags: ack)) == Self.xdpDrop)
        #expect(try verdict(object, tcp(from: b, 80, to: a, 1234, flags: fin)) == Self.xdpPass)
        #expect(try verdict(object, tcp(from: a, 1234, to: b, 80, flags: rst)) == Self.xdpPass)
        #expect(try verdict(object, tcp(from: a, 1235, to: b, 80, flags: ack)) == Self.xdpPass)  // another flow
        #expect(try verdict(object, tcp(from: a, 1234, to: b, 80, flags: 0x02)) == Self.xdpPass)  // SYN: reuse
    }

    func segment(
        from src: [UInt8], _ sport: UInt16, to dst: [UInt8], _ dport: UInt16, seq: UInt32, ack: UInt32, flags: UInt8,
        payload: Int, zeroWindow: Bool = false
    ) -> [UInt8] {
        var tcp = Headers.tcp(src: sport, dst: dport, seq: seq, ack: ack, flags: flags)
        if zeroWindow { tcp[14] = 0; tcp[15] = 0 }  // window
        return Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 6, payloadLength: 20 + payload, src: src, dst: dst)
            + tcp + [UInt8](repeating: 0x41, count: payload)
    }

    /// The shunt table counts packets, IP bytes and payload bytes per direction, and how far each
    /// side's sequence and acknowledgement numbers moved (across a 32-bit wrap); taking an entry
    /// returns the counts by role and removes it, so later packets pass again.
    @Test func shuntTableCountsEachDirectionAndTakeRemovesTheEntry() throws {
        guard geteuid() == 0 else {
            print("skipped: needs root (CAP_BPF to load programs)")
            return
        }
        let program = try XDPProgram(directory: try BPFTestObjects.directory(), seed: 5, socketCount: 1, shunt: true)
        let table = try #require(program.shuntTable)
        func run(_ frame: [UInt8]) throws -> UInt32 {
            try frame.withUnsafeBytes {
                try program.object.testRun(program: BPFObject.xdpProgramName, packet: $0).returnValue
            }
        }
        // Originator 10.0.0.9:40000 (endpoint b of the key: the higher address), responder 10.0.0.2:443.
        let client: [UInt8] = [10, 0, 0, 9], server: [UInt8] = [10, 0, 0, 2]
        let key = ShuntTable.Key(
            originator: IPAddress(ipv4: 0x0A00_0009), originatorPort: 40000, responder: IPAddress(ipv4: 0x0A00_0002),
            responderPort: 443, transportProtocol: 6)
        #expect(!key.originatorIsA)
        var start = ShuntTable.Start()
        start.originatorSequence = 0xFFFF_FF00  // wraps after 256 bytes
        start.originatorAcknowledgement = 5000
        start.responderSequence = 5000
        start.responderAcknowledgement = 0xFFFF_FF00
        #expect(table.add(key, start: start) == .added)
        #expect(table.add(key, start: start) == .exists)
        let ack: UInt8 = 0x10
        // Client: 3 segments of 1000 bytes from 0xFFFFFF00 (one retransmitted), an ACK-only.
        #expect(try run(segment(from: client, 40000, to: server, 443, seq: 0xFFFF_FF00, ack: 5000, flags: ack, payload: 1000)) == Self.xdpDrop)
        #expect(try run(segment(from: client, 40000, to: server, 443, seq: 0xFFFF_FF00 &+ 1000, ack: 5000, flags: ack, payload: 1000)) == Self.xdpDrop)
        #expect(try run(segment(from: client, 40000, to: server, 443, seq: 0xFFFF_FF00, ack: 5000, flags: ack, payload: 1000)) == Self.xdpDrop)
        // Server: 200 bytes, acks the client's 2000 with a zero window.
        #expect(try run(segment(from: server, 443, to: client, 40000, seq: 5000, ack: 0xFFFF_FF00 &+ 2000, flags: ack, payload: 200, zeroWindow: true)) == Self.xdpDrop)
        // FIN passes, uncounted.
        #expect(try run(segment(from: server, 443, to: client, 40000, seq: 5200, ack: 0xFFFF_FF00 &+ 2000, flags: 0x11, payload: 0)) == Self.xdpPass)
        #expect(try program.count(.shunted) == 4 && program.count(.shuntPassed) == 1)

        let peeked = try #require(table.peek(key))
        let counts = try #require(table.take(key))
        #expect(peeked == counts)
        #expect(counts.originator.packets == 3 && counts.responder.packets == 1)
        #expect(counts.originator.ipBytes == 3 * 1040 && counts.responder.ipBytes == 240)
        #expect(counts.originator.payloadBytes == 3000 && counts.responder.payloadBytes == 200)
        #expect(counts.originator.sequenceAdvance == 2000 && counts.responder.sequenceAdvance == 200)
        #expect(counts.originator.acknowledgementAdvance == 0 && counts.responder.acknowledgementAdvance == 2000)
        #expect(counts.originator.retransmissions == 1 && counts.responder.retransmissions == 0)
        #expect(counts.originator.zeroWindows == 0 && counts.responder.zeroWindows == 1)
        #expect(table.take(key) == nil)
        #expect(try run(segment(from: client, 40000, to: server, 443, seq: 0, ack: 5000, flags: ack, payload: 10)) == Self.xdpPass)

        // UDP: payload bytes are the length field minus 8.
        let udpKey = ShuntTable.Key(
            originator: IPAddress(ipv4: 0x0A00_0001), originatorPort: 5000, responder: IPAddress(ipv4: 0x0A00_0002),
            responderPort: 6000, transportProtocol: 17)
        #expect(udpKey.originatorIsA)
        #expect(table.add(udpKey, start: ShuntTable.Start()) == .added)
        let datagram = Headers.ethernet(type: 0x0800)
            + Headers.ipv4(proto: 17, payloadLength: 8 + 100, src: [10, 0, 0, 1], dst: [10, 0, 0, 2])
            + Headers.udp(src: 5000, dst: 6000, payloadLength: 100) + [UInt8](repeating: 0, count: 100)
        #expect(try run(datagram) == Self.xdpDrop)
        let udp = try #require(table.take(udpKey))
        #expect(udp.originator.packets == 1 && udp.originator.ipBytes == 128 && udp.originator.payloadBytes == 100)
        #expect(udp.responder == ShuntTable.Direction())

        // IPv6: IP bytes are the payload length + 40; 2001:db8::2 is endpoint b, so its datagram counts
        // for the responder.
        let v6Key = ShuntTable.Key(
            originator: IPAddress(high: 0x2001_0DB8_0000_0000, low: 1), originatorPort: 5000,
            responder: IPAddress(high: 0x2001_0DB8_0000_0000, low: 2), responderPort: 6000, transportProtocol: 17)
        #expect(table.add(v6Key, start: ShuntTable.Start()) == .added)
        let reply6 = Headers.ethernet(type: 0x86DD)
            + Headers.ipv6(next: 17, payloadLength: 8 + 60, src: Headers.v6(2), dst: Headers.v6(1))
            + Headers.udp(src: 6000, dst: 5000, payloadLength: 60) + [UInt8](repeating: 0, count: 60)
        #expect(try run(reply6) == Self.xdpDrop)
        let v6 = try #require(table.take(v6Key))
        #expect(v6.responder.packets == 1 && v6.responder.ipBytes == 108 && v6.responder.payloadBytes == 60)
        #expect(v6.originator.packets == 0)
    }
}
