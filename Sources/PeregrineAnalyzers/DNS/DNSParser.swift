// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineSessions

/// Decodes one whole DNS message (RFC 1035 §4) into a ``DNSMessage``, as Zeek's
/// `DNS_Interpreter::ParseMessage` does.
///
/// The parser is pure: it reads the borrowed bytes, writes into the caller's reusable message
/// and weird queue, and keeps no state. It takes a complete message, so UDP hands it a datagram
/// payload and a TCP framer can hand it each length-prefixed message.
///
/// Zeek's rules kept here, because dns.log and weird.log depend on them:
/// - Names are lower-cased; a trailing dot is dropped; labels are copied into a 512-byte name
///   buffer per name (`DNS_label_len_gt_name_len` past it). Labels over 63 bytes are refused
///   (`DNS_label_too_long`) except towards NetBIOS name service (port 137).
/// - A compression pointer must point strictly before itself (`DNS_label_forward_compress_offset`
///   otherwise), and the name it continues must end before the pointer. Each hop therefore moves
///   strictly backwards through a strictly shorter region: pointer loops are impossible and a
///   name costs at most one pass over the message, however the pointers are chained.
/// - A name that breaks stops where it broke, and parsing goes on with what was read (Zeek's
///   `ExtractName` never fails); truncated fixed fields end the section with a weird.
/// - More than `maxQuestions` questions is taken as "not DNS": a violation (`dns_max_queries`).
public enum DNSParser {
    /// Zeek's `dns_max_queries` (`base/init-bare.zeek`): more questions than this in one message
    /// is a protocol violation.
    public static let maxQuestions = 25
    /// Zeek's per-name buffer (`u_char name[513]`, one byte kept for a terminator).
    public static let nameCapacity = 512

    /// How a message went.
    public enum Outcome: Sendable, Equatable {
        /// Shorter than the 12-byte header: nothing was decoded (no message event).
        case tooShort
        /// Header, questions and answers decoded: the analyzer confirms the protocol.
        case confirmed
        /// Decoding stopped early (the message event still carries what was read).
        case incomplete
        /// Not DNS: the analyzer reports a violation with this reason.
        case violation(Weird)

        public static func == (a: Outcome, b: Outcome) -> Bool {
            switch (a, b) {
            case (.tooShort, .tooShort), (.confirmed, .confirmed), (.incomplete, .incomplete): true
            case (.violation(let x), .violation(let y)): x.name.description == y.name.description
            default: false
            }
        }
    }

