// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineEngine
import PeregrineTestSupport
import Testing

/// Shunting live: a TLS download and an SSH upload (plus a small HTTP connection) replayed into a
/// veth while LiveRun captures with `--shunt`. The XDP program drops the bulk of the two encrypted
/// connections in the kernel, the workers get exactly the other packets, and conn.log is the
/// offline run's (without shunting) in every column but the timing ones and the uid: packets and IP
/// bytes come back from the kernel's counts, bytes from the sequence space it saw, and the gap the
/// shunt left is neither `missed_bytes` nor a `G` in the history.
@Suite(.serialized) struct ShuntLiveTests {
    static let trace = TraceTests.root.appendingPathComponent("Tests/Fixtures/Traces/shunt/tls-ssh-bulk.pcap").path

    /// The `encrypted` rule, and the byte threshold alone (64 KiB: the TLS download and the SSH
    /// upload pass it, the small HTTP connection does not), under AF_PACKET capture (the program
    /// attached for the shunt table alone); and the `encrypted` rule under AF_XDP capture (the
    /// capture program's own shunt table).
    @Test(arguments: [
        (ShuntPolicy(enabled: true, encrypted: true, bytes: 0), CaptureMode.afPacket),
        (ShuntPolicy(enabled: true, encrypted: false, bytes: 64 << 10), CaptureMode.afPacket),
        (ShuntPolicy(enabled: true, encrypted: true, bytes: 0), CaptureMode.afXDP),
    ])
    func shuntedConnectionsKeepTheOfflineConnLog(policy: ShuntPolicy, capture mode: CaptureMode) throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        let helper = LiveRunTests()
        let offline = try helper.temporaryDirectory(), live = try helper.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: offline)
            try? FileManager.default.removeItem(atPath: live)
        }
        var config = Configuration()
        config.ignoreChecksums = true
        config.seed = 11
        config.logDirectory = offline
        _ = try OfflineRun(configuration: config).run(path: Self.trace)

        let veth = try VethNamespaces(prefix: "pgs")
        defer { veth.tearDown() }
        config.logDirectory = live
        config.bpfDirectory = try BPFTestObjects.directory()
        config.shunt = policy
        config.captureMode = mode
        let address = "127.0.0.1:\(40_000 + Int(getpid()) % 10_000 + (mode == .afXDP ? 1 : 0))"
        config.metricsAddress = address
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)  // sockets bound, XDP program attached
        // 550 packets at 2,000/s: the workers see a handshake end (a ring block retires within 10 ms)
        // long before the bulk that follows it has passed.
        let sent = try veth.replay([Self.trace], packetsPerSecond: 2000)
        Thread.sleep(forTimeInterval: 2)  // the workers publish their readings about once a second
        let exposition = try veth.inCaptureNamespace { try MetricsClient.fetch(address) }
        let outcome = capture.finish()
        #expect(outcome.error == nil)
        let summary = try #require(outcome.summary)
        let shunt = try #require(summary.shunt)
        print(
            "shunt live: \(sent) sent, \(summary.packets) reached the workers, \(shunt.kernelDropped) dropped in the "
                + "kernel, \(shunt.kernelPassed) passed (SYN/FIN/RST); \(shunt.workers.shunted) connections shunted, "
                + "\(shunt.workers.packets) packets restored")
        #expect(shunt.workers.shunted == 2 && shunt.workers.refused == 0 && shunt.workers.lost == 0)
        #expect(shunt.workers.ended == 2)
        #expect(shunt.kernelDropped > UInt64(sent) / 3, "most of the two bulk transfers stays in the kernel")
        #expect(shunt.kernelPackets == UInt64(sent))
        // Every packet reaches the workers but the ones the kernel dropped, and those come back.
        #expect(summary.packets == UInt64(sent) - shunt.kernelDropped)
        #expect(summary.kernelPackets == summary.packets && summary.kernelDrops == 0)
        #expect(shunt.workers.packets == shunt.kernelDropped)
        // The metrics during the run: both shunts, and the program's drops so far.
        func total(_ metric: String) -> UInt64 {
            exposition.split(separator: "\n").filter { $0.hasPrefix(metric + "{") }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + UInt64($1) }
        }
        #expect(total("peregrine_shunted_connections_total") == 2, "\(exposition)")
        #expect(total("peregrine_xdp_program_shunted_total") == shunt.kernelDropped)

        let expected = try helper.rows(offline)["conn.log"] ?? [], got = try helper.rows(live)["conn.log"] ?? []
        #expect(expected.count == 3)
        #expect(got == expected, "offline: \(expected)\nlive: \(got)")
        // ssl.log and ssh.log are written from the handshakes, which the workers saw whole.
        for log in ["ssl.log", "ssh.log"] {
            #expect(try helper.rows(live)[log] == helper.rows(offline)[log], "\(log) differs")
        }
    }
}
