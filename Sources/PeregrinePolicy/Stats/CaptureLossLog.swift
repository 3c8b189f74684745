// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineLogs

/// The native counterpart of Zeek's `policy/misc/capture-loss.zeek`: one capture_loss.log line
/// per node and watch interval, estimating loss from TCP ACKs that cover data never seen.
///
/// `acks` and `gaps` are the interval's differences of Zeek's `get_gap_stats()` counters
/// (`ack_events`, `gap_events`; see `TCPSessionState.ackReceived`), and `percent_lost` is
/// `100 * gaps / acks`, 0.0 without ACKs.
public enum CaptureLossLog {
    /// capture_loss.log's columns (`zeek-logs.md` §16).
    public static let schema = LogSchema(
        id: 14, path: "capture_loss",
        columns: [
            LogColumn("ts", .time), LogColumn("ts_delta", .interval), LogColumn("peer", .string),
            LogColumn("gaps", .count), LogColumn("acks", .count), LogColumn("percent_lost", .double),
        ])

    /// Zeek's `pct_lost`.
    public static func percentLost(gaps: UInt64, acks: UInt64) -> Double {
        acks == 0 ? 0.0 : 100 * Double(gaps) / Double(acks)
    }

    /// Writes one line: the measurement at `time`, `delta` after the previous one.
    public static func write(
        time: Timestamp, delta: Interval, peer: String, gaps: UInt64, acks: UInt64, logs: inout LogStreams
    ) {
        var r = LogRecordEncoder(schema: schema)
        r.time(time)
        r.interval(delta)
        r.string(peer)
        r.count(gaps)
        r.count(acks)
        r.double(percentLost(gaps: gaps, acks: acks))
        logs.write(r)
    }
}
