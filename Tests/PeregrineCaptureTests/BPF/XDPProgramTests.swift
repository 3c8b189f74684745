// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
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
