// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// When a worker writes its stats.log and capture_loss.log lines: on network time, as the events
/// Zeek's `policy/misc/stats` and `policy/misc/capture-loss` schedule fire.
///
/// Both scripts schedule their first event at `zeek_init`, when network time is still 0, so
/// reading a trace the first one fires at the first packet. stats.log then writes a line covering
/// that packet alone (Zeek's `scripts.policy.misc.stats` baseline starts with `pkts_proc` 1), while
/// capture-loss only starts counting there (`last_ts == 0`) and measures
/// `CaptureLoss::initial_watch_interval` later, then every `CaptureLoss::watch_interval`. A
/// measurement is due at the first packet at or past its time and is stamped with that packet's
/// time. At the end of input Zeek expires its pending timers, so both write one last line covering
/// the partial interval (the worker's `reportFinal()`).
///
/// Live, the manager thread runs the same schedule on the wall clock (`ReportManager`).
public struct ReportSchedule: Sendable, Equatable {
    /// `Stats::report_interval`, or `nil` when stats.log is off.
    public let statsInterval: Interval?
    /// `CaptureLoss::watch_interval`, or `nil` when capture_loss.log is off.
    public let lossInterval: Interval?
    /// `CaptureLoss::initial_watch_interval`.
    public let lossInitialInterval: Interval
    /// Network time of the next stats.log line.
    public private(set) var nextStats: Timestamp
    /// Network time of the next capture-loss measurement.
    public private(set) var nextLoss: Timestamp
    /// The previous capture-loss measurement (`last_ts`); `nil` until counting started.
    public private(set) var lastLoss: Timestamp?

    static let never = Timestamp(nanoseconds: .max)

    public init(statsInterval: Interval?, lossInterval: Interval?, lossInitialInterval: Interval) {
        self.statsInterval = statsInterval
        self.lossInterval = lossInterval
        self.lossInitialInterval = lossInitialInterval
        nextStats = statsInterval.map { Timestamp.zero.adding($0) } ?? Self.never
        nextLoss = lossInterval != nil ? Timestamp.zero.adding(lossInitialInterval) : Self.never
    }

    /// The schedule `configuration` asks for: stats.log with `misc/stats`, capture_loss.log with
    /// `misc/capture-loss`, at their configured intervals.
    init(configuration c: Configuration) {
        self.init(
            statsInterval: c.statsLogging ? c.statsInterval : nil,
            lossInterval: c.captureLossLogging ? c.captureLossInterval : nil,
            lossInitialInterval: c.captureLossInitialInterval)
    }

    /// The earliest network time at which something is due.
    public var nextDue: Timestamp { min(nextStats, nextLoss) }

    /// What is due at network time `now`.
    public struct Due: Equatable, Sendable {
        /// Write a stats.log line.
        public var stats = false
        /// Start counting ACKs and gaps from zero (capture-loss's first event).
        public var startLoss = false
        /// Write a capture_loss.log line covering this interval.
        public var lossDelta: Interval? = nil

        public init(stats: Bool = false, startLoss: Bool = false, lossDelta: Interval? = nil) {
            self.stats = stats
            self.startLoss = startLoss
            self.lossDelta = lossDelta
        }
    }

    /// Consumes what is due at `now` and schedules the next occurrences.
    public mutating func due(at now: Timestamp) -> Due {
        var d = Due()
        if let interval = statsInterval, now >= nextStats {
            d.stats = true
            nextStats = now.adding(interval)
        }
        if let interval = lossInterval, now >= nextLoss {
            if let last = lastLoss {
                d.lossDelta = now.since(last)
                nextLoss = now.adding(interval)
            } else {
                d.startLoss = true
                nextLoss = now.adding(lossInitialInterval)
            }
            lastLoss = now
        }
        return d
    }
}
