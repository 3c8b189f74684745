// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
import CPeregrineTestBPF
import Foundation
import PeregrineCapture
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
        let zeroCounts = [UInt8](repeating: 0, count: 16 * 1024)  // one peregrine_shunt_counts per possible CPU
        #expect(CPeregrineTestBPF_updateMap(try object.mapDescriptor(named: "shunt"), &key, zeroCounts) == 0)
        let a: [UInt8] = [10, 0, 0, 1], b: [UInt8] = [10, 0, 0, 2]
        #expect(try verdict(object, tcp(from: a, 1234, to: b, 80, flags: ack)) == Self.xdpDrop)
        #expect(try verdict(object, tcp(from: b, 80, to: a, 1234, flags: ack)) == Self.xdpDrop)
        #expect(try verdict(object, tcp(from: b, 80, to: a, 1234, flags: fin)) == Self.xdpPass)
        #expect(try verdict(object, tcp(from: a, 1234, to: b, 80, flags: rst)) == Self.xdpPass)
        #expect(try verdict(object, tcp(from: a, 1235, to: b, 80, flags: ack)) == Self.xdpPass)  // another flow
    }
}
