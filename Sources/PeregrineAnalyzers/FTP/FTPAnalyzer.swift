// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's FTP analyzer for one worker: an ``FTPParser`` per control connection in a
/// preallocated pool.
///
/// A connection that gets the analyzer holds a slot (`Connection.analyzerSlot`, 1-based) until
/// it is removed. When every slot is taken a new FTP connection goes unanalysed and ``full``
/// counts it (`analyzers.ftp.pool_full`).
public final class FTPAnalyzer {
    /// The pool's free list, capacity and counters.
    public private(set) var slots: AnalyzerSlots
    /// How many control connections can be analysed at once.
    public var capacity: Int { slots.capacity }
    /// Connections that found the pool full.
    public var full: UInt64 { slots.full }
    /// Slots in use.
    public var inUse: Int { slots.inUse }

    var parsers: [FTPParser]

    /// Allocates the pool.
    public init(capacity: Int) {
        slots = AnalyzerSlots(capacity: capacity, name: "FTP")
        parsers = Array(repeating: FTPParser(), count: capacity)
    }

    /// Takes a slot for a new connection.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach() -> UInt32? {
        guard let slot = slots.take() else { return nil }
        parsers[Int(slot) - 1] = FTPParser()
        return slot
    }

    /// Returns `slot` to the pool, dropping its line buffers.
    public func detach(_ slot: UInt32) {
        parsers[Int(slot) - 1] = FTPParser()
        slots.give(slot)
    }

    /// True once the analyzer stopped for the connection (a violation).
    public func isViolated(_ slot: UInt32) -> Bool { parsers[Int(slot) - 1].violated }

    /// Parses the next stream bytes of one direction.
    /// - Returns: true when this delivery confirmed FTP (add service `ftp`).
    public func deliver<S: FTPEventSink>(
        _ slot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Bool {
        parsers[Int(slot) - 1].feed(data, isOriginator: isOriginator, sink: &sink)
    }

    /// Bytes of one direction were lost in a TCP gap.
    public func gap(_ slot: UInt32, isOriginator: Bool) {
        parsers[Int(slot) - 1].gap(isOriginator: isOriginator)
    }

    /// The connection ends.
    public func finish<S: FTPEventSink>(_ slot: UInt32, originatorClosed: Bool, sink: inout S) {
        parsers[Int(slot) - 1].finish(originatorClosed: originatorClosed, sink: &sink)
    }
}
