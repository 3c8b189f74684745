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
    /// How many connections can be analysed at once.
    public let capacity: Int
    /// Connections that found the pool full.
    public private(set) var full: UInt64 = 0
    /// Slots in use.
    public private(set) var inUse = 0

    var requests: [HTTPParser]
    var replies: [HTTPParser]
    var confirmed: [Bool]
    var freeSlots: [UInt32]
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
        precondition(capacity >= 1 && capacity < Int(UInt32.max), "HTTP analyzer pool capacity out of range")
        self.capacity = capacity
        self.limits = limits
        requests = Array(repeating: HTTPParser(isOriginator: true, limits: limits), count: capacity)
        replies = Array(repeating: HTTPParser(isOriginator: false, limits: limits), count: capacity)
        confirmed = Array(repeating: false, count: capacity)
        freeSlots = (0..<capacity).map { UInt32(capacity - $0) }
    }

    /// Takes a slot for a new connection.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach() -> UInt32? {
        guard let slot = freeSlots.popLast() else {
            full &+= 1
            return nil
        }
        let i = Int(slot) - 1
        requests[i] = HTTPParser(isOriginator: true, limits: limits)
        replies[i] = HTTPParser(isOriginator: false, limits: limits)
        confirmed[i] = false
        inUse += 1
        return slot
    }

    /// Returns `slot` to the pool (the connection is being removed).
    public func detach(_ slot: UInt32) {
        let i = Int(slot) - 1
        // Drop the buffers now rather than holding them until the slot is reused.
        requests[i] = HTTPParser(isOriginator: true, limits: limits)
        replies[i] = HTTPParser(isOriginator: false, limits: limits)
        freeSlots.append(slot)
        inUse -= 1
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
        let sawLine: Bool
        if isOriginator {
            let before = requests[i].linesParsed
            let wasIgnoring = requests[i].isIgnoring
            requests[i].feed(data, sink: &sink)
            if !requests[i].requestsSeen.isEmpty {
                replies[i].expect(requests[i].requestsSeen)
                requests[i].requestsSeen.removeAll(keepingCapacity: true)
            }
            sawLine = requests[i].linesParsed != before
            if !wasIgnoring && requests[i].isIgnoring && !sawLine { d.violation = .httpBadRequest }
        } else {
            let before = replies[i].linesParsed
            let wasIgnoring = replies[i].isIgnoring
            replies[i].feed(data, sink: &sink)
            sawLine = replies[i].linesParsed != before
            if !wasIgnoring && replies[i].isIgnoring && !sawLine { d.violation = .httpBadReply }
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
