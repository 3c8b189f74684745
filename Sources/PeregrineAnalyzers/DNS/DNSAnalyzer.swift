// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineSessions

/// Zeek's DNS analyzer over UDP for one worker: per-connection state in a preallocated pool, the
/// first-message role correction, confirmation and violation, and the `dns_session_timeout`
/// expiry timer.
///
/// A connection that gets the analyzer holds a pool slot (`Connection.analyzerSlot`) from
/// creation until it is removed. The pool never grows: when every slot is taken, a new DNS
/// connection goes unanalysed and `full` counts it (`analyzers.dns.pool_full`).
public final class DNSAnalyzer {
    /// Zeek's `dns_session_timeout` (`base/init-bare.zeek`): a UDP DNS connection is removed this
    /// long after its expiry timer was armed unless it saw traffic late in that period.
    public static let sessionTimeout = Interval.seconds(10)

    /// The idleness at a timer tick that removes the connection: `sessionTimeout` less one second.
    static let idleAtTick = Interval(nanoseconds: sessionTimeout.nanoseconds - 1_000_000_000)

    /// How many connections can be analysed at once.
    public let capacity: Int
    /// Connections that found the pool full.
    public private(set) var full: UInt64 = 0
    /// Slots in use.
    public private(set) var inUse = 0

    @usableFromInline let firstMessage: UnsafeMutablePointer<Bool>
    @usableFromInline let disabled: UnsafeMutablePointer<Bool>
    @usableFromInline let timerDue: UnsafeMutablePointer<Timestamp>
    let freeSlots: UnsafeMutablePointer<UInt32>
    var freeCount: Int

    /// What one delivered datagram did.
    public struct Delivery: Sendable {
        /// The message was decoded far enough for an event (it is in the caller's message).
        public var hasMessage = false
        /// The originator sent a response as the connection's first message to a unicast
        /// responder: swap the roles (Zeek's `DNS_Interpreter::ParseMessage` → `FlipRoles`).
        public var flipRoles = false
        /// The analyzer confirmed the protocol: add service `dns`.
        public var confirmed = false
        /// The analyzer saw a violation and is now disabled for this connection.
        public var violation: Weird? = nil
    }

    /// Allocates the pool.
    public init(capacity: Int) {
        precondition(capacity >= 1 && capacity < Int(UInt32.max), "DNS analyzer pool capacity out of range")
        self.capacity = capacity
        firstMessage = .allocate(capacity: capacity)
        firstMessage.initialize(repeating: true, count: capacity)
        disabled = .allocate(capacity: capacity)
        disabled.initialize(repeating: false, count: capacity)
        timerDue = .allocate(capacity: capacity)
        timerDue.initialize(repeating: .zero, count: capacity)
        freeSlots = .allocate(capacity: capacity)
        for i in 0..<capacity { freeSlots[i] = UInt32(capacity - i) }
        freeCount = capacity
    }

    deinit {
        firstMessage.deallocate()
        disabled.deallocate()
        timerDue.deallocate()
        freeSlots.deallocate()
    }

    /// Takes a slot for a new connection starting at `time`, arming its expiry timer.
    /// - Returns: the 1-based slot, or `nil` (counted) when the pool is full.
    public func attach(at time: Timestamp) -> UInt32? {
        guard freeCount > 0 else {
            full &+= 1
            return nil
        }
        freeCount -= 1
        let slot = freeSlots[freeCount]
        let i = Int(slot) - 1
        firstMessage[i] = true
        disabled[i] = false
        timerDue[i] = time.adding(Self.sessionTimeout)
        inUse += 1
        return slot
    }

    /// Returns `slot` to the pool (the connection is being removed).
    public func detach(_ slot: UInt32) {
        freeSlots[freeCount] = slot
        freeCount += 1
        inUse -= 1
    }

    /// True once a violation turned the analyzer off for `slot`'s connection.
    public func isDisabled(_ slot: UInt32) -> Bool { disabled[Int(slot) - 1] }

    /// Zeek's `DNS_Analyzer::ExpireTimer`, run for every timer tick up to `now`: at each tick,
    /// a connection idle for at least `sessionTimeout - 1 s` (the second spares the usual single
    /// request and reply a second timer) is due for removal; otherwise the timer is re-armed one
    /// period later.
    /// - Returns: true when the connection must be removed now.
    public func timerExpired(_ slot: UInt32, lastActivity: Timestamp, now: Timestamp) -> Bool {
        let i = Int(slot) - 1
        if disabled[i] { return false }
        while timerDue[i] <= now {
            if timerDue[i].since(lastActivity) >= Self.idleAtTick { return true }
            timerDue[i] = timerDue[i].adding(Self.sessionTimeout)
        }
        return false
    }

    /// When `slot`'s timer next fires.
    public func timerDue(_ slot: UInt32) -> Timestamp { timerDue[Int(slot) - 1] }

    /// Decodes one UDP payload of `slot`'s connection into `message`.
    /// - Parameters:
    ///   - isOriginator: the datagram came from the connection's originator.
    ///   - responderIsMulticast: the responder address is multicast (mDNS, LLMNR), where Zeek
    ///     never swaps roles.
    ///   - netBIOS: the responder port is 137.
    ///   - summarize: build answer summaries (someone consumes the event).
    public func deliver(
        _ slot: UInt32, payload: UnsafeRawBufferPointer, isOriginator: Bool, responderIsMulticast: Bool,
        netBIOS: Bool, summarize: Bool, message: inout DNSMessage, weirds: inout WeirdQueue
    ) -> Delivery {
        let i = Int(slot) - 1
        var d = Delivery()
        guard !disabled[i], payload.count >= 12 else {
            if !disabled[i] { weirds.append(.dnsTruncatedHeader) }
            return d
        }
        var isQuery = isOriginator
        if firstMessage[i] && isQuery && payload[2] & 0x80 != 0 {
            isQuery = false
            d.flipRoles = !responderIsMulticast
        }
        firstMessage[i] = false
        let outcome = DNSParser.parse(
            payload, isQuery: isQuery, netBIOS: netBIOS, summarize: summarize, into: &message, weirds: &weirds)
        d.hasMessage = outcome != .tooShort
        switch outcome {
        case .confirmed: d.confirmed = true
        case .violation(let w):
            d.violation = w
            disabled[i] = true
        case .tooShort, .incomplete: break
        }
        return d
    }
}
