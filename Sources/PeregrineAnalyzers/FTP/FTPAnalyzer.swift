// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's FTP analyzer for one worker: an ``FTPParser`` per control connection in a
/// preallocated pool.
///
/// A connection that gets the analyzer holds a slot (`Connection.analyzerSlot`, 1-based) until
/// it is removed. When every slot is taken a new FTP connection goes unanalysed and ``full``
/// counts it (`analyzers.ftp.pool_full`).
public final class FTPAnalyzer {
    /// How many control connections can be analysed at once.
    public let capacity: Int
    /// Connections that found the pool full.
    public private(set) var full: UInt64 = 0
    /// Slots in use.
    public private(set) var inUse = 0

    var parsers: [FTPParser]
    var freeSlots: [UInt32]

    /// Allocates the pool.
    public init(capacity: Int) {
        precondition(capacity >= 1 && capacity < Int(UInt32.max), "FTP analyzer pool capacity out of range")
        self.capacity = capacity
        parsers = Array(repeating: FTPParser(), count: capacity)
        freeSlots = (0..<capacity).map { UInt32(capacity - $0) }
    }

    /// Takes a slot for a new connection.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach() -> UInt32? {
        guard let slot = freeSlots.popLast() else {
            full &+= 1
            return nil
        }
        parsers[Int(slot) - 1] = FTPParser()
        inUse += 1
        return slot
    }

    /// Returns `slot` to the pool, dropping its line buffers.
    public func detach(_ slot: UInt32) {
        parsers[Int(slot) - 1] = FTPParser()
        freeSlots.append(slot)
        inUse -= 1
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
