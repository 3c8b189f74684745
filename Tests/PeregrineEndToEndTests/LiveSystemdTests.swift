// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineEngine
import PeregrineSystem
import PeregrineTestSupport
import Testing

/// What `systemd/peregrine.service` (`Type=notify`, `WatchdogSec=`) hears from a live run, through a
/// socket standing in for systemd's.
@Suite struct LiveSystemdTests {
    @Test func readyOnceCapturingThenWatchdogStatusReloadAndStopping() throws {
        guard let trace = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap") else { return }
        let listener = try NotifyListener(abstract: false)
        // A 400 ms watchdog: pings every 200 ms while the workers go round their loops.
        let notifier = try #require(
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "400000"], processID: getpid()))
        let live = try LiveRunTests().temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: live) }
        var config = Configuration()
        config.ignoreChecksums = true
        config.logDirectory = live
        config.workers = 2
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        // Read as systemd does, as the messages come (the socket queues only 10 datagrams).
        let heard = Heard()
        let reader = JoinableThread {
            while let message = try? listener.receive() {
                heard.append(message)
                if message == "STOPPING=1" { return }
            }
        }
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config, notifier: notifier)
        Thread.sleep(forTimeInterval: 1)
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)
        capture.reopen.reopen()
        Thread.sleep(forTimeInterval: 0.5)
        #expect(capture.finish().error == nil)
        reader.join()
        let messages = heard.messages
        let ready = try #require(messages.first)
        #expect(ready.hasPrefix("READY=1\n") && ready.contains("STATUS=capturing on \(veth.captureInterface) with 2 workers"))
        #expect(messages.last == "STOPPING=1")
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3)
        #expect(messages.contains { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") })
        // A status line after the replay counts every packet the workers processed.
        #expect(messages.contains { $0.hasPrefix("STATUS=") && $0.contains(": \(sent) packets, 0 dropped") })
    }

    final class Heard: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func append(_ m: String) { lock.withLock { list.append(m) } }
        var messages: [String] { lock.withLock { list } }
    }

    /// `--metrics`: a scrape during the run shows every replayed packet, per worker and in total.
    @Test func metricsEndpointCountsEveryPacket() throws {
        guard let trace = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap") else { return }
        let live = try LiveRunTests().temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: live) }
        var config = Configuration()
        config.ignoreChecksums = true
        config.logDirectory = live
        config.workers = 2
        let address = "127.0.0.1:\(20_000 + Int(getpid()) % 20_000)"
        config.metricsAddress = address
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 2)  // the workers publish their readings about once a second
        let exposition = try veth.inCaptureNamespace { try MetricsClient.fetch(address) }
        #expect(capture.finish().error == nil)
        #expect(exposition.contains("# TYPE peregrine_packets_total counter"))
        let workers = MetricsClient.workers(exposition)
        #expect(workers.keys.sorted() == [0, 1])
        #expect(workers.values.reduce(0) { $0 + $1.packets } == UInt64(sent))
        #expect(workers.values.reduce(0) { $0 + $1.kernelPackets } == UInt64(sent))
        #expect(workers.values.allSatisfy { $0.kernelDrops == 0 })
        #expect(workers.values.reduce(0) { $0 + $1.connections } > 0)
        #expect(workers.values.allSatisfy { $0.flowTableCapacity >= $0.connections && $0.flowTableCapacity > 0 })
        #expect(workers.values.reduce(0) { $0 + $1.tcpAcks } > 0, "the trace's TCP data is acknowledged")
        #expect(workers.values.allSatisfy { $0.tcpGaps <= $0.tcpAcks })
        let writer = MetricsClient.writer(exposition)
        #expect(writer.bytes > 0 && writer.records > 0, "the writer's totals: \(writer)")
        #expect(writer.lostRecords == 0 && !writer.failing)
    }
}
