// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek 9's `base/frameworks/analyzer/dpd.zeek` and `logging.zeek`:
/// what a protocol violation does to a connection, and analyzer.log.
///
/// Zeek's rules, in order:
/// 1. A violation once more than `DPD::ignore_violations_after` (10 KiB) of payload went over the
///    connection, both directions together, is ignored: the analyzer stays.
/// 2. Otherwise the analyzer is disabled (`analyzer_failed`).
/// 3. analyzer.log gets a line only if the analyzer had confirmed the protocol, i.e. its service
///    is in conn.log's `service`; the service is then removed from it (`failed_analyzers`).
///    A violation before confirmation just drops the analyzer, silently.
public struct AnalyzerLog {
    /// analyzer.log's columns, in Zeek 9's order (`zeek-logs.md` §21).
    public static let schema = LogSchema(
        id: 12, path: "analyzer",
        columns: [
            LogColumn("ts", .time), LogColumn("analyzer_kind", .string), LogColumn("analyzer_name", .string),
            LogColumn("uid", .string), LogColumn("fuid", .string),
        ] + LogStreams.idColumns + [
            LogColumn("proto", .enum), LogColumn("failure_reason", .string), LogColumn("failure_data", .string),
        ])

    /// `DPD::ignore_violations_after`.
    public static let ignoreViolationsAfter: UInt64 = 10 * 1024
    /// `Analyzer::Logging::failure_data_max_size`.
    public static let failureDataMaxSize = 40

    /// What a violation does.
    public enum Outcome: Sendable, Equatable {
        /// Past `ignoreViolationsAfter`: keep the analyzer.
        case ignored
        /// Disable the analyzer for the connection.
        case disable
    }

    var record = LogRecordEncoder(schema: AnalyzerLog.schema)
    /// Lines written.
    public private(set) var records: UInt64 = 0

    public init() {}

    /// Applies a violation of `kind`'s analyzer on connection `c`.
    /// - Parameters:
    ///   - reason: the analyzer's reason (`failure_reason`).
    ///   - data: the bytes it blames, if any (`failure_data`, cut to 40 bytes).
    public mutating func violation(
        _ kind: AnalyzerKind, reason: StaticString, data: UnsafeRawBufferPointer?, connection c: inout Connection,
        now: Timestamp, logs: inout LogStreams
    ) -> Outcome {
        let size: UInt64 =
            switch c.transportProtocol {
            case 6: c.tcp.originatorBytes &+ c.tcp.responderBytes
            case 17: c.udp.originatorBytes &+ c.udp.responderBytes
            default: 0
            }
        if size > Self.ignoreViolationsAfter { return .ignored }
        guard let service = kind.service?.rawValue, c.services.contains(service) else { return .disable }
        c.services.remove(service)
        var r = record
        r.reset()
        r.time(now)
        r.string("protocol")
        r.string(kind.zeekName)
        r.uid(c.uid)
        r.unset()
        r.addr(c.originator)
        r.port(c.originatorPort)
        r.addr(c.responder)
        r.port(c.responderPort)
        r.enumValue(TransportName.name(ipProtocol: c.transportProtocol))
        r.string(reason)
        if let data {
            r.string(UnsafeRawBufferPointer(rebasing: data.prefix(Self.failureDataMaxSize)))
        } else {
            r.unset()
        }
        logs.write(r)
        record = r
        records &+= 1
        return .disable
    }
}
