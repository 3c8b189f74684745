// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import PeregrineEngine

/// `peregrine status`: a running sensor's per-worker counters, from its metrics endpoint.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peregrine status",
        abstract: "Show a running sensor's packets, kernel drops, connections and log records per worker.",
        discussion: "Reads the Prometheus endpoint the sensor serves with --metrics (metrics.listen in peregrine.yaml).")

    @Option(help: "The sensor's metrics address.")
    var metrics = "127.0.0.1:9911"

    func run() throws {
        let workers: [Int: MetricsClient.Worker]
        do {
            workers = MetricsClient.workers(try MetricsClient.fetch(metrics))
        } catch {
            printError("peregrine: \(error)")
            throw ExitCode(1)
        }
        func row(_ name: String, _ w: MetricsClient.Worker) -> String {
            let seen = w.kernelPackets
            let share = seen == 0 ? "0.000" : String(Double(w.kernelDrops) * 100 / Double(seen)).prefix(5)
            return [name, "\(w.packets)", "\(w.kernelPackets)", "\(w.kernelDrops)", "\(share)%", "\(w.connections)",
                    "\(w.logRecords)", "\(w.logRingFullWaits)"].map { $0.padding(toLength: 14) }.joined()
        }
        print(["worker", "processed", "kernel", "dropped", "drop %", "connections", "log records", "ring waits"]
            .map { $0.padding(toLength: 14) }.joined())
        var total = MetricsClient.Worker()
        for index in workers.keys.sorted() {
            let w = workers[index]!
            print(row("\(index)", w))
            total.packets += w.packets
            total.kernelPackets += w.kernelPackets
            total.kernelDrops += w.kernelDrops
            total.connections += w.connections
            total.logRecords += w.logRecords
            total.logRingFullWaits += w.logRingFullWaits
        }
        print(row("all", total))
    }
}

extension String {
    fileprivate func padding(toLength n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}
