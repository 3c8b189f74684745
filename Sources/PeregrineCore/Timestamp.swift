// SPDX-License-Identifier: Apache-2.0

/// A point in network time: nanoseconds since the Unix epoch.
///
/// Network time is packet time (architecture.md, rule 4): every timer and every `ts` column comes
/// from packet timestamps, so a trace gives the same logs on every run. Nanoseconds keep pcapng's
/// finest resolution; logs render microseconds as Zeek does.
@frozen
public struct Timestamp: Comparable, Hashable, Sendable {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanoseconds: Int64

    @inlinable
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// Creates a timestamp from whole seconds and a nanosecond fraction.
    @inlinable
    public init(seconds: Int64, nanoseconds: Int64) {
        self.nanoseconds = seconds &* 1_000_000_000 &+ nanoseconds
    }

    /// The zero timestamp, used as "not yet seen".
    public static let zero = Timestamp(nanoseconds: 0)

    /// Seconds since the epoch as a double (Zeek's `time` type).
    @inlinable
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    @inlinable
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The interval from `earlier` to `self`.
    @inlinable
    public func since(_ earlier: Timestamp) -> Interval { Interval(nanoseconds: nanoseconds &- earlier.nanoseconds) }

    /// `self` moved forward by `interval`.
    @inlinable
    public func adding(_ interval: Interval) -> Timestamp { Timestamp(nanoseconds: nanoseconds &+ interval.nanoseconds) }
}

/// A span of network time in nanoseconds (Zeek's `interval` type).
@frozen
public struct Interval: Comparable, Hashable, Sendable {
    public var nanoseconds: Int64

    @inlinable
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    @inlinable
    public static func seconds(_ s: Int64) -> Interval { Interval(nanoseconds: s &* 1_000_000_000) }

    @inlinable
    public static func milliseconds(_ ms: Int64) -> Interval { Interval(nanoseconds: ms &* 1_000_000) }

    public static let zero = Interval(nanoseconds: 0)

    @inlinable
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    @inlinable
    public static func < (lhs: Interval, rhs: Interval) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
