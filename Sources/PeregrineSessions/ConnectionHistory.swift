// SPDX-License-Identifier: Apache-2.0

/// Zeek's per-connection `history` string (conn.log column 16) as an inline, allocation-free value.
///
/// Reproduces `Session::CheckHistory`, `Session::AddHistory` and `Session::ScaledHistoryEntry`
/// (src/session/Session.h/.cc): upper-case letters are the originator's, lower-case the
/// responder's; "once" letters are guarded by a connection-level `hist_seen` bit mask; `^` marks a
/// role flip (`Connection::FlipRoles`). Zeek's string is unbounded; this one keeps the first
/// ``capacity`` letters (48 bytes: far beyond every history in the corpus) and drops the rest.
@frozen
public struct ConnectionHistory: Sendable, Equatable {
    /// Maximum number of letters kept (later letters are dropped and counted in ``droppedLetters``).
    public static let capacity = 48

    /// The `hist_seen` bits of Zeek's TCP endpoints (`TCP_Endpoint::HIST_*`, responder bits are
    /// shifted left by 16) and of the UDP adapter.
    @frozen
    public struct OnceMask: Sendable, Equatable {
        public let rawValue: UInt32
        @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `HIST_SYN_PKT`: shared by `S` and `H`.
        public static let syn = OnceMask(rawValue: 0x1)
        /// `HIST_FIN_PKT` (`F`).
        public static let fin = OnceMask(rawValue: 0x2)
        /// `HIST_RST_PKT` (`R`).
        public static let rst = OnceMask(rawValue: 0x4)
        /// `HIST_FIN_RST_PKT` (`I`).
        public static let finRst = OnceMask(rawValue: 0x8)
        /// `HIST_DATA_PKT` (`D`).
        public static let data = OnceMask(rawValue: 0x10)
        /// `HIST_ACK_PKT` (`A`).
        public static let ack = OnceMask(rawValue: 0x20)
        /// `HIST_MULTI_FLAG_PKT` (`Q`).
        public static let multiFlag = OnceMask(rawValue: 0x40)
    }

    @usableFromInline var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    @usableFromInline var count: UInt8
    /// Zeek's `hist_seen`. A flip does not change it (Zeek's `FlipRoles` leaves it alone).
    @usableFromInline var seen: UInt32
    /// Letters that did not fit in ``capacity``.
    public var droppedLetters: UInt32

    /// An empty history (Zeek's initial `""`).
    @inlinable
    public init() {
        storage = (0, 0, 0, 0, 0, 0)
        count = 0
        seen = 0
        droppedLetters = 0
    }

    /// Number of letters stored.
    @inlinable public var length: Int { Int(count) }

    /// True when no letter was recorded (conn.log then shows the unset `-`).
    @inlinable public var isEmpty: Bool { count == 0 }

    /// The letter at `index` (ASCII).
    @inlinable
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < Int(count))
        return withUnsafeBytes(of: storage) { $0[index] }
    }

    /// `Session::AddHistory`: appends one ASCII letter.
    @inlinable
    public mutating func append(_ letter: UInt8) {
        guard Int(count) < Self.capacity else {
            droppedLetters &+= 1
            return
        }
        let index = Int(count)
        withUnsafeMutableBytes(of: &storage) { $0[index] = letter }
        count &+= 1
    }

    /// Appends `letter` for a direction: upper case for the originator, lower case otherwise
    /// (`TCP_Endpoint::AddHistory`'s `tolower`).
    @inlinable
    public mutating func append(_ letter: UInt8, isOriginator: Bool) {
        append(isOriginator ? letter : Self.lowercased(letter))
    }

    /// `Session::CheckHistory`: adds the letter only the first time its mask bit is set for this
    /// direction. Returns true when the bit was *already* set (Zeek's return convention), which is
    /// when the S/H/F/R callers may still add a repeat for a new sequence number.
    @inlinable
    @discardableResult
    public mutating func checkOnce(_ letter: UInt8, mask: OnceMask, isOriginator: Bool) -> Bool {
        let bit = isOriginator ? mask.rawValue : mask.rawValue << 16
        if seen & bit != 0 { return true }
        seen |= bit
        append(letter, isOriginator: isOriginator)
        return false
    }

    /// `Session::ScaledHistoryEntry` with base 10: adds the letter when the counter reaches 1,
    /// 10, 100, ... (the threshold multiplies by 10 each time; on 32-bit overflow the counter
    /// resets and the threshold stays). Returns whether a letter was added.
    @inlinable
    @discardableResult
    public mutating func addScaled(_ letter: UInt8, isOriginator: Bool, counter: inout ScaledHistoryCounter) -> Bool {
        counter.count &+= 1
        guard counter.count == counter.threshold else { return false }
        append(letter, isOriginator: isOriginator)
        let (next, overflow) = counter.threshold.multipliedReportingOverflow(by: 10)
        if overflow || next <= counter.threshold {
            counter.count = 0
        } else {
            counter.threshold = next
        }
        return true
    }

    /// `Connection::FlipRoles` appends `^`; nothing else changes (the seen bits stay where they are).
    @inlinable
    public mutating func flip() { append(UInt8(ascii: "^")) }

    /// Rewrites the history as Zeek's SYN-ACK-first flip does (see
    /// `TCPSessionState`): `^` followed by the old letters with their case swapped, and the
    /// originator/responder seen bits exchanged.
    @inlinable
    public mutating func flipRewritingPast() {
        let n = Int(count)
        withUnsafeMutableBytes(of: &storage) { bytes in
            var i = n
            while i > 0 {
                let c = bytes[i - 1]
                let swapped: UInt8
                if c >= 0x41 && c <= 0x5A { swapped = c | 0x20 } else if c >= 0x61 && c <= 0x7A { swapped = c & ~0x20 } else { swapped = c }
                if i < Self.capacity { bytes[i] = swapped }
                i -= 1
            }
            bytes[0] = UInt8(ascii: "^")
        }
        if n < Self.capacity { count &+= 1 } else { droppedLetters &+= 1 }
        seen = (seen << 16) | (seen >> 16)
    }

    /// Appends the letters (no terminator) to `buffer`, for the log writers.
    @inlinable
    public func write(to buffer: inout [UInt8]) {
        let n = Int(count)
        withUnsafeBytes(of: storage) { buffer.append(contentsOf: $0[0..<n]) }
    }

    /// The history as Zeek prints it (`""` when empty; the writer renders that as `-`).
    public var string: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        write(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @inlinable
    static func lowercased(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }

    public static func == (lhs: ConnectionHistory, rhs: ConnectionHistory) -> Bool {
        lhs.count == rhs.count && lhs.seen == rhs.seen
            && withUnsafeBytes(of: lhs.storage) { a in withUnsafeBytes(of: rhs.storage) { b in a.elementsEqual(b) } }
    }
}

/// The counter/threshold pair of one logarithmic history letter (`C G T W`): Zeek's
/// `chk_cnt/chk_thresh`, `gap_cnt/gap_thresh`, `rxmt_cnt/rxmt_thresh`, `win0_cnt/win0_thresh`
/// (both start at 0 and 1, TCP_Endpoint.cc).
@frozen
public struct ScaledHistoryCounter: Sendable, Equatable {
    /// Events seen so far (since the last overflow reset).
    public var count: UInt32
    /// The count at which the letter is added next.
    public var threshold: UInt32
    /// A fresh counter: the first event adds the letter.
    @inlinable public init() { count = 0; threshold = 1 }
}
