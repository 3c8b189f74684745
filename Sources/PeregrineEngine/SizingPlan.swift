// SPDX-License-Identifier: Apache-2.0
import PeregrineSessions

/// `peregrine sizing`: what a sensor needs for a link, from figures measured with the project's own
/// benchmark (tuning/DIMENSIONING.md says how each was measured and how to re-measure it on the
/// target box).
///
/// The model is deliberately simple and says what it assumes:
/// - packets/s = link bits/s × utilisation ÷ (8 × average packet bytes);
/// - workers = packets/s ÷ (one worker's measured packets/s × headroom), rounded up; the headroom
///   (default 50 %) covers bursts above the average and traffic heavier than the benchmark's mix;
/// - CPUs = workers + 1 for the writer and manager threads + 1 left to the system (CPU 0, IRQs);
/// - memory = a one-worker process (measured), plus per added worker its state (flow table,
///   reassembly and analyzer pools, measured as peak RSS per added worker), plus a capture ring per
///   worker and the flow-table memory of connections beyond the default table;
/// - disk = log bytes per packet × packets per day, uncompressed and compressed.
public struct SizingPlan: Sendable, Equatable {
    /// What the operator knows about the link.
    public struct Link: Sendable, Equatable {
        /// Line rate in bits per second.
        public var bitsPerSecond: Double
        /// Expected average utilisation, 0 < u ≤ 1.
        public var utilization: Double
        /// Average packet size on the wire, in bytes.
        public var averagePacketBytes: Double
        /// Connections open at the same time (all workers together); `nil` keeps the default table.
        public var concurrentConnections: Int?

        public init(bitsPerSecond: Double, utilization: Double, averagePacketBytes: Double = Figures.measured.averagePacketBytes,
                    concurrentConnections: Int? = nil) {
            self.bitsPerSecond = bitsPerSecond
            self.utilization = utilization
            self.averagePacketBytes = averagePacketBytes
            self.concurrentConnections = concurrentConnections
        }
    }

    /// The measured figures the plan scales from.
    public struct Figures: Sendable, Equatable {
        /// Packets per second one worker sustains on one core with every analyzer on.
        public var workerPacketsPerSecond: Double
        /// The same with `Analyzer::disable_all=T` (conn.log only).
        public var connOnlyWorkerPacketsPerSecond: Double
        /// Peak resident memory each worker adds (pools, flow table, buffers), in bytes.
        public var workerStateBytes: Double
        /// Peak resident memory of a one-worker run (code, writer thread, one worker), in bytes.
        public var baseBytes: Double
        /// Log bytes written per packet, every log together, uncompressed.
        public var logBytesPerPacket: Double
        /// The same for a conn-only run (conn.log alone).
        public var connOnlyLogBytesPerPacket: Double
        /// Uncompressed ÷ compressed size of those logs with gzip level 6.
        public var gzipRatio: Double
        /// The benchmark mix's average packet size (wire bytes ÷ packets).
        public var averagePacketBytes: Double

        /// Measured on the 2-core Debian 12 VM (2026-11-21/22) over big-mix.pcap (1,838,426
        /// packets, 1,776,426,707 wire bytes; `scripts/make-bench-trace.sh`):
        /// - rates: `scripts/bench.sh /tmp/big-mix.pcap --runs 2`, every analyzer 1.03 M packets/s,
        ///   conn-only 2.57 M;
        /// - memory: peak RSS of `peregrine -r` with 1, 2 and 4 workers, 87.8, 202 and 345 MiB, so
        ///   86 MiB per added worker;
        /// - logs: 29,771,580 bytes for the default run (16.2 per packet), 6,000,170 with
        ///   `gzip -6`; 8,922,195 bytes of conn.log for the conn-only run (4.85 per packet).
        public static let measured = Figures(
            workerPacketsPerSecond: 1_030_000, connOnlyWorkerPacketsPerSecond: 2_570_000,
            workerStateBytes: 86 * 1_048_576, baseBytes: 88 * 1_048_576, logBytesPerPacket: 16.2,
            connOnlyLogBytesPerPacket: 4.85, gzipRatio: 4.96, averagePacketBytes: 966)

        public init(workerPacketsPerSecond: Double, connOnlyWorkerPacketsPerSecond: Double, workerStateBytes: Double,
                    baseBytes: Double, logBytesPerPacket: Double, connOnlyLogBytesPerPacket: Double, gzipRatio: Double,
                    averagePacketBytes: Double) {
            self.workerPacketsPerSecond = workerPacketsPerSecond
            self.connOnlyWorkerPacketsPerSecond = connOnlyWorkerPacketsPerSecond
            self.workerStateBytes = workerStateBytes
            self.baseBytes = baseBytes
            self.logBytesPerPacket = logBytesPerPacket
            self.connOnlyLogBytesPerPacket = connOnlyLogBytesPerPacket
            self.gzipRatio = gzipRatio
            self.averagePacketBytes = averagePacketBytes
        }
    }

