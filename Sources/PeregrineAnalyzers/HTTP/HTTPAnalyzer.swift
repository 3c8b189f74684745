// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's HTTP analyzer for one worker: a request parser and a reply parser per connection in a
/// preallocated pool, the request/reply coupling (a reply to `HEAD` has no body, a `2xx` to
/// `CONNECT` ends HTTP on the connection), and protocol confirmation.
///
/// A connection that gets the analyzer holds a pool slot (`Connection.analyzerSlot`) from
/// attachment until it is removed. The pool never grows: when every slot is taken, a new HTTP
/// connection goes unanalysed and ``full`` counts it (`analyzers.http.pool_full`).
public final class HTTPAnalyzer {
    /// The pool's free list, capacity and counters.
    public private(set) var slots: AnalyzerSlots
    /// How many connections can be analysed at once.
    public var capacity: Int { slots.capacity }
    /// Connections that found the pool full.
    public var full: UInt64 { slots.full }
    /// Slots in use.
    public var inUse: Int { slots.inUse }

    var requests: [HTTPParser]
    var replies: [HTTPParser]
    var confirmed: [Bool]
    let limits: HTTPLimits

    /// What one delivery did besides raising events.
    public struct Delivery: Sendable {
        /// The first request or reply line parsed: add service `http` (Zeek confirms HTTP on
        /// the first well-formed request or reply).
        public var confirmed = false
        /// The direction's first line was not HTTP: the analyzer is off for the connection.
        public var violation: Weird? = nil
    }

    /// Allocates the pool.
    public init(capacity: Int, limits: HTTPLimits = HTTPLimits()) {
        slots = AnalyzerSlots(capacity: capacity, name: "HTTP")
        self.limits = limits
        requests = Array(repeating: HTTPParser(isOriginator: true, limits: limits), count: capacity)
        replies = Array(repeating: HTTPParser(isOriginator: false, limits: limits), count: capacity)
        confirmed = Array(repeating: false, count: capacity)
    }

    /// Takes a slot for a new connection.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach() -> UInt32? {
        guard let slot = slots.take() else { return nil }
        let i = Int(slot) - 1
        requests[i] = HTTPParser(isOriginator: true, limits: limits)
        replies[i] = HTTPParser(isOriginator: false, limits: limits)
        confirmed[i] = false
        return slot
    }

    /// Returns `slot` to the pool (the connection is being removed).
    public func detach(_ slot: UInt32) {
        let i = Int(slot) - 1
        // Drop the buffers now rather than holding them until the slot is reused.
        requests[i] = HTTPParser(isOriginator: true, limits: limits)
        replies[i] = HTTPParser(isOriginator: false, limits: limits)
        slots.give(slot)
    }

    /// True once both directions stopped parsing.
    public func isDone(_ slot: UInt32) -> Bool {
        let i = Int(slot) - 1
        return requests[i].isIgnoring && replies[i].isIgnoring
    }

    /// Parses the next stream bytes of one direction of `slot`'s connection.
    public func deliver<S: HTTPEventSink>(
        _ slot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Delivery {
        let i = Int(slot) - 1
        var d = Delivery()
        // Each parser is worked on in place through one `inout` access: reading its properties
        // through the array subscript copied the whole parser (and retained its buffers) on every
        // delivery (callgrind on real-mix.pcap).
        let (sawLine, violated) = isOriginator
            ? Self.feed(&requests[i], data, sink: &sink) : Self.feed(&replies[i], data, sink: &sink)
        if isOriginator {
            requests[i].forwardRequests(to: &replies[i])
            if violated { d.violation = .httpBadRequest }
        } else if violated {
            d.violation = .httpBadReply
        }
        if sawLine && !confirmed[i] {
            confirmed[i] = true
            d.confirmed = true
        }
        // A violation only counts before confirmation; later garbage just stops that direction.
        if d.violation != nil && !confirmed[i] {
            requests[i].state = .ignore
            replies[i].state = .ignore
        } else {
            d.violation = nil
        }
        return d
    }

    /// Feeds one direction's parser; returns whether it parsed a start line and whether this
    /// delivery turned it from parsing to ignoring without one (a violation before confirmation).
    static func feed<S: HTTPEventSink>(_ parser: inout HTTPParser, _ data: UnsafeRawBufferPointer, sink: inout S)
        -> (sawLine: Bool, violated: Bool)
    {
        let before = parser.linesParsed
        let wasIgnoring = parser.isIgnoring
        parser.feed(data, sink: &sink)
        let sawLine = parser.linesParsed != before
        return (sawLine, !wasIgnoring && parser.isIgnoring && !sawLine)
    }

    /// Bytes of one direction lost in a TCP gap.
    public func gap<S: HTTPEventSink>(_ slot: UInt32, length: UInt64, isOriginator: Bool, sink: inout S) {
        let i = Int(slot) - 1
        if isOriginator {
            requests[i].gap(length: length, sink: &sink)
        } else {
            replies[i].gap(length: length, sink: &sink)
        }
    }

    /// The connection ends: open messages are finished (requests first, as Zeek's `Done`).
    public func finish<S: HTTPEventSink>(_ slot: UInt32, sink: inout S) {
        let i = Int(slot) - 1
        requests[i].finish(sink: &sink)
        replies[i].finish(sink: &sink)
    }
}
