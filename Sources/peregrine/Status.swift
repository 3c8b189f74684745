// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import PeregrineEngine

/// `peregrine status`: a running sensor's per-worker counters, from its metrics endpoint.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peregrine status",
        abstract: "Show a running sensor's packets, drops, capture loss, connections and log records per worker.",
        discussion: "Reads the Prometheus endpoint the sensor serves with --metrics (metrics.listen in peregrine.yaml).")

    @Option(help: "The sensor's metrics address.")
    var metrics = "127.0.0.1:9911"

    func run() throws {
        let exposition: String
        do {
            exposition = try MetricsClient.fetch(metrics)
        } catch {
            printError("peregrine: \(error)")
            throw ExitCode(1)
        }
        let workers = MetricsClient.workers(exposition)
        func percent(_ part: UInt64, of whole: UInt64) -> String {
            whole == 0 ? "0.000%" : String(Double(part) * 100 / Double(whole)).prefix(5) + "%"
        }
        func row(_ name: String, _ w: MetricsClient.Worker) -> String {
            [
                name, "\(w.packets)", "\(w.kernelPackets)", "\(w.kernelDrops)", percent(w.kernelDrops, of: w.kernelPackets),
                percent(w.tcpGaps, of: w.tcpAcks), "\(w.connections)", percent(w.connections, of: w.flowTableCapacity),
                "\(w.logRecords)", "\(w.logRingFullWaits)",
            ].map { $0.padding(toLength: 13) }.joined()
        }
        print(
            ["worker", "processed", "kernel", "dropped", "drop", "capture loss", "connections", "table fill", "log records",
             "ring waits"].map { $0.padding(toLength: 13) }.joined())
        var total = MetricsClient.Worker()
        for index in workers.keys.sorted() {
            let w = workers[index]!
            print(row("\(index)", w))
            total.packets += w.packets
            total.kernelPackets += w.kernelPackets
            total.kernelDrops += w.kernelDrops
            total.tcpAcks += w.tcpAcks
            total.tcpGaps += w.tcpGaps
            total.connections += w.connections
            total.flowTableCapacity += w.flowTableCapacity
            total.logRecords += w.logRecords
            total.logRingFullWaits += w.logRingFullWaits
        }
        print(row("all", total))
        let writer = MetricsClient.writer(exposition)
        print(
            "logs: \(writer.records) records, \(writer.bytes / 1_048_576) MiB written, \(writer.lostRecords) lost"
                + (writer.failing ? "; WRITES FAILING NOW (full disk?)" : ""))
    }
}

extension String {
    fileprivate func padding(toLength n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