    /// Why a plan cannot be made.
    public struct InvalidInput: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String
    }

    /// Zeek's rule of thumb: about 200 Mbit/s per worker process.
    public static let zeekBitsPerWorker = 200e6
    /// Capture ring per worker: 128 blocks of 1 MiB, the TPACKET_V3 default (`AFPacketConfiguration`).
    public static let ringBytesPerWorker = 128 * 1_048_576
    /// Connections one worker's flow table holds by default (`Configuration.maxConnections`).
    public static let defaultConnectionsPerWorker = Configuration().maxConnections
    /// Flow-table memory per connection of capacity.
    public static let flowTableBytesPerConnection = FlowTable.bytesPerConnection

    public let link: Link
    public let figures: Figures
    public let headroom: Double
    public let connOnly: Bool
    /// Average packets per second on the link.
    public let packetsPerSecond: Double
    public let workers: Int
    public let cpus: Int
    /// Flow-table capacity per worker (`max_connections`), at least the default.
    public let connectionsPerWorker: Int
    public let memoryBytes: Double
    public let logBytesPerDay: Double
    public let compressedLogBytesPerDay: Double
    /// Workers the 200 Mbit/s rule gives Zeek for the same link.
    public let zeekWorkers: Int

    /// - Parameters:
    ///   - headroom: the share of a worker's measured rate the plan uses, 0 < h ≤ 1.
    ///   - connOnly: size for conn.log only (`Analyzer::disable_all=T`).
    /// - Throws: ``InvalidInput`` for a rate, utilisation, packet size or headroom out of range.
    public init(link: Link, figures: Figures = .measured, headroom: Double = 0.5, connOnly: Bool = false) throws(InvalidInput) {
        guard link.bitsPerSecond > 0, link.bitsPerSecond.isFinite else {
            throw InvalidInput(description: "link speed must be a positive number of bits per second")
        }
        guard link.utilization > 0, link.utilization <= 1 else {
            throw InvalidInput(description: "utilisation must be above 0 % and at most 100 %")
        }
        guard link.averagePacketBytes >= 60, link.averagePacketBytes <= 65_535 else {
            throw InvalidInput(description: "average packet size must be between 60 and 65535 bytes")
        }
        guard headroom > 0, headroom <= 1 else { throw InvalidInput(description: "headroom must be above 0 and at most 1") }
        if let c = link.concurrentConnections, c < 1 {
            throw InvalidInput(description: "concurrent connections must be at least 1")
        }
        self.link = link
        self.figures = figures
        self.headroom = headroom
        self.connOnly = connOnly
        packetsPerSecond = link.bitsPerSecond * link.utilization / (8 * link.averagePacketBytes)
        let perWorker = (connOnly ? figures.connOnlyWorkerPacketsPerSecond : figures.workerPacketsPerSecond) * headroom
        let workers = max(1, Int((packetsPerSecond / perWorker).rounded(.up)))
        self.workers = workers
        cpus = workers + 2
        // Flows hash across workers: each table gets its share of the open connections, with room
        // for an uneven hash (25 %), and never less than the default.
        var perWorkerConnections = Self.defaultConnectionsPerWorker
        if let c = link.concurrentConnections {
            perWorkerConnections = max(perWorkerConnections, Int((Double(c) * 1.25 / Double(workers)).rounded(.up)))
        }
        connectionsPerWorker = perWorkerConnections
        let extraTable = Double(perWorkerConnections - Self.defaultConnectionsPerWorker) * Double(Self.flowTableBytesPerConnection)
        memoryBytes = figures.baseBytes + Double(workers - 1) * figures.workerStateBytes
            + Double(workers) * (Double(Self.ringBytesPerWorker) + extraTable)
        logBytesPerDay = packetsPerSecond * 86_400 * (connOnly ? figures.connOnlyLogBytesPerPacket : figures.logBytesPerPacket)
        compressedLogBytesPerDay = logBytesPerDay / figures.gzipRatio
        zeekWorkers = Int((link.bitsPerSecond * link.utilization / Self.zeekBitsPerWorker).rounded(.up))
    }

    /// The plan as the console shows it.
    public var report: String {
        let rate = connOnly ? figures.connOnlyWorkerPacketsPerSecond : figures.workerPacketsPerSecond
        let ring = Self.ringBytesPerWorker >> 20
        return """
            traffic   \(Self.fixed(link.bitsPerSecond * link.utilization / 1e9, 2)) Gbit/s average \
            (\(Self.fixed(link.utilization * 100, 0)) % of \(Self.fixed(link.bitsPerSecond / 1e9, 1)) Gbit/s), \
            \(Self.fixed(link.averagePacketBytes, 0)) bytes per packet: \(Self.fixed(packetsPerSecond, 0)) packets/s
            workers   \(workers) (one worker: \(Self.fixed(rate / 1e6, 2)) M packets/s measured, \
            \(connOnly ? "conn.log only" : "every analyzer"); planned at \(Self.fixed(headroom * 100, 0)) % of it)
            CPUs      \(cpus) (the workers, 1 for the writer and manager threads, 1 left to the system and NIC interrupts)
            memory    \(Self.gib(memoryBytes)) (\(ring) MiB capture ring per worker, flow tables of \(connectionsPerWorker) connections)
            disk/day  \(Self.gib(logBytesPerDay)) of logs, about \(Self.gib(compressedLogBytesPerDay)) gzip-compressed
            Zeek      about \(zeekWorkers) workers for the same traffic at its rule of 200 Mbit/s per worker
            """
    }

    /// `value` with `digits` decimals (no Foundation in the engine).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int((value * scale).rounded())
        guard digits > 0 else { return String(n) }
        let whole = n / Int(scale), fraction = String(n % Int(scale))
        return "\(whole).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
    }

    static func gib(_ bytes: Double) -> String { fixed(bytes / 1_073_741_824, 1) + " GiB" }
}
