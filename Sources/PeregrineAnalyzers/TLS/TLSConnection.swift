// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's SSL analyzer for one TCP connection: the record layer of each direction (RFC 5246 §6.2,
/// RFC 8446 §5), reassembled across segments, and the handshake messages inside it (RFC 5246 §7.4,
/// RFC 8446 §4), reassembled across records. It raises ``TLSEvent``s into a sink.
///
/// Encryption tracking is Zeek's (`ssl-dtls-protocol.pac`): a side's records are ciphertext after
/// it sent ChangeCipherSpec; the first record after both sides did raises `established`. TLS 1.3
/// peers send the compatibility ChangeCipherSpec (RFC 8446 §D.4), which drives the same rule.
///
/// Memory is bounded: a record is at most 5 + 65535 bytes (its length field), and a handshake
/// message longer than ``maxHandshakeMessageLength`` is a violation. Bytes are copied only when a
/// record or message spans deliveries; whole records are parsed in place.
public struct TLSConnection {
    /// The longest handshake message buffered across records. A certificate chain is the longest
    /// message in practice (tens of KiB); 16 MiB, what the 24-bit length allows, would let every
    /// pooled connection hold that much.
    public static let maxHandshakeMessageLength = 256 * 1024

    /// Why the analyzer gave up on the connection (Zeek's `AnalyzerViolation` reasons).
    public enum Violation: Sendable, Equatable {
        /// The record header is not TLS (bad content type or version).
        case notTLS
        /// A handshake message did not parse.
        case malformedHandshake
        /// A handshake message was longer than ``maxHandshakeMessageLength``.
        case handshakeTooLong

        /// The reason text for analyzer.log's `failure_reason`.
        public var reason: StaticString {
            switch self {
            case .notTLS: "Invalid headers in SSL connection"
            case .malformedHandshake: "Binpac exception: malformed handshake message"
            case .handshakeTooLong: "handshake message exceeds the buffering limit"
            }
        }
    }

    /// One direction's partial record and partial handshake message.
    struct Side {
        var record: [UInt8] = []
        var handshake: [UInt8] = []
        var encrypted = false
    }

    var client = Side()
    var server = Side()
    /// Both sides encrypted and a further record came: `ssl_established` was raised.
    public private(set) var established = false
    /// Set by a gap or a violation: Zeek's SSL analyzer parses nothing after either.
    public private(set) var stopped = false
    /// The server's chosen cipher suite (decides how a ServerKeyExchange reads).
    var cipher: UInt16 = 0
    /// The negotiated version, from ServerHello or its supported_versions extension.
    var version: UInt16 = 0
    /// A record parsed without a violation, i.e. the protocol is confirmed (Zeek confirms on the
    /// first successfully parsed ClientHello/ServerHello).
    public private(set) var confirmed = false

    public init() {}

    /// Forgets everything (the pool slot is reused), keeping buffer capacity.
    public mutating func reset() {
        client.record.removeAll(keepingCapacity: true)
        client.handshake.removeAll(keepingCapacity: true)
        server.record.removeAll(keepingCapacity: true)
        server.handshake.removeAll(keepingCapacity: true)
        client.encrypted = false
        server.encrypted = false
        established = false
        stopped = false
        cipher = 0
        version = 0
        confirmed = false
    }

    /// Content gap: Zeek's SSL analyzer stops parsing the connection (`SSL_Analyzer::Undelivered`
    /// sets `had_gap`, after which delivered data is ignored).
    public mutating func gap() { stopped = true }

