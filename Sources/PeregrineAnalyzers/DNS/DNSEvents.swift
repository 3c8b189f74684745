// SPDX-License-Identifier: Apache-2.0

/// The fixed 12-byte DNS header (RFC 1035 §4.1.1).
@frozen
public struct DNSHeader: Sendable, Equatable {
    /// Transaction id (`trans_id`).
    public var id: UInt16 = 0
    /// The flags word: QR, opcode, AA, TC, RD, RA, Z/AD/CD and rcode.
    public var flags: UInt16 = 0
    public var questionCount: UInt16 = 0
    public var answerCount: UInt16 = 0
    public var authorityCount: UInt16 = 0
    public var additionalCount: UInt16 = 0

    public init() {}

    /// True for a response.
    @inlinable public var isResponse: Bool { flags & 0x8000 != 0 }
    @inlinable public var opcode: UInt8 { UInt8((flags >> 11) & 0xF) }
    @inlinable public var authoritative: Bool { flags & 0x0400 != 0 }
    @inlinable public var truncated: Bool { flags & 0x0200 != 0 }
    @inlinable public var recursionDesired: Bool { flags & 0x0100 != 0 }
    @inlinable public var recursionAvailable: Bool { flags & 0x0080 != 0 }
    /// Zeek's `Z`: the three bits after RA (Z, AD, CD in RFC 4035 terms), as one number.
    @inlinable public var z: UInt8 { UInt8((flags >> 4) & 0x7) }
    @inlinable public var rcode: UInt8 { UInt8(flags & 0xF) }
}

/// Bytes of a ``DNSMessage``'s text buffer: a name or a rendered answer.
@frozen
public struct DNSText: Sendable, Equatable {
    public var start: Int32
    public var count: Int32

    @inlinable
    public init(start: Int, count: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: count)
    }
}

/// One entry of the question section (Zeek's `dns_request` / `dns_rejected` /
/// `dns_query_reply` events carry one each).
@frozen
public struct DNSQuestion: Sendable, Equatable {
    /// The name, lower-cased as Zeek normalises it.
    public var name: DNSText
    public var qtype: UInt16
    public var qclass: UInt16
}

/// One answer-section resource record, summarised the way Zeek's DNS policy summarises replies
/// (`DNS::do_reply`: one string per record).
@frozen
public struct DNSAnswer: Sendable, Equatable {
    /// How the record reads in dns.log's `answers`.
    public enum Summary: Sendable, Equatable {
        /// The record's summary text (an address, a name, `TXT 5 hello`, `DNSKEY 5` ...).
        case text(DNSText)
        /// A reply event whose summary is empty (WKS): it counts as an answer (sets `rtt`, `AA`,
        /// `RA`) but adds nothing to `answers`.
        case empty
        /// A type Zeek parses but its base policy has no reply handler for (OPT, TSIG, CAA,
        /// HINFO, SVCB, HTTPS ...): ignored by dns.log.
        case unlogged
    }

    /// The owner name, lower-cased.
    public var name: DNSText
    public var type: UInt16
    public var rrClass: UInt16
    /// Time to live in seconds.
    public var ttl: UInt32
    public var summary: Summary
}

/// The typed event for one DNS message: what Zeek's DNS analyzer raises as `dns_message`, the
/// per-question and per-answer events and `dns_end`, gathered into one value.
///
/// This is the boundary between the analyzer and everything that consumes DNS: the native
/// dns.log policy today, the script interpreter and the intelligence framework later. A
/// consumer reads it during the delivery call only; it is then reset and reused for the next
/// message, so its arrays and text buffer keep their capacity and steady-state parsing allocates
/// nothing. Names are bytes, never `String`s.
///
/// Only the header, the question section and the answer section are decoded: Zeek's defaults
/// `dns_skip_all_auth` and `dns_skip_all_addl` (both `T`) skip the authority and additional
/// sections too, so they raise no events and no weirds.
public struct DNSMessage: Sendable {
    public var header = DNSHeader()
    /// Whether the message travels as a query (after the analyzer's first-message correction:
    /// Zeek treats a first message with QR set as a reply even when the originator sent it).
    public var isQuery = true
    /// Size of the whole message in bytes (the `len` of Zeek's `dns_message`).
    public var length = 0
    /// Questions parsed before the section ended or parsing stopped.
    public var questions: [DNSQuestion] = []
    /// Answer-section records parsed before the section ended or parsing stopped.
    public var answers: [DNSAnswer] = []
    /// Backing bytes for every ``DNSText``.
    public var text: [UInt8] = []

    public init() {
        questions.reserveCapacity(4)
        answers.reserveCapacity(16)
        text.reserveCapacity(1024)
    }

    /// Empties the message, keeping capacity.
    public mutating func reset() {
        header = DNSHeader()
        isQuery = true
        length = 0
        questions.removeAll(keepingCapacity: true)
        answers.removeAll(keepingCapacity: true)
        text.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with the bytes of `t`.
    @inlinable
    public func withBytes<R>(_ t: DNSText, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        text.withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[Int(t.start)..<Int(t.start + t.count)]))
        }
    }

    /// The bytes of `t` as an array (tests and rare paths).
    public func bytes(_ t: DNSText) -> [UInt8] { Array(text[Int(t.start)..<Int(t.start + t.count)]) }
}
