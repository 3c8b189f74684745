// SPDX-License-Identifier: Apache-2.0

/// The free list of an analyzer's per-connection pool: 1-based slots handed to new connections
/// and taken back when they are removed, with the pool's capacity and its counters (style.md §4:
/// every table has a capacity and a counter that shows when it was hit).
///
/// The analyzers keep their per-slot state in arrays of `capacity` entries indexed by `slot - 1`;
/// this is only the bookkeeping they share. Slot 0 is never handed out, so `Connection.analyzerSlot`
/// can use it for "none".
public struct AnalyzerSlots: Sendable {
    /// How many connections the pool serves at once.
    public let capacity: Int
    /// Connections that found every slot taken (`analyzers.<name>.pool_full`).
    public private(set) var full: UInt64 = 0
    /// Slots handed out now.
    public private(set) var inUse = 0
    var free: [UInt32]

    /// - Parameters:
    ///   - capacity: the number of slots, 1 up to `UInt32.max - 1`.
    ///   - name: the analyzer, for the message when `capacity` is out of range.
    public init(capacity: Int, name: StaticString) {
        precondition(capacity >= 1 && capacity < Int(UInt32.max), "\(name) analyzer pool capacity out of range")
        self.capacity = capacity
        free = (1...capacity).reversed().map { UInt32($0) }
    }

    /// A free slot, lowest first, or `nil` (counted in ``full``) when none is left.
    public mutating func take() -> UInt32? {
        guard let slot = free.popLast() else {
            full &+= 1
            return nil
        }
        inUse += 1
        return slot
    }

    /// Gives `slot` back.
    public mutating func give(_ slot: UInt32) {
        free.append(slot)
        inUse -= 1
    }
}