    /// Parses the next bytes of one direction.
    /// - Returns: a violation, after which the connection is not parsed further.
    public mutating func deliver<S: TLSEventSink>(
        _ data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Violation? {
        guard !stopped else { return nil }
        var input = data
        while !input.isEmpty {
            let pending = isOriginator ? client.record.count : server.record.count
            if pending == 0, input.count >= 5 {
                let length = Int(input[3]) << 8 | Int(input[4])
                if let v = checkHeader(input) { return fail(v) }
                if input.count >= 5 + length {
                    if let v = record(UnsafeRawBufferPointer(rebasing: input[0..<5 + length]), isClient: isOriginator,
                                      sink: &sink) {
                        return fail(v)
                    }
                    input = UnsafeRawBufferPointer(rebasing: input[(5 + length)...])
                    continue
                }
            }
            // Buffer a partial header or body.
            let taken = withSide(isOriginator) { side -> Int in
                let want: Int
                if side.record.count < 5 {
                    want = 5 - side.record.count
                } else {
                    want = 5 + (Int(side.record[3]) << 8 | Int(side.record[4])) - side.record.count
                }
                let n = min(want, input.count)
                side.record.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[0..<n]))
                return n
            }
            input = UnsafeRawBufferPointer(rebasing: input[taken...])
            // Move the buffer out while parsing it, so the parser's own mutations of the side do not
            // force a copy; it goes back, emptied with its capacity kept.
            var buffered: [UInt8] = []
            withSide(isOriginator) { swap(&buffered, &$0.record) }
            var violation: Violation? = nil
            if buffered.count == 5 { violation = buffered.withUnsafeBytes { checkHeader($0) } }
            if violation == nil, buffered.count >= 5,
                buffered.count == 5 + (Int(buffered[3]) << 8 | Int(buffered[4]))
            {
                violation = buffered.withUnsafeBytes { record($0, isClient: isOriginator, sink: &sink) }
                buffered.removeAll(keepingCapacity: true)
            }
            withSide(isOriginator) { swap(&buffered, &$0.record) }
            if let violation { return fail(violation) }
        }
        return nil
    }

    mutating func fail(_ v: Violation) -> Violation {
        stopped = true
        return v
    }

    mutating func withSide<R>(_ isClient: Bool, _ body: (inout Side) -> R) -> R {
        isClient ? body(&client) : body(&server)
    }

    /// Zeek's `determine_ssl_version` for SSLv3/TLS record headers: content type 20-24, major
    /// version 3 and a minor version up to 4. SSLv2 records are not parsed (see README).
    func checkHeader(_ h: UnsafeRawBufferPointer) -> Violation? {
        (20...24).contains(h[0]) && h[1] == 3 && h[2] <= 4 ? nil : .notTLS
    }

    /// One whole record (header included).
    mutating func record<S: TLSEventSink>(_ r: UnsafeRawBufferPointer, isClient: Bool, sink: inout S) -> Violation? {
        let type = r[0]
        let body = UnsafeRawBufferPointer(rebasing: r[5...])
        if isClient ? client.encrypted : server.encrypted {
            if client.encrypted && server.encrypted && !established {
                established = true
                sink.tls(.established)
            }
            return nil
        }
        sink.tls(.plaintextData(isClient: isClient, contentType: type))
        switch type {
        case 20:
            sink.tls(.changeCipherSpec(isClient: isClient))
            withSide(isClient) { $0.encrypted = true }
        case 21:
            var i = 0
            while i + 1 < body.count {
                sink.tls(.alert(isClient: isClient, level: body[i], description: body[i + 1]))
                i += 2
            }
        case 22:
            return handshakeRecord(body, isClient: isClient, sink: &sink)
        case 24:
            sink.tls(.heartbeat(isClient: isClient))
        default:
            break
        }
        return nil
    }

    /// The handshake messages of one record's body, joined to a message left over from earlier
    /// records; a trailing partial message is kept for the next record.
    mutating func handshakeRecord<S: TLSEventSink>(
        _ body: UnsafeRawBufferPointer, isClient: Bool, sink: inout S
    ) -> Violation? {
        guard isClient ? !client.handshake.isEmpty : !server.handshake.isEmpty else {
            let (used, v) = messages(body, isClient: isClient, sink: &sink)
            if v == nil, used < body.count {
                withSide(isClient) { $0.handshake.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[used...])) }
            }
            return v
        }
        // Move the partial message out while parsing (no copy-on-write), then put the rest back.
        var joined: [UInt8] = []
        withSide(isClient) { swap(&joined, &$0.handshake) }
        joined.append(contentsOf: body)
        let (used, v) = joined.withUnsafeBytes { messages($0, isClient: isClient, sink: &sink) }
        joined.removeFirst(used)
        withSide(isClient) { swap(&joined, &$0.handshake) }
        return v
    }

    /// Parses the whole messages at the start of `input`.
    /// - Returns: how many bytes they took, and a violation if one did not parse.
    mutating func messages<S: TLSEventSink>(
        _ input: UnsafeRawBufferPointer, isClient: Bool, sink: inout S
    ) -> (Int, Violation?) {
        var at = 0
        while input.count - at >= 4 {
            let type = input[at]
            let length = Int(input[at + 1]) << 16 | Int(input[at + 2]) << 8 | Int(input[at + 3])
            guard length <= Self.maxHandshakeMessageLength else { return (at, .handshakeTooLong) }
            guard input.count - at - 4 >= length else { break }
            let body = UnsafeRawBufferPointer(rebasing: input[(at + 4)..<(at + 4 + length)])
            if let v = message(type, body, isClient: isClient, sink: &sink) { return (at, v) }
            sink.tls(.handshakeMessage(isClient: isClient, type: type, length: length))
            at += 4 + length
        }
        return (at, nil)
    }

    /// One handshake message body.
    mutating func message<S: TLSEventSink>(
        _ type: UInt8, _ body: UnsafeRawBufferPointer, isClient: Bool, sink: inout S
    ) -> Violation? {
        var c = ByteCursor(body)
        switch type {
        case 1: return clientHello(&c, isClient: isClient, sink: &sink)
        case 2: return serverHello(&c, isClient: isClient, sink: &sink)
        case 11: return certificates(&c, isClient: isClient, sink: &sink)
        case 12:
            // ServerKeyExchange of an ECDHE suite (RFC 8422 §5.4): curve_type 3 = named_curve.
            if Self.isECDHE(cipher), c.readUInt8() == 3, let curve = c.readUInt16() {
                sink.tls(.ecdhServerCurve(curve))
            }
            return nil
        default: return nil
        }
    }

    /// Whether `cipher` is an (EC)DHE-with-elliptic-curves suite, whose ServerKeyExchange names a
    /// curve: the ECDH/ECDHE blocks of RFC 8422 and the ChaCha20 ECDHE codes.
    static func isECDHE(_ cipher: UInt16) -> Bool {
        switch cipher {
        case 0xC001...0xC03B, 0xC048...0xC04F, 0xC05C...0xC063, 0xC070...0xC079, 0xC086...0xC08D,
             0xC0AC...0xC0AF, 0xCC13, 0xCC14, 0xCCA8, 0xCCA9, 0xCCAC:
            true
        default:
            false
        }
    }

    /// RFC 8446 §4.1.3: the random of a HelloRetryRequest.
    static let helloRetryRandom: [UInt8] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ]

    mutating func clientHello<S: TLSEventSink>(_ c: inout ByteCursor, isClient: Bool, sink: inout S) -> Violation? {
        guard let version = c.readUInt16(), c.skip(32),
            let sessionLength = c.readUInt8(), let session = c.readSlice(Int(sessionLength)),
            let cipherLength = c.readUInt16(), cipherLength > 1, cipherLength % 2 == 0, c.skip(Int(cipherLength)),
            let compressionLength = c.readUInt8(), compressionLength > 0, c.skip(Int(compressionLength))
        else { return .malformedHandshake }
        if let v = extensions(&c, isClient: isClient, sink: &sink) { return v }
        confirmed = true
        sink.tls(.clientHello(version: version, sessionID: session))
        return nil
    }

    mutating func serverHello<S: TLSEventSink>(_ c: inout ByteCursor, isClient: Bool, sink: inout S) -> Violation? {
        guard let version = c.readUInt16(), let random = c.readSlice(32),
            let sessionLength = c.readUInt8(), let session = c.readSlice(Int(sessionLength)),
            let cipher = c.readUInt16(), c.skip(1)
        else { return .malformedHandshake }
        self.cipher = cipher
        self.version = version
        if let v = extensions(&c, isClient: isClient, sink: &sink) { return v }
        confirmed = true
        let retry = random.elementsEqual(Self.helloRetryRandom)
        sink.tls(.serverHello(version: version, cipher: cipher, sessionID: session, helloRetry: retry))
        return nil
    }

    /// The optional extensions block of a hello; each raises `helloExtension`, and the ones
    /// ssl.log reads raise their own event.
    mutating func extensions<S: TLSEventSink>(_ c: inout ByteCursor, isClient: Bool, sink: inout S) -> Violation? {
        guard c.remaining >= 2, let total = c.readUInt16(), let block = c.readSlice(Int(total)) else {
            return c.remaining == 0 ? nil : .malformedHandshake
        }
        var e = ByteCursor(block)
        while e.remaining > 0 {
            guard let type = e.readUInt16(), let length = e.readUInt16(), let data = e.readSlice(Int(length)) else {
                return .malformedHandshake
            }
            sink.tls(.helloExtension(isClient: isClient, type: type, data: data))
            var d = ByteCursor(data)
            switch type {
            case 0:  // server_name (RFC 6066 §3)
                guard d.readUInt16() != nil else { break }
                var first: UnsafeRawBufferPointer? = nil
                var count = 0
                while d.remaining >= 3, d.readUInt8() != nil, let n = d.readUInt16(), let name = d.readSlice(Int(n)) {
                    if first == nil { first = name }
                    count += 1
                }
                if let first { sink.tls(.serverName(isClient: isClient, name: first, count: count)) }
            case 16:  // application_layer_protocol_negotiation (RFC 7301 §3.1)
                if d.readUInt16() != nil, let n = d.readUInt8(), let p = d.readSlice(Int(n)) {
                    sink.tls(.alpn(isClient: isClient, first: p))
                }
            case 43:  // supported_versions (RFC 8446 §4.2.1): the server's choice
                if !isClient, data.count == 2, let v = d.readUInt16() {
                    version = v
                    sink.tls(.serverSupportedVersion(v))
                }
            case 51:  // key_share (RFC 8446 §4.2.8): the server's group (also in a HelloRetryRequest)
                if !isClient, let g = d.readUInt16() { sink.tls(.serverKeyShare(group: g)) }
            default:
                break
            }
        }
        return nil
    }

    /// A Certificate message: RFC 5246 §7.4.2, or RFC 8446 §4.4.2 (context and per-entry
    /// extensions) once TLS 1.3 was negotiated.
    mutating func certificates<S: TLSEventSink>(_ c: inout ByteCursor, isClient: Bool, sink: inout S) -> Violation? {
        let tls13 = version == 0x0304 || version >> 8 == 0x7F
        if tls13 {
            guard let n = c.readUInt8(), c.skip(Int(n)) else { return .malformedHandshake }
        }
        guard let list = c.readUInt24(), let block = c.readSlice(Int(list)) else { return .malformedHandshake }
        var l = ByteCursor(block)
        var index = 0
        while l.remaining > 0 {
            guard let n = l.readUInt24(), let der = l.readSlice(Int(n)) else { return .malformedHandshake }
            if tls13 {
                guard let e = l.readUInt16(), l.skip(Int(e)) else { return .malformedHandshake }
            }
            sink.tls(.certificate(isClient: isClient, index: index, der: der))
            index += 1
        }
        return nil
    }
}

extension ByteCursor {
    /// Reads `count` bytes as a borrowed slice, or `nil` (not moving) when fewer remain.
    @inlinable
    mutating func readSlice(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        let s = UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)])
        offset += count
        return s
    }

    /// Reads a 24-bit big-endian length.
    @inlinable
    mutating func readUInt24() -> UInt32? {
        guard remaining >= 3 else { return nil }
        let v = UInt32(base[offset]) << 16 | UInt32(base[offset + 1]) << 8 | UInt32(base[offset + 2])
        offset += 3
        return v
    }
}
