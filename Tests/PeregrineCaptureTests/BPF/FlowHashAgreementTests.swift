// SPDX-License-Identifier: Apache-2.0
import CPeregrineBPF
import Foundation
import PeregrineCapture
import PeregrineDecode
import PeregrineTestSupport
import Testing

/// The BPF programs and `SymmetricFlowHash` agree bit for bit on every Ethernet frame of the corpus
/// traces. Both real programs are loaded (as `peregrine` loads them) and run on each frame with
/// BPF_PROG_TEST_RUN: the fanout program's return value is its hash; the XDP program writes its hash
/// into the frame's metadata, which the test run hands back in front of the packet. Each frame is
/// also cut after every byte of its first `cutLimit` (14 to 127 bytes), so every truncated-header
/// path of both parsers is compared too.
@Suite(.serialized) struct FlowHashAgreementTests {
    static let seed: UInt32 = 0x0BAD_5EED
    /// BPF_PROG_TEST_RUN takes a little under a page (skb and XDP headroom/tailroom); longer frames
    /// are cut to this, which is far beyond any header the hash reads (checked per frame).
    static let testRunLimit = 3072
    static let xdpPass: UInt32 = 2  // XDP_PASS: no socket in the XSKMAP during a test run
    /// Cuts compared per frame: past Ethernet, VLAN, IPv6 with a few extension headers and TCP.
    static let cutLimit = 128

    static var skipReason: String? {
        if geteuid() != 0 { return "needs root (CAP_BPF to load programs)" }
        if PcapTestFiles.corpusTraces().isEmpty { return "corpus not found at \(PcapTestFiles.zeekCorpus.path)" }
        return nil
    }

    /// Tallies of one comparison.
    struct Tally {
        var frames = 0
        var compared = 0
        var cutsCompared = 0
        var cutsRefused = 0
        var notIP = 0
        var mismatches: [String] = []
    }

    func compare(object: BPFObject, program: String, xdp: Bool) throws -> Tally {
        var tally = Tally()
        let notIPHash = SymmetricFlowHash.hash(ethernetFrame: UnsafeRawBufferPointer(start: nil, count: 0), seed: Self.seed)
        for trace in PcapTestFiles.corpusTraces() {
            let source = try PcapFileSource(path: PcapTestFiles.zeekCorpus.path + "/" + trace)
            var index = 0
            _ = try source.forEachFrame { frame in
                index += 1
                tally.frames += 1
                guard frame.linkType == 1 else { return }
                let full = frame.bytes
                let bytes = UnsafeRawBufferPointer(rebasing: full[..<min(full.count, Self.testRunLimit)])
                let swift = SymmetricFlowHash.hash(ethernetFrame: bytes, seed: Self.seed)
                guard swift == SymmetricFlowHash.hash(ethernetFrame: full, seed: Self.seed) else {
                    tally.mismatches.append("\(trace) #\(index): hash changes when cut to \(Self.testRunLimit) bytes")
                    return
                }
                guard bytes.count >= 14 else { return }  // the kernel's test run needs an Ethernet header
                let kernel = try run(object, program, xdp: xdp, bytes, "\(trace) #\(index)", &tally)
                tally.compared += 1
                if swift == notIPHash { tally.notIP += 1 }
                if kernel != swift {
                    tally.mismatches.append(
                        "\(trace) #\(index): BPF \(String(kernel, radix: 16)), Swift \(String(swift, radix: 16))")
                }
                for cut in 14..<min(bytes.count, Self.cutLimit) {
                    let prefix = UnsafeRawBufferPointer(rebasing: bytes[..<cut])
                    let swiftCut = SymmetricFlowHash.hash(ethernetFrame: prefix, seed: Self.seed)
                    let kernelCut: UInt32
                    do {
                        kernelCut = try run(object, program, xdp: xdp, prefix, "\(trace) #\(index) cut \(cut)", &tally)
                    } catch BPFError.syscall(_, EINVAL) where !xdp {
                        // The skb test run refuses an IPv4/IPv6 frame shorter than the fixed IP header
                        // (net/bpf/test_run.c); live, the fanout program sees such frames.
                        tally.cutsRefused += 1
                        continue
                    }
                    tally.cutsCompared += 1
                    if kernelCut != swiftCut {
                        tally.mismatches.append(
                            "\(trace) #\(index) cut at \(cut): BPF \(String(kernelCut, radix: 16)), Swift \(String(swiftCut, radix: 16))")
                    }
                }
            }
        }
        return tally
    }

