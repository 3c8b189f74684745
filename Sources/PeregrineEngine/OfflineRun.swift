// SPDX-License-Identifier: Apache-2.0
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrineLogs
import PeregrinePolicy
import PeregrineSessions

/// `peregrine -r FILE`: reads a pcap or pcapng file through one worker and writes the logs, as
/// `zeek -r` does. The end of input flushes every open connection (architecture.md, rule 3).
public final class OfflineRun {
    public let configuration: Configuration

    /// What a run did.
    public struct Summary: Sendable {
        /// Frames read from the file.
        public var packets: Int = 0
        /// Bytes on the wire of those frames.
        public var wireBytes: Int = 0
        /// conn.log records written.
        public var connections: UInt64 = 0
        /// weird.log records written.
        public var weirds: UInt64 = 0
        /// Connections evicted because the flow table was full.
        public var evictions: UInt64 = 0
        /// A read error met after every readable frame was processed (the logs are complete for
        /// those frames); `nil` when the file was read to its end.
        public var readError: String?
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Processes the file at `path` and closes every log.
    /// - Throws: `EngineError` when the file cannot be opened, the filter is invalid, or a log
    ///   cannot be written.
    public func run(path: String) throws -> Summary {
        let source: PcapFileSource
        do {
            source = try PcapFileSource(path: path, filter: configuration.captureFilter)
        } catch {
            throw EngineError(error.description)
        }
        guard LinkType(rawValue: source.linkType) != nil else {
            throw EngineError("\(path): link type \(source.linkType) is not supported")
        }
        let logs = LogStreams(
            directory: configuration.logDirectory, options: LogOptions(useJSON: configuration.useJSON),
            local: LocalNetworks(
                configured: configuration.localNetworks,
                privateAddressSpaceIsLocal: configuration.privateAddressSpaceIsLocal),
            vlanColumns: configuration.vlanLogging,
            communityIDSeed: configuration.communityID ? configuration.communityIDSeed : nil)
        let seed = configuration.seed ?? UInt64.random(in: .min ... .max)
        let worker = Worker(config: configuration, logs: logs, seed: seed)
        var summary = Summary()
        do {
            // Each frame carries its interface's link type (a pcapng file may mix them); the source
            // delivers only types in `PcapFileSource.supportedLinkTypes`, which all decode.
            let read = try source.forEachFrame { frame in
                guard let linkType = LinkType(rawValue: frame.linkType) else { return }
                worker.process(
                    bytes: frame.bytes, wireLength: frame.wireLength, timestamp: frame.timestamp, linkType: linkType)
            }
            summary.packets = read.packets
            summary.wireBytes = read.wireBytes
        } catch let error as PcapError {
            summary.packets = source.summary.packets
            summary.wireBytes = source.summary.wireBytes
            summary.readError = error.description
        }
        worker.finishAll()
        summary.connections = worker.logs.connRecords
        summary.weirds = worker.logs.weirdRecords
        summary.evictions = worker.flows.evicted
        do {
            try worker.logs.close()
        } catch {
            throw EngineError(error.description)
        }
        return summary
    }
}
