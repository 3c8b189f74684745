// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrineSessions
import PeregrineTestSupport
import Testing

@testable import PeregrineEngine

/// The worker's shunting with the real XDP program loaded but not attached: the worker decides and
/// adds entries, the program's BPF_PROG_TEST_RUN plays the kernel dropping later packets, and the
/// worker takes the counts back when the connection ends.
@Suite struct WorkerShuntTests {
    static func datagram(from a: [UInt8], _ sport: UInt16, to b: [UInt8], _ dport: UInt16, payload: Int) -> [UInt8] {
        var udp = Headers.udp(src: sport, dst: dport, payloadLength: payload)
        udp[6] = 0; udp[7] = 0  // no checksum
        return Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 8 + payload, src: a, dst: b)
            + udp + [UInt8](repeating: 0x5A, count: payload)
    }

    @Test func aUDPFlowPastTheThresholdIsShuntedAndItsKernelCountsComeBack() throws {
        guard geteuid() == 0 else {
            print("skipped: needs root (CAP_BPF to load programs)")
            return
        }
        let program = try XDPProgram(directory: try BPFTestObjects.directory(), seed: 1, socketCount: 1, shunt: true)
        var config = Configuration()
        config.seed = 3
        config.shunt = ShuntPolicy(enabled: true, encrypted: true, bytes: 1000)
        let worker = Worker(config: config, logs: OfflineRun.makeLogStreams(config), seed: 3)
        worker.enableShunting(table: program.shuntTable)
        let client: [UInt8] = [10, 1, 0, 9], server: [UInt8] = [10, 1, 0, 2]
        let request = Self.datagram(from: client, 40000, to: server, 7000, payload: 500)  // 528 IP bytes
        let reply = Self.datagram(from: server, 7000, to: client, 40000, payload: 300)  // 328 IP bytes
        var time = Timestamp(nanoseconds: 1_000_000_000)
        func feed(_ frame: [UInt8]) {
            time = time.adding(.milliseconds(1))
            frame.withUnsafeBytes { worker.process(bytes: $0, wireLength: frame.count, timestamp: time, linkType: .ethernet) }
        }
        func kernel(_ frame: [UInt8]) throws -> UInt32 {
            try frame.withUnsafeBytes { try program.object.testRun(program: BPFObject.xdpProgramName, packet: $0).returnValue }
        }
        feed(request)
        #expect(worker.shunting?.summary.shunted == 0)
        #expect(try kernel(request) == 2)  // not shunted yet: XDP_PASS
        feed(reply)  // 856 IP bytes
        feed(request)  // 1,384: past the threshold
        #expect(worker.shunting?.summary.shunted == 1)
        for _ in 0..<5 { #expect(try kernel(request) == 1) }  // XDP_DROP
        for _ in 0..<3 { #expect(try kernel(reply) == 1) }
        feed(reply)  // one that was already on its way when the flow was shunted
        worker.finishAll()
        let summary = try #require(worker.shunting?.summary)
        #expect(summary.ended == 1 && summary.lost == 0 && summary.refused == 0)
        #expect(summary.packets == 8 && summary.ipBytes == 5 * 528 + 3 * 328)
        #expect(try program.count(.shunted) == 8)
        #expect(program.shuntTable?.peek(ShuntTable.Key(
            originator: IPAddress(ipv4: 0x0A01_0009), originatorPort: 40000, responder: IPAddress(ipv4: 0x0A01_0002),
            responderPort: 7000, transportProtocol: 17)) == nil, "the entry went with the connection")
    }

    /// The record correction alone: the kernel's counts go to the right side, UDP bytes too.
    @Test func kernelCountsAreAddedByRole() {
        var c = Connection(
            uid: ConnectionUID(word0: 1, word1: 2), originator: IPAddress(ipv4: 1), originatorPort: 1,
            responder: IPAddress(ipv4: 2), responderPort: 2, transportProtocol: 17, time: .zero)
        c.originatorPackets = 2
        c.originatorIPBytes = 100
        c.udp.requestLength = 44
        var counts = ShuntTable.Counts()
        counts.originator.packets = 3
        counts.originator.ipBytes = 300
        counts.originator.payloadBytes = 216
        counts.responder.packets = 1
        counts.responder.ipBytes = 50
        counts.responder.payloadBytes = 22
        var entry = WorkerShunting.Entry(
            key: ShuntTable.Key(
                originator: c.originator, originatorPort: 1, responder: c.responder, responderPort: 2,
                transportProtocol: 17),
            mark: TCPShuntMark(), packetsSeen: 0)
        Worker.add(counts, entry: &entry, to: &c)
        #expect(c.originatorPackets == 5 && c.originatorIPBytes == 400 && c.responderPackets == 1 && c.responderIPBytes == 50)
        #expect(c.udp.originatorBytes == 260 && c.udp.responderBytes == 22 && c.udp.connState.description == "SF")
    }
}
