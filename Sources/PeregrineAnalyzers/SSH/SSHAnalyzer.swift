// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's SSH analyzer over TCP for one worker: a preallocated pool of ``SSHConnection`` states
/// indexed by `Connection.analyzerSlot`, with confirmation and violation reporting.
///
/// The pool never grows: when every slot is taken, a new SSH connection goes unanalysed and
/// ``full`` counts it (`analyzers.ssh.pool_full`). A slot's buffers keep their capacity when it is
/// reused.
public final class SSHAnalyzer {
    /// The pool's free list, capacity and counters.
    public private(set) var slots: AnalyzerSlots
    /// How many connections can be analysed at once.
    public var capacity: Int { slots.capacity }
    /// Connections that found the pool full.
    public var full: UInt64 { slots.full }
    /// Slots in use.
    public var inUse: Int { slots.inUse }

    var states: [SSHConnection]
    /// Off after a violation, or after a successful authentication
    /// (`SSH::disable_analyzer_after_detection`, default T).
    var disabled: [Bool]
    var reportedConfirmation: [Bool]

    /// What one delivery did.
    public struct Delivery: Sendable {
        /// The protocol was confirmed by this delivery (add service `ssh` once).
        public var confirmed = false
        /// The analyzer saw a violation and is now disabled for this connection.
        public var violation: SSHConnection.Violation? = nil
    }

    /// Allocates the pool.
    public init(capacity: Int) {
        slots = AnalyzerSlots(capacity: capacity, name: "SSH")
        states = Array(repeating: SSHConnection(), count: capacity)
        disabled = Array(repeating: false, count: capacity)
        reportedConfirmation = Array(repeating: false, count: capacity)
    }

    /// Takes a slot for a new connection.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach() -> UInt32? {
        guard let slot = slots.take() else { return nil }
        let i = Int(slot) - 1
        states[i].reset()
        disabled[i] = false
        reportedConfirmation[i] = false
        return slot
    }

    /// Returns `slot` to the pool (the connection is being removed).
    public func detach(_ slot: UInt32) {
        slots.give(slot)
    }

    /// Parses the next stream bytes of `slot`'s connection, raising events into `sink`.
    public func deliver<S: SSHEventSink>(
        _ slot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Delivery {
        let i = Int(slot) - 1
        var d = Delivery()
        guard !disabled[i] else { return d }
        if let v = states[i].deliver(data, isOriginator: isOriginator, sink: &sink) {
            disabled[i] = true
            d.violation = v
        }
        if states[i].confirmed && !reportedConfirmation[i] {
            reportedConfirmation[i] = true
            d.confirmed = true
        }
        return d
    }

    /// Turns the analyzer off for `slot`'s connection (Zeek's `disable_analyzer` after a
    /// successful authentication).
    public func disable(_ slot: UInt32) { disabled[Int(slot) - 1] = true }

    /// True once a violation or a successful authentication turned the analyzer off for `slot`.
    public func isDisabled(_ slot: UInt32) -> Bool { disabled[Int(slot) - 1] }

    /// A content gap in either direction of `slot`'s connection.
    public func gap(_ slot: UInt32) {
        states[Int(slot) - 1].gap()
    }
}
