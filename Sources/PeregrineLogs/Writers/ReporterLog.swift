// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// reporter.log: Zeek's log of the sensor's own problems (`Reporter::WARNING`, `Reporter::ERROR`).
/// The writer thread is its only source: it reports there when log writes start failing (if the
/// disk takes even that line) and when they work again, with the count of records lost between.
public enum ReporterLog {
    /// The stream's schema, as `zeek-logs.md` gives it. Its id sits above every policy stream's.
    public static let schema = LogSchema(
        id: 30, path: "reporter",
        columns: [
            LogColumn("ts", .time), LogColumn("level", .enum), LogColumn("message", .string),
            LogColumn("location", .string),
        ])

    /// A record's severity, as Zeek spells it.
    public enum Level: Sendable {
        case warning, error

        var name: StaticString {
            switch self {
            case .warning: "Reporter::WARNING"
            case .error: "Reporter::ERROR"
            }
        }
    }

    /// Encodes one record stamped with the wall clock (`ts`), `location` unset.
    static func record(_ level: Level, _ message: String, at seconds: Int) -> LogRecordEncoder {
        var encoder = LogRecordEncoder(schema: schema)
        encoder.time(Timestamp(nanoseconds: Int64(seconds) * 1_000_000_000))
        encoder.enumValue(level.name)
        encoder.string(message)
        encoder.unset()
        return encoder
    }
}
