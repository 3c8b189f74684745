// SPDX-License-Identifier: Apache-2.0

/// A named statistic owned by one thread: a plain `UInt64`, published as snapshots.
///
/// Workers share nothing (style.md §4.5), so counters are bumped without atomics; the manager reads
/// copies taken between batches. Names are dotted snake case (`flows.evicted`).
@frozen
public struct Counter: Sendable {
    /// The counter's name, e.g. `decode.truncated`.
    public let name: StaticString
    /// The current value.
    public var value: UInt64

    @inlinable
    public init(_ name: StaticString, value: UInt64 = 0) {
        self.name = name
        self.value = value
    }

    @inlinable
    public mutating func increment(by amount: UInt64 = 1) { value &+= amount }
}
