// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's SMTP analyzer for one worker: an ``SMTPParser`` per connection in a preallocated
/// pool.
///
/// A connection that gets the analyzer holds a slot (`Connection.analyzerSlot`, 1-based) until
/// it is removed. When every slot is taken a new SMTP connection goes unanalysed and ``full``
/// counts it (`analyzers.smtp.pool_full`).
public final class SMTPAnalyzer {
    /// The pool's free list, capacity and counters.
    public private(set) var slots: AnalyzerSlots
    /// How many connections can be analysed at once.
    public var capacity: Int { slots.capacity }
    /// Connections that found the pool full.
    public var full: UInt64 { slots.full }
    /// Slots in use.
    public var inUse: Int { slots.inUse }

    var parsers: [SMTPParser]

    /// Allocates the pool.
    public init(capacity: Int) {
        slots = AnalyzerSlots(capacity: capacity, name: "SMTP")
        parsers = Array(repeating: SMTPParser(), count: capacity)
    }

    /// Takes a slot for a new connection.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach() -> UInt32? {
        guard let slot = slots.take() else { return nil }
        parsers[Int(slot) - 1] = SMTPParser()
        return slot
    }

    /// Returns `slot` to the pool, dropping its buffers.
    public func detach(_ slot: UInt32) {
        parsers[Int(slot) - 1] = SMTPParser()
        slots.give(slot)
    }

    /// Stops analysing `slot`'s connection (Zeek's `disable_analyzer`, which smtp.log's policy
    /// calls after too many invalid mail transactions).
    public func stop(_ slot: UInt32) { parsers[Int(slot) - 1].stopped = true }

    /// True once `STARTTLS` handed the connection to TLS.
    public func tlsStarted(_ slot: UInt32) -> Bool { parsers[Int(slot) - 1].tlsStarted }

    /// Parses the next stream bytes of one direction.
    /// - Returns: true when this delivery confirmed SMTP (add service `smtp`).
    public func deliver<S: SMTPEventSink>(
        _ slot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Bool {
        parsers[Int(slot) - 1].feed(data, isOriginator: isOriginator, sink: &sink)
    }

    /// Bytes of one direction were lost in a TCP gap.
    public func gap<S: SMTPEventSink>(_ slot: UInt32, isOriginator: Bool, sink: inout S) {
        parsers[Int(slot) - 1].gap(isOriginator: isOriginator, sink: &sink)
    }

    /// The connection ends.
    public func finish<S: SMTPEventSink>(_ slot: UInt32, sink: inout S) {
        parsers[Int(slot) - 1].finish(sink: &sink)
    }
}