    /// Decodes `bytes` into `message` (which is reset first).
    /// - Parameters:
    ///   - isQuery: whether the message is taken as a query (the analyzer decides from the
    ///     direction and the first message).
    ///   - netBIOS: the connection's responder port is 137 (longer labels allowed; SRV there is
    ///     NetBIOS NBSTAT and not decoded).
    ///   - summarize: build the answer summaries (only when a consumer wants them).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, isQuery: Bool, netBIOS: Bool, summarize: Bool = true,
        into message: inout DNSMessage, weirds: inout WeirdQueue
    ) -> Outcome {
        message.reset()
        guard bytes.count >= 12 else {
            weirds.append(.dnsTruncatedHeader)
            return .tooShort
        }
        var h = DNSHeader()
        h.id = be16(bytes, 0)
        h.flags = be16(bytes, 2)
        h.questionCount = be16(bytes, 4)
        h.answerCount = be16(bytes, 6)
        h.authorityCount = be16(bytes, 8)
        h.additionalCount = be16(bytes, 10)
        message.header = h
        message.isQuery = isQuery
        message.length = bytes.count
        if Int(h.questionCount) > maxQuestions {
            weirds.append(.dnsTooManyQuestions)
            return .violation(.dnsTooManyQuestions)
        }
        var p = Parsing(bytes: bytes, position: 12, netBIOS: netBIOS)
        for _ in 0..<Int(h.questionCount) {
            let name = p.name(into: &message.text, weirds: &weirds)
            guard p.remaining >= 4 else {
                weirds.append(.dnsTruncatedQuestion)
                return .incomplete
            }
            let qtype = p.u16(), qclass = p.u16()
            message.questions.append(DNSQuestion(name: name, qtype: qtype, qclass: qclass))
        }
        for _ in 0..<Int(h.answerCount) {
            guard p.answer(into: &message, summarize: summarize, weirds: &weirds) else { return .incomplete }
        }
        return .confirmed
    }

    @inline(__always)
    static func be16(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }

    /// A cursor over one message.
    struct Parsing {
        let bytes: UnsafeRawBufferPointer
        var position: Int
        let netBIOS: Bool

        var remaining: Int { bytes.count - position }

        /// Reads a big-endian 16-bit value, or 0 without moving when fewer than 2 bytes are left
        /// (Zeek's `ExtractShort`).
        mutating func u16() -> UInt16 {
            guard remaining >= 2 else { return 0 }
            defer { position += 2 }
            return DNSParser.be16(bytes, position)
        }

        /// Reads a big-endian 32-bit value, or 0 without moving (Zeek's `ExtractLong`).
        mutating func u32() -> UInt32 {
            guard remaining >= 4 else { return 0 }
            defer { position += 4 }
            return UInt32(DNSParser.be16(bytes, position)) << 16 | UInt32(DNSParser.be16(bytes, position + 2))
        }

        /// Reads a (possibly compressed) name at the cursor into `text`, lower-cased, and moves
        /// past it (past the first pointer when there is one).
        mutating func name(into text: inout [UInt8], weirds: inout WeirdQueue) -> DNSText {
            let start = text.count
            var room = DNSParser.nameCapacity
            // The region being read: the message itself, then after each pointer the bytes
            // from the pointer's target up to the pointer.
            var at = position, end = bytes.count
            var followed = false
            while true {
                guard at < end else { break }
                let length = Int(bytes[at])
                at += 1
                guard at < end, length != 0 else { break }
                if length & 0xC0 == 0xC0 {
                    let pointerAt = at - 1
                    let target = (length & 0x3F) << 8 | Int(bytes[at])
                    at += 1
                    if !followed {
                        position = at
                        followed = true
                    }
                    guard target < pointerAt else {
                        weirds.append(.dnsForwardCompression)
                        break
                    }
                    end = pointerAt
                    at = target
                    continue
                }
                if length > end - at {
                    weirds.append(.dnsLabelPastEnd)
                    at = end
                    break
                }
                if length > 63 && !netBIOS {
                    weirds.append(.dnsLabelTooLong)
                    break
                }
                if length >= room {
                    weirds.append(.dnsLabelPastNameBuffer)
                    break
                }
                for i in at..<(at + length) {
                    let c = bytes[i]
                    text.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)
                }
                text.append(UInt8(ascii: "."))
                room -= length + 1
                at += length
            }
            if !followed { position = at }
            var count = text.count - start
            if count >= 255 { weirds.append(.dnsNameTooLong) }
            if count >= 2 && text[text.count - 1] == UInt8(ascii: ".") {
                text.removeLast()
                count -= 1
            }
            return DNSText(start: start, count: count)
        }

        /// Parses one answer-section record (Zeek's `ParseAnswer`); false ends the section.
        mutating func answer(into m: inout DNSMessage, summarize: Bool, weirds: inout WeirdQueue) -> Bool {
            let owner = name(into: &m.text, weirds: &weirds)
            guard remaining >= 4 else {
                weirds.append(.dnsTruncatedAnswer)
                return false
            }
            let type = u16(), rrClass = u16(), ttl = u32()
            let rdLength = Int(u16())
            guard rdLength <= remaining else {
                weirds.append(.dnsRDLengthPastEnd)
                return false
            }
            let rdStart = position, rdEnd = position + rdLength
            var summary = DNSAnswer.Summary.unlogged
            let textStart = m.text.count
            func finishText() -> DNSAnswer.Summary { .text(DNSText(start: textStart, count: m.text.count - textStart)) }
            switch type {
            case 1:  // A
                guard rdLength == 4 else {
                    weirds.append(.dnsRRBadLength)
                    return false
                }
                if summarize {
                    for i in 0..<4 {
                        if i > 0 { m.text.append(UInt8(ascii: ".")) }
                        DNSRender.decimal(UInt64(bytes[rdStart + i]), into: &m.text)
                    }
                    summary = finishText()
                }
                position = rdEnd
            case 28, 38:  // AAAA, A6
                guard rdLength == 16 else {
                    weirds.append(.dnsRRBadLength)
                    return false
                }
                if summarize {
                    let address = IPAddress(ipv6At: bytes.baseAddress! + rdStart)  // rdLength == 16 checked above
                    m.text.append(contentsOf: address.description.utf8)
                    summary = finishText()
                }
                position = rdEnd
            case 2, 5, 12:  // NS, CNAME, PTR
                let target = name(into: &m.text, weirds: &weirds)
                if position - rdStart != rdLength { weirds.append(.dnsRRLengthMismatch) }
                summary = .text(target)
            case 6:  // SOA: the primary server name
                let mname = name(into: &m.text, weirds: &weirds)
                _ = name(into: &m.text, weirds: &weirds)
                guard remaining >= 20 else { return false }
                position += 20
                if position - rdStart != rdLength { weirds.append(.dnsRRLengthMismatch) }
                summary = .text(mname)
            case 15:  // MX: the exchange
                _ = u16()
                let exchange = name(into: &m.text, weirds: &weirds)
                if position - rdStart != rdLength { weirds.append(.dnsRRLengthMismatch) }
                summary = .text(exchange)
            case 33 where !netBIOS:  // SRV: the target
                _ = u16()
                _ = u16()
                _ = u16()
                let target = name(into: &m.text, weirds: &weirds)
                if position - rdStart != rdLength { weirds.append(.dnsRRLengthMismatch) }
                summary = .text(target)
            case 16, 99:  // TXT, SPF: "TXT <len> <string>" per character-string, space-joined
                var at = rdStart
                let label: StaticString = type == 16 ? "TXT " : "SPF "
                while at < rdEnd {
                    let length = Int(bytes[at])
                    at += 1
                    guard length <= rdEnd - at else {
                        weirds.append(.dnsTXTPastRDLength)
                        break
                    }
                    if summarize {
                        if m.text.count > textStart { m.text.append(UInt8(ascii: " ")) }
                        DNSRender.append(label, into: &m.text)
                        DNSRender.decimal(UInt64(length), into: &m.text)
                        m.text.append(UInt8(ascii: " "))
                        m.text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)]))
                    }
                    at += length
                }
                if summarize { summary = finishText() }
                position = rdEnd
            case 11:  // WKS: a reply event with an empty summary
                summary = .empty
                position = rdEnd
            case 46:  // RRSIG: "RRSIG <type covered> <signer>"
                guard rdLength >= 18 else { return false }
                let covered = u16()
                position += 16
                let signerStart = m.text.count
                let signer = name(into: &m.text, weirds: &weirds)
                if summarize {
                    let signerBytes = Array(m.text[signerStart..<(signerStart + Int(signer.count))])
                    m.text.removeSubrange(signerStart...)
                    DNSRender.append("RRSIG ", into: &m.text)
                    DNSRender.decimal(UInt64(covered), into: &m.text)
                    m.text.append(UInt8(ascii: " "))
                    if signerBytes.isEmpty {
                        DNSRender.append("<Root>", into: &m.text)
                    } else {
                        m.text.append(contentsOf: signerBytes)
                    }
                    summary = finishText()
                }
                position = rdEnd
            case 48:  // DNSKEY: "DNSKEY <algorithm>"
                guard rdLength >= 4 else { return false }
                if summarize {
                    DNSRender.append("DNSKEY ", into: &m.text)
                    DNSRender.decimal(UInt64(bytes[rdStart + 3]), into: &m.text)
                    summary = finishText()
                }
                position = rdEnd
            case 43:  // DS: "DS <algorithm> <digest type>"
                guard rdLength >= 4 else { return false }
                if summarize {
                    DNSRender.append("DS ", into: &m.text)
                    DNSRender.decimal(UInt64(bytes[rdStart + 2]), into: &m.text)
                    m.text.append(UInt8(ascii: " "))
                    DNSRender.decimal(UInt64(bytes[rdStart + 3]), into: &m.text)
                    summary = finishText()
                }
                position = rdEnd
            case 47:  // NSEC: "NSEC <owner> <next name>"
                let nextStart = m.text.count
                let next = name(into: &m.text, weirds: &weirds)
                if summarize {
                    let nextBytes = Array(m.text[nextStart..<(nextStart + Int(next.count))])
                    let ownerBytes = m.bytes(owner)
                    m.text.removeSubrange(nextStart...)
                    DNSRender.append("NSEC ", into: &m.text)
                    m.text.append(contentsOf: ownerBytes)
                    m.text.append(UInt8(ascii: " "))
                    m.text.append(contentsOf: nextBytes)
                    summary = finishText()
                }
                position = rdEnd
            case 50, 51, 65534:  // NSEC3, NSEC3PARAM, BIND9 signing signal: fixed summaries
                if summarize {
                    DNSRender.append(type == 50 ? "NSEC3" : type == 51 ? "NSEC3PARAM" : "BIND9 signing signal", into: &m.text)
                    summary = finishText()
                }
                position = rdEnd
            case 44:  // SSHFP: "SSHFP: <fingerprint hex>"
                guard rdLength >= 2 else { return false }
                if summarize {
                    DNSRender.append("SSHFP: ", into: &m.text)
                    for i in (rdStart + 2)..<rdEnd { DNSRender.hex(bytes[i], into: &m.text) }
                    summary = finishText()
                }
                position = rdEnd
            case 29:  // LOC: "LOC:  <size> <horizontal precision> <vertical precision>"
                guard rdLength >= 16 else { return false }
                if summarize {
                    DNSRender.append("LOC:  ", into: &m.text)
                    for i in 1...3 {
                        if i > 1 { m.text.append(UInt8(ascii: " ")) }
                        DNSRender.decimal(UInt64(bytes[rdStart + i]), into: &m.text)
                    }
                    summary = finishText()
                }
                position = rdEnd
            case 13, 32, 33, 41, 64, 65, 250, 257:
                // HINFO, NetBIOS NB / NBSTAT, OPT, SVCB, HTTPS, TSIG, CAA: decoded by Zeek into
                // events that dns.log does not use.
                position = rdEnd
            default:
                weirds.append(.dnsRRUnknownType)
                if summarize {
                    DNSRender.append("<unknown type=", into: &m.text)
                    DNSRender.decimal(UInt64(type), into: &m.text)
                    m.text.append(UInt8(ascii: ">"))
                    summary = finishText()
                }
                position = rdEnd
            }
            m.answers.append(DNSAnswer(name: owner, type: type, rrClass: rrClass, ttl: ttl, summary: summary))
            return true
        }
    }
}

/// Small byte renderers for answer summaries (no `String` per record).
enum DNSRender {
    static func append(_ s: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    static func decimal(_ value: UInt64, into out: inout [UInt8]) {
        if value >= 10 { decimal(value / 10, into: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    static func hex(_ byte: UInt8, into out: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        out.append(digits.utf8Start[Int(byte >> 4)])
        out.append(digits.utf8Start[Int(byte & 0xF)])
    }
}
