// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import PeregrineEngine

/// `peregrine sizing`: workers, CPUs, memory and disk for a link (tuning/DIMENSIONING.md).
struct Sizing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peregrine sizing",
        abstract: "Plan a sensor for a link: workers, CPUs, memory and disk per day.",
        discussion: """
            Scales the figures measured with scripts/bench.sh (tuning/DIMENSIONING.md says how; \
            the options below replace them with your own measurements), e.g.:

              peregrine sizing --link 10 --utilization 40
            """)

    @Option(help: "Link speed in Gbit/s.")
    var link: Double

    @Option(help: "Expected average utilisation in percent.")
    var utilization: Double

    @Option(help: "Average packet size on the wire in bytes.")
    var packetBytes = SizingPlan.Figures.measured.averagePacketBytes

    @Option(help: "Connections open at the same time, all workers together.")
    var connections: Int?

    @Flag(help: "Size for conn.log only (Analyzer::disable_all=T).")
    var connOnly = false

    @Option(help: "Share of one worker's measured rate to plan for, in percent.")
    var headroom = 50.0

    @Option(help: "Packets/s one worker sustains with every analyzer (measured: 1030000).")
    var workerPps = SizingPlan.Figures.measured.workerPacketsPerSecond

    @Option(help: "Packets/s one worker sustains for conn.log only (measured: 2570000).")
    var connOnlyPps = SizingPlan.Figures.measured.connOnlyWorkerPacketsPerSecond

    @Option(help: "Peak memory each added worker takes, in MiB (measured: 86).")
    var workerMib = SizingPlan.Figures.measured.workerStateBytes / 1_048_576

    @Option(help: "Log bytes written per packet, every log (measured: 16.2).")
    var logBytesPerPacket = SizingPlan.Figures.measured.logBytesPerPacket

    func run() throws {
        var figures = SizingPlan.Figures.measured
        figures.workerPacketsPerSecond = workerPps
        figures.connOnlyWorkerPacketsPerSecond = connOnlyPps
        figures.workerStateBytes = workerMib * 1_048_576
        figures.logBytesPerPacket = logBytesPerPacket
        guard workerPps > 0, connOnlyPps > 0, workerMib >= 0, logBytesPerPacket >= 0 else {
            throw ValidationError("measured figures must be positive")
        }
        do {
            let plan = try SizingPlan(
                link: .init(
                    bitsPerSecond: link * 1e9, utilization: utilization / 100, averagePacketBytes: packetBytes,
                    concurrentConnections: connections),
                figures: figures, headroom: headroom / 100, connOnly: connOnly)
            print(plan.report)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
