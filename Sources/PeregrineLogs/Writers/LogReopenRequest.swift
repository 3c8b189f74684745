// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// A request to reopen every log file, for external rotation: logrotate moves the files away,
/// then sends SIGHUP, and the writer thread starts new files (Zeek's files after a rotation).
///
/// Making the request is one lock-free atomic increment, so a signal handler may call
/// ``request()``; the writer thread notices the new generation between two batches of records
/// and does the work (`LogWriterThread`).
public final class LogReopenRequest: Sendable {
    private let generation = Atomic<UInt64>(0)

    public init() {}

    /// Asks the writer to reopen every log file (async-signal-safe).
    public func request() { generation.wrappingAdd(1, ordering: .releasing) }

    /// How many requests were made so far; the writer reopens when it changes.
    public var current: UInt64 { generation.load(ordering: .acquiring) }
}
