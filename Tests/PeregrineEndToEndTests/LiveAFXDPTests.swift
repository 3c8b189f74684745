// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineEngine
import PeregrineTestSupport
import Testing

/// `peregrine -i --capture af_xdp`: the real XDP program (`bpf/peregrine_xdp.bpf.c`) in native mode
/// feeds the workers' AF_XDP sockets on a veth, one queue (every socket on queue 0, the program
/// picks `hash % workers`) or two (a socket per queue). A replayed corpus trace gives the offline
/// run's logs, and every counter accounts for every frame: each one the sender sent was seen by
/// the program, redirected to a socket and processed by exactly one worker, none dropped.
@Suite struct LiveAFXDPTests {
    static let trace = "conn-wikipedia/wikipedia.pcap"

    @Test(arguments: [(workers: 2, queues: 1), (workers: 2, queues: 2)])
    func afXDPCaptureOfAReplayGivesTheOfflineLogsAndAccountsForEveryFrame(workers: Int, queues: Int) throws {
        guard let trace = LiveRunTests.liveTrace(Self.trace) else { return }
        let helper = LiveRunTests()
        let offline = try helper.temporaryDirectory(), live = try helper.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: offline)
            try? FileManager.default.removeItem(atPath: live)
        }
        var config = Configuration()
        config.ignoreChecksums = true
        config.seed = 7
        config.logDirectory = offline
        _ = try OfflineRun(configuration: config).run(path: trace)

        let veth = try VethNamespaces(queues: queues, prefix: "pgx")
        defer { veth.tearDown() }
        config.logDirectory = live
        config.workers = workers
        config.captureMode = .afXDP
        config.bpfDirectory = try BPFTestObjects.directory()
        try config.load(script: "misc/stats")
        // Each capture namespace has its own loopback, so the port cannot clash with another test's.
        config.metricsAddress = "127.0.0.1:9911"
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)  // sockets bound, program attached
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 2)  // the workers publish their readings about once a second
        let exposition = try veth.inCaptureNamespace { try MetricsClient.fetch("127.0.0.1:9911") }
        let outcome = capture.finish()
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        let summary = try #require(outcome.summary)
        let xdp = try #require(summary.xdp)
        let layout = queues == 1 ? "prgcap0: 2 sockets on queue 0, native, copy mode" : "prgcap0: 2 sockets, one per queue, native, copy mode"
        #expect(summary.captureMode == .afXDP && xdp.layouts == [layout], "\(xdp.layouts)")
        print(
            "AF_XDP \(workers) workers, \(queues) queue(s): \(sent) sent, \(summary.packets) processed, kernel "
                + "\(summary.kernelPackets)/\(summary.kernelDrops) dropped; program \(xdp.programCounts); "
                + "rx_dropped \(xdp.receiveDropped), rx_ring_full \(xdp.receiveRingFull), fill ring empty "
                + "\(xdp.fillRingEmpty), invalid \(xdp.invalidDescriptors), refill waits \(xdp.refillWaits)")
        // Every frame seen by the program went to a socket, and each was processed once.
        let total = UInt64(sent)
        #expect(summary.packets == total && summary.kernelPackets == total && summary.kernelDrops == 0)
        #expect(xdp[.packets] == total && xdp[.redirected] == total)
        #expect(xdp[.noSocket] == 0 && xdp[.noMetadata] == 0 && xdp[.filtered] == 0 && xdp[.shunted] == 0)
        #expect(xdp.receiveDropped == 0 && xdp.receiveRingFull == 0 && xdp.fillRingEmpty == 0 && xdp.invalidDescriptors == 0)

        // The metrics: the program's counters per interface, the sockets' per worker.
        func metric(_ line: String) -> Bool { exposition.split(separator: "\n").contains { $0 == line } }
        #expect(metric("peregrine_xdp_program_redirected_total{interface=\"prgcap0\"} \(sent)"), "\(exposition)")
        #expect(metric("peregrine_xdp_program_packets_total{interface=\"prgcap0\"} \(sent)"))
        #expect(metric("peregrine_xdp_program_no_socket_total{interface=\"prgcap0\"} 0"))
        for worker in 0..<workers {
            for name in ["rx_dropped", "rx_ring_full", "fill_ring_empty", "invalid_descriptors"] {
                #expect(metric("peregrine_xdp_\(name)_total{worker=\"\(worker)\"} 0"), "\(name)")
            }
        }
        #expect(MetricsClient.workers(exposition).values.reduce(0) { $0 + $1.packets } == UInt64(sent))

        // stats.log: the workers' pkts_proc add up to the replay, pkts_dropped stays 0, pkts_link counts each frame.
        let stats = try String(contentsOfFile: live + "/stats.log", encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        #expect(stats.map { UInt64($0[3]) ?? 0 }.reduce(0, +) == total)
        #expect(stats.map { UInt64($0[6]) ?? 0 }.reduce(0, +) == total)
        #expect(stats.allSatisfy { $0[5] == "0" })

        // The same rows as offline: a flow split over two workers would log two half connections.
        var expected = try helper.rows(offline), got = try helper.rows(live)
        expected["stats.log"] = nil
        got["stats.log"] = nil
        #expect(!expected.isEmpty && Set(got.keys) == Set(expected.keys))
        for (file, lines) in expected {
            #expect(got[file] == lines, "\(file): \(lines.count) rows offline, \(got[file]?.count ?? 0) live")
        }
        if let recall = try Self.connRecall(offline: offline, live: live) { #expect(recall == "1.0000", "zeekdiff recall \(recall)") }
    }

    /// conn.log's cell recall against the offline run by `../shared/tools/zeekdiff --ignore ts,duration`,
    /// or nil when the tool is not beside the clone.
    static func connRecall(offline: String, live: String) throws -> String? {
        let tool = TraceTests.corpus + "/../../tools/zeekdiff"
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let output = try VethNamespaces.run(tool, offline, live, "--logs", "conn", "--ignore", "ts,duration")
        guard let range = output.range(of: "recall=") else { return "?" }
        return String(output[range.upperBound...].prefix { $0 == "." || $0.isNumber })
    }

    /// `--capture auto` where AF_XDP cannot be set up without losing frames (two queues, one worker)
    /// captures with AF_PACKET and says why in one line.
    @Test func autoFallsBackToAFPacketSayingWhy() throws {
        guard let trace = LiveRunTests.liveTrace(Self.trace) else { return }
        let live = try LiveRunTests().temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: live) }
        let veth = try VethNamespaces(queues: 2, prefix: "pgx")
        defer { veth.tearDown() }
        var config = Configuration()
        config.seed = 7
        config.logDirectory = live
        config.captureMode = .auto
        config.bpfDirectory = try BPFTestObjects.directory()
        let notices = NoticeLines()
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config, notice: { notices.append($0) })
        Thread.sleep(forTimeInterval: 1)
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)
        let outcome = capture.finish()
        #expect(outcome.error == nil)
        #expect(outcome.summary?.captureMode == .afPacket && outcome.summary?.packets == UInt64(sent))
        #expect(
            notices.lines == [
                "AF_XDP on prgcap0: 2 receive queues for 1 workers; run one worker per queue (--workers 2), or set "
                    + "the queue count to the workers (ethtool -L prgcap0 combined 1, tuning/nic.sh) or to 1 for the "
                    + "workers to share it, or capture with --capture af_packet; capturing with AF_PACKET instead"
            ], "\(notices.lines)")
    }

    /// An interface whose driver has no native XDP (a bridge) and a single queue: generic mode, said so.
    @Test func noNativeXDPOnASingleQueueUsesGenericModeSayingSo() throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        let veth = try VethNamespaces(prefix: "pgx")
        defer { veth.tearDown() }
        try VethNamespaces.run("ip", "-n", veth.captureNamespace, "link", "add", "pgxbr0", "type", "bridge")
        try VethNamespaces.run("ip", "-n", veth.captureNamespace, "link", "set", "pgxbr0", "up")
        let live = try LiveRunTests().temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: live) }
        var config = Configuration()
        config.logDirectory = live
        config.captureMode = .afXDP
        config.bpfDirectory = try BPFTestObjects.directory()
        let notices = NoticeLines()
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config, interface: "pgxbr0", notice: { notices.append($0) })
        Thread.sleep(forTimeInterval: 1)
        let outcome = capture.finish()
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        #expect(outcome.summary?.xdp?.layouts == ["pgxbr0: 1 socket on queue 0, generic, copy mode"])
        #expect(notices.lines.count == 1 && notices.lines[0].hasPrefix("AF_XDP on pgxbr0: the driver has no native XDP; using generic (skb) mode"))
    }

    /// Collects `LiveRun`'s notices from its thread.
    final class NoticeLines: @unchecked Sendable {
        private let lock = NSLock()
        private var collected: [String] = []
        var lines: [String] { lock.withLock { collected } }
        func append(_ line: String) { lock.withLock { collected.append(line) } }
    }
}