    /// The program's hash of `packet`: the fanout program's return value, or the XDP program's metadata.
    func run(
        _ object: BPFObject, _ program: String, xdp: Bool, _ packet: UnsafeRawBufferPointer, _ name: String,
        _ tally: inout Tally
    ) throws -> UInt32 {
        let (returnValue, output) = try object.testRun(program: program, packet: packet)
        guard xdp else { return returnValue }
        // struct peregrine_metadata (12 bytes): the capture time, then the hash just before the packet.
        guard returnValue == Self.xdpPass, output.count == packet.count + 12 else {
            tally.mismatches.append("\(name): XDP returned \(returnValue) with \(output.count) bytes")
            return 0
        }
        return output.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) }
    }

    /// Loads `file` as `peregrine` would. The drop filter and shunt table are switched on (with
    /// empty maps, so nothing is dropped): the verifier removes code behind a feature that is off,
    /// and this way it checks those paths too.
    func load(_ file: String) throws -> BPFObject {
        var configuration = peregrine_config()
        configuration.hash_seed = Self.seed
        configuration.socket_count = 2
        configuration.features = PEREGRINE_FEATURE_DROP_FILTER | PEREGRINE_FEATURE_SHUNT
        return try BPFObject(path: try BPFTestObjects.directory() + "/" + file, configuration: configuration)
    }

    @Test func fanoutProgramAgreesWithSwiftOnEveryCorpusFrame() throws {
        if let reason = Self.skipReason {
            print("skipped: \(reason)")
            return
        }
        let tally = try compare(
            object: try load(BPFObject.fanoutFileName), program: BPFObject.fanoutProgramName, xdp: false)
        print("fanout program: \(tally.compared) of \(tally.frames) frames compared (\(tally.notIP) not IP) and \(tally.cutsCompared) cut frames (\(tally.cutsRefused) refused by the test run), \(tally.mismatches.count) mismatches")
        #expect(tally.compared > 1_000 && tally.cutsCompared > 50_000)
        #expect(tally.mismatches.isEmpty, "\(tally.mismatches.prefix(5))")
    }

    @Test func xdpProgramAgreesWithSwiftOnEveryCorpusFrame() throws {
        if let reason = Self.skipReason {
            print("skipped: \(reason)")
            return
        }
        let tally = try compare(object: try load(BPFObject.xdpFileName), program: BPFObject.xdpProgramName, xdp: true)
        print("XDP program: \(tally.compared) of \(tally.frames) frames compared (\(tally.notIP) not IP) and \(tally.cutsCompared) cut frames (\(tally.cutsRefused) refused by the test run), \(tally.mismatches.count) mismatches")
        #expect(tally.compared > 1_000 && tally.cutsCompared > 50_000)
        #expect(tally.mismatches.isEmpty, "\(tally.mismatches.prefix(5))")
    }

    /// Frames the corpus lacks: IPv6 extension chains (hop-by-hop, routing, destination options,
    /// atomic and real fragments, more than the walk's bound), IPv4 fragments, QinQ and three tags.
    static func handBuiltFrames() -> [[UInt8]] {
        let tcp = Headers.tcp(src: 40000, dst: 443)
        func v6(_ first: UInt8, _ extensions: [UInt8]) -> [UInt8] {
            Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: first, payloadLength: extensions.count + 20) + extensions + tcp
        }
        let hopByHop: [UInt8] = [43, 0, 1, 4, 0, 0, 0, 0]
        let routing: [UInt8] = [60, 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        let destination: [UInt8] = [6, 0, 1, 4, 0, 0, 0, 0]
        let ip4 = Headers.ipv4(proto: 6, payloadLength: 20, src: [192, 0, 2, 9], dst: [192, 0, 2, 1]) + tcp
        let macs = Array(Headers.ethernet(type: 0).prefix(12))
        return [
            v6(0, hopByHop + routing + destination),
            v6(44, [6, 0, 0, 0, 0, 0, 0, 1]),  // atomic fragment
            v6(44, [6, 0, 0, 1, 0, 0, 0, 1]),  // first fragment (M)
            v6(44, [6, 0, 0x05, 0xC8, 0, 0, 0, 1]),  // later fragment (offset 185)
            v6(60, (0..<9).flatMap { _ in [UInt8]([60, 0, 1, 4, 0, 0, 0, 0]) }),  // beyond the bound
            Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 6, payloadLength: 20, flags: 0x2000) + tcp,
            Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 20, fragmentOffset: 1480) + tcp,
            macs + [0x88, 0xA8, 0x00, 0x14, 0x81, 0x00, 0x00, 0x0A, 0x08, 0x00] + ip4,
            macs + [0x88, 0xA8, 0x00, 0x14, 0x81, 0x00, 0x00, 0x0A, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00] + ip4,
        ]
    }

    @Test func bothProgramsAgreeWithSwiftOnHandBuiltFrames() throws {
        if let reason = Self.skipReason {
            print("skipped: \(reason)")
            return
        }
        let fanout = try load(BPFObject.fanoutFileName), xdp = try load(BPFObject.xdpFileName)
        var tally = Tally()
        for (index, frame) in Self.handBuiltFrames().enumerated() {
            try frame.withUnsafeBytes { bytes in
                let swift = SymmetricFlowHash.hash(ethernetFrame: bytes, seed: Self.seed)
                let viaFanout = try run(fanout, BPFObject.fanoutProgramName, xdp: false, bytes, "frame \(index)", &tally)
                let viaXDP = try run(xdp, BPFObject.xdpProgramName, xdp: true, bytes, "frame \(index)", &tally)
                #expect(viaFanout == swift && viaXDP == swift, "frame \(index)")
            }
        }
        #expect(tally.mismatches.isEmpty, "\(tally.mismatches)")
    }
}
