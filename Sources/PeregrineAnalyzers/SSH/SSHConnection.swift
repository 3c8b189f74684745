// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's SSH analyzer for one TCP connection (`ssh-protocol.pac`, `SSH.cc`): the identification
/// lines (RFC 4253 §4.2), the SSH-2 binary packets of the clear-text key exchange (RFC 4253 §6),
/// and after each side's SSH_MSG_NEWKEYS the sizes of its encrypted deliveries, from which Zeek's
/// heuristic infers authentication attempts and success.
///
/// Key exchange follows Zeek's state machine: until both sides' KEXINIT were seen, a side's
/// packets are KEXINITs; then the negotiated `kex_algorithms` entry (the client's first that the
/// server also lists) decides how the remaining clear-text messages read, and the reply carrying
/// the server's host key (K_S) raises ``SSHEvent/serverHostKey(_:)``. NEWKEYS confirms the
/// protocol and turns its sender's direction to ciphertext.
///
/// Memory is bounded: an identification line is at most ``maxLineLength`` bytes, clear-text
/// packets at most ``maxPacketLength``. Bytes are copied only when a line or packet spans
/// deliveries.
public struct SSHConnection {
    /// The longest identification or pre-identification line buffered. RFC 4253 §4.2 allows 255
    /// bytes for the identification; other lines before it (allowed from the server) are not
    /// bounded by the RFC, so a larger limit, with a violation past it.
    public static let maxLineLength = 4096
    /// How many bytes of non-identification lines a server may send first before the analyzer
    /// gives up (a violation).
    public static let maxPreambleBytes = 16 * 1024
    /// The longest clear-text binary packet: OpenSSH's `PACKET_MAX_SIZE` (256 KiB). RFC 4253 §6.1
    /// requires 35,000 bytes; key exchange packets are a few KiB.
    public static let maxPacketLength = 256 * 1024

    /// Why the analyzer gave up on the connection (Zeek's `AnalyzerViolation` reasons).
    public enum Violation: Sendable, Equatable {
        /// The client's first line is not an `SSH-` identification, or a line is too long.
        case malformedIdentification
        /// A binary packet's length fields are impossible or over ``maxPacketLength``.
        case malformedPacket
        /// A KEXINIT or key exchange message did not parse.
        case malformedMessage

        /// The reason text for analyzer.log's `failure_reason`.
        public var reason: StaticString {
            switch self {
            case .malformedIdentification: "malformed ssh identification"
            case .malformedPacket: "Binpac exception: malformed SSH packet"
            case .malformedMessage: "Binpac exception: malformed SSH message"
            }
        }
    }

    /// Where one direction is (Zeek's `state_up_`/`state_down_`).
    enum State: UInt8 {
        case versionExchange
        /// Clear-text binary packets; which messages they hold depends on ``kex``.
        case keyExchange
        /// After SSH_MSG_NEWKEYS: only sizes matter.
        case encrypted
        /// SSH-1 after the identification: not parsed (see the README).
        case ignored
    }

    /// How the key exchange messages read once the algorithm is negotiated.
    enum Kex: UInt8 {
        /// Both KEXINITs not seen yet.
        case initial
        case dh, dhGex, ecc, gss, rsa
        /// Negotiated but unknown here, or negotiation failed: messages are skipped.
        case unknown
    }

    struct Side {
        var state = State.versionExchange
        /// A partial line or packet.
        var buffer: [UInt8] = []
        var preambleBytes = 0
    }

    var client = Side()
    var server = Side()
    var kex = Kex.initial
    /// The first KEXINIT's sender and its `kex_algorithms` (Zeek's `kex_algs_cache_`).
    var firstKexFromClient = false
    var firstKexAlgorithms: [UInt8]? = nil
    /// SSH-2 (from the client's identification, as Zeek's `update_version` decides).
    var isSSH2 = false
    /// Set by a gap or a violation: nothing more is parsed.
    public private(set) var stopped = false
    /// NEWKEYS was seen: the protocol is confirmed.
    public private(set) var confirmed = false

    // Zeek's authentication heuristic (`SSH_Analyzer::ProcessEncrypted`).
    var authDecisionMade = false
    var skippedBanner = false
    var sawEncryptedClientData = false
    var serviceAcceptSize = 0
    var userauthFailureSize = 0

    public init() {}

    /// Forgets everything (the pool slot is reused), keeping buffer capacity.
    public mutating func reset() {
        client.buffer.removeAll(keepingCapacity: true)
        server.buffer.removeAll(keepingCapacity: true)
        client.state = .versionExchange
        server.state = .versionExchange
        client.preambleBytes = 0
        server.preambleBytes = 0
        kex = .initial
        firstKexFromClient = false
        firstKexAlgorithms = nil
        isSSH2 = false
        stopped = false
        confirmed = false
        authDecisionMade = false
        skippedBanner = false
        sawEncryptedClientData = false
        serviceAcceptSize = 0
        userauthFailureSize = 0
    }

    /// Content gap: Zeek's SSH analyzer parses nothing after one (`had_gap`).
    public mutating func gap() { stopped = true }

    /// Parses the next bytes of one direction.
    /// - Returns: a violation, after which the connection is not parsed further.
    public mutating func deliver<S: SSHEventSink>(
        _ data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Violation? {
        guard !stopped, !data.isEmpty else { return nil }
        if side(isOriginator).state == .encrypted {
            encrypted(length: data.count, isOriginator: isOriginator, sink: &sink)
            return nil
        }
        var input = data
        while !input.isEmpty {
            switch side(isOriginator).state {
            case .ignored:
                return nil
            case .encrypted:
                // NEWKEYS came earlier in this delivery: the rest counts as one encrypted
                // segment (Zeek's `encrypted_bytes_in_current_segment`).
                encrypted(length: input.count, isOriginator: isOriginator, sink: &sink)
                return nil
            case .versionExchange:
                switch line(&input, isOriginator: isOriginator, sink: &sink) {
                case .violation(let v): return fail(v)
                case .needMore, .done: continue
                }
            case .keyExchange:
                switch packet(&input, isOriginator: isOriginator, sink: &sink) {
                case .violation(let v): return fail(v)
                case .needMore, .done: continue
                }
            }
        }
        return nil
    }

    enum Step {
        case needMore
        case done
        case violation(Violation)
    }

    func side(_ isClient: Bool) -> Side { isClient ? client : server }

    mutating func withSide<R>(_ isClient: Bool, _ body: (inout Side) -> R) -> R {
        isClient ? body(&client) : body(&server)
    }

    mutating func fail(_ v: Violation) -> Violation {
        stopped = true
        client.buffer.removeAll(keepingCapacity: true)
        server.buffer.removeAll(keepingCapacity: true)
        return v
    }

    // MARK: - Identification

    /// Consumes up to one line end; handles a complete line.
    mutating func line<S: SSHEventSink>(
        _ input: inout UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Step {
        guard let newline = input.firstIndex(of: UInt8(ascii: "\n")) else {
            let total = side(isOriginator).buffer.count + input.count
            guard total <= Self.maxLineLength else { return .violation(.malformedIdentification) }
            withSide(isOriginator) { $0.buffer.append(contentsOf: input) }
            input = UnsafeRawBufferPointer(rebasing: input[input.count...])
            return .needMore
        }
        let head = UnsafeRawBufferPointer(rebasing: input[..<newline])
        input = UnsafeRawBufferPointer(rebasing: input[(newline + 1)...])
        if side(isOriginator).buffer.isEmpty {
            return identification(head, isOriginator: isOriginator, sink: &sink)
        }
        guard side(isOriginator).buffer.count + head.count <= Self.maxLineLength else {
            return .violation(.malformedIdentification)
        }
        var buffered: [UInt8] = []
        withSide(isOriginator) { swap(&buffered, &$0.buffer) }
        buffered.append(contentsOf: head)
        let step = buffered.withUnsafeBytes { identification($0, isOriginator: isOriginator, sink: &sink) }
        buffered.removeAll(keepingCapacity: true)
        withSide(isOriginator) { swap(&buffered, &$0.buffer) }
        return step
    }

    /// One complete line (LF removed; a CR before it is removed too, as binpac's `&oneline`).
    mutating func identification<S: SSHEventSink>(
        _ raw: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Step {
        var text = raw
        if let last = text.last, last == UInt8(ascii: "\r") { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
        let isSSH = text.count >= 4 && text[0] == 0x53 && text[1] == 0x53 && text[2] == 0x48 && text[3] == 0x2D
        guard isSSH else {
            // RFC 4253 §4.2: the server may send other lines first; the client may not.
            guard !isOriginator else { return .violation(.malformedIdentification) }
            server.preambleBytes += raw.count + 1
            return server.preambleBytes <= Self.maxPreambleBytes ? .done : .violation(.malformedIdentification)
        }
        if isOriginator {
            // Zeek's `update_version`: the client's protocol digit picks the packet format.
            if text.count > 4 {
                isSSH2 = text[4] == UInt8(ascii: "2")
            }
            sink.ssh(.clientVersion(text))
        } else {
            sink.ssh(.serverVersion(text))
        }
        // SSH-1 packets are not parsed (README): `packet` stops at the first one.
        withSide(isOriginator) { $0.state = .keyExchange }
        return .done
    }

    // MARK: - Binary packets

    /// Consumes up to one binary packet; handles it when complete.
    mutating func packet<S: SSHEventSink>(
        _ input: inout UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Step {
        guard isSSH2 else {
            withSide(isOriginator) { $0.state = .ignored }
            return .done
        }
        if side(isOriginator).buffer.isEmpty, input.count >= 4 {
            let length = Self.packetLength(input)
            guard length >= 5, length <= Self.maxPacketLength else { return .violation(.malformedPacket) }
            if input.count >= 4 + length {
                let whole = UnsafeRawBufferPointer(rebasing: input[..<(4 + length)])
                input = UnsafeRawBufferPointer(rebasing: input[(4 + length)...])
                return message(whole, isOriginator: isOriginator, sink: &sink)
            }
        }
        // Buffer a partial length field or packet.
        let buffered = side(isOriginator).buffer
        let want: Int
        if buffered.count < 4 {
            want = 4 - buffered.count
        } else {
            let length = buffered.withUnsafeBytes { Self.packetLength($0) }
            guard length >= 5, length <= Self.maxPacketLength else { return .violation(.malformedPacket) }
            want = 4 + length - buffered.count
        }
        let n = min(want, input.count)
        withSide(isOriginator) { $0.buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[..<n])) }
        input = UnsafeRawBufferPointer(rebasing: input[n...])
        let count = side(isOriginator).buffer.count
        guard count >= 4 else { return .needMore }
        let length = side(isOriginator).buffer.withUnsafeBytes { Self.packetLength($0) }
        guard length >= 5, length <= Self.maxPacketLength else { return .violation(.malformedPacket) }
        guard count == 4 + length else { return .needMore }
        var whole: [UInt8] = []
        withSide(isOriginator) { swap(&whole, &$0.buffer) }
        let step = whole.withUnsafeBytes { message($0, isOriginator: isOriginator, sink: &sink) }
        whole.removeAll(keepingCapacity: true)
        withSide(isOriginator) { swap(&whole, &$0.buffer) }
        return step
    }

    static func packetLength(_ p: UnsafeRawBufferPointer) -> Int {
        Int(p[0]) << 24 | Int(p[1]) << 16 | Int(p[2]) << 8 | Int(p[3])
    }

    /// One whole packet: `uint32 packet_length, byte padding_length, payload, padding`.
    mutating func message<S: SSHEventSink>(
        _ packet: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Step {
        let length = packet.count - 4
        let padding = Int(packet[4])
        guard padding + 2 <= length else { return .violation(.malformedPacket) }
        let type = packet[5]
        let payload = UnsafeRawBufferPointer(rebasing: packet[6..<(4 + length - padding)])
        if type == 21 {
            // SSH_MSG_NEWKEYS: Zeek's `proc_newkeys` confirms; the sender's later bytes are
            // ciphertext.
            confirmed = true
            withSide(isOriginator) { $0.state = .encrypted }
            return .done
        }
        var c = ByteCursor(payload)
        switch kex {
        case .initial:
            guard type == 20 else { return .done }
            return kexInit(&c, isOriginator: isOriginator, sink: &sink)
        case .dh, .ecc:
            // SSH_MSG_KEXDH_REPLY / SSH_MSG_KEX_ECDH_REPLY (31): K_S first.
            if type == 31 && !isOriginator { return hostKey(&c, sink: &sink) }
        case .dhGex:
            // SSH_MSG_KEX_DH_GEX_REPLY (33).
            if type == 33 && !isOriginator { return hostKey(&c, sink: &sink) }
        case .gss:
            // SSH_MSG_KEXGSS_HOSTKEY (33, RFC 4462 §2.5).
            if type == 33 && !isOriginator { return hostKey(&c, sink: &sink) }
        case .rsa, .unknown:
            break
        }
        return .done
    }

    /// SSH_MSG_KEXINIT: a 16-byte cookie, ten name-lists, a boolean and a reserved word.
    mutating func kexInit<S: SSHEventSink>(_ c: inout ByteCursor, isOriginator: Bool, sink: inout S) -> Step {
        guard c.skip(16) else { return .violation(.malformedMessage) }
        var lists: [UnsafeRawBufferPointer] = []
        lists.reserveCapacity(10)
        for _ in 0..<10 {
            guard let n = c.readUInt32(), let s = c.readSlice(Int(n)) else { return .violation(.malformedMessage) }
            lists.append(s)
        }
        guard c.readUInt8() != nil, c.readUInt32() != nil else { return .violation(.malformedMessage) }
        sink.ssh(
            .capabilities(
                SSHKexInit(
                    isServer: !isOriginator, kexAlgorithms: lists[0], serverHostKeyAlgorithms: lists[1],
                    encryptionClientToServer: lists[2], encryptionServerToClient: lists[3],
                    macClientToServer: lists[4], macServerToClient: lists[5], compressionClientToServer: lists[6],
                    compressionServerToClient: lists[7])))
        // Zeek's `update_kex`: the first KEXINIT is remembered; the other side's decides.
        guard let first = firstKexAlgorithms else {
            firstKexAlgorithms = Array(lists[0])
            firstKexFromClient = isOriginator
            return .done
        }
        guard firstKexFromClient != isOriginator else { return .done }
        first.withUnsafeBytes { cached in
            let clientList = isOriginator ? lists[0] : cached
            let serverList = isOriginator ? cached : lists[0]
            guard let chosen = SSHNames.negotiate(client: clientList, server: serverList) else {
                kex = .unknown
                return
            }
            kex = Self.kexKind(chosen)
            if kex == .unknown { sink.ssh(.unknownKexAlgorithm(chosen)) }
        }
        return .done
    }

    /// The key exchange message family of a negotiated algorithm (Zeek's `update_kex` table,
    /// with the later curve and hybrid algorithms whose replies read as ECDH's, RFC 8731,
    /// draft-josefsson-ntruprime-ssh, draft-kampanakis-curdle-ssh-pq-ke).
    static func kexKind(_ name: UnsafeRawBufferPointer) -> Kex {
        func equals(_ s: StaticString) -> Bool {
            name.elementsEqual(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        func starts(_ s: StaticString) -> Bool {
            name.starts(with: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        if equals("rsa1024-sha1") || equals("rsa2048-sha256") { return .rsa }
        if starts("diffie-hellman-group-exchange-") { return .dhGex }
        if starts("diffie-hellman-group") { return .dh }
        if starts("gss-") { return .gss }
        if starts("ecdh-sha2-") || equals("ecmqv-sha2") || starts("curve25519-sha256") || equals("curve448-sha512")
            || equals("sntrup761x25519-sha512@openssh.com") || equals("sntrup761x25519-sha512")
            || equals("mlkem768x25519-sha256")
        {
            return .ecc
        }
        return .unknown
    }

    /// Reads K_S, the first string of the reply, and raises it.
    mutating func hostKey<S: SSHEventSink>(_ c: inout ByteCursor, sink: inout S) -> Step {
        guard let n = c.readUInt32(), let key = c.readSlice(Int(n)) else { return .violation(.malformedMessage) }
        sink.ssh(.serverHostKey(key))
        return .done
    }

    // MARK: - Encrypted

    /// Zeek's `ProcessEncrypted`: after the client's first encrypted delivery, the server's
    /// SSH_MSG_SERVICE_ACCEPT fixes a reference size; a server delivery 16 bytes shorter is an
    /// SSH_MSG_USERAUTH_SUCCESS, one as long as the first failure another failure. A first
    /// answer more than 256 bytes longer is taken for a banner and skipped once.
    mutating func encrypted<S: SSHEventSink>(length: Int, isOriginator: Bool, sink: inout S) {
        guard isSSH2, !authDecisionMade else { return }
        if isOriginator {
            sawEncryptedClientData = true
            return
        }
        guard sawEncryptedClientData else { return }
        if serviceAcceptSize == 0 {
            serviceAcceptSize = length
            return
        }
        if userauthFailureSize == 0 && length + 16 == serviceAcceptSize {
            authDecisionMade = true
            sink.ssh(.authAttempted(authenticated: true))
            return
        }
        if userauthFailureSize == 0 {
            if !skippedBanner && length - serviceAcceptSize > 256 {
                skippedBanner = true
                return
            }
            userauthFailureSize = length
            return
        }
        if length == userauthFailureSize {
            sink.ssh(.authAttempted(authenticated: false))
            return
        }
        if length - serviceAcceptSize == -16 {
            authDecisionMade = true
            sink.ssh(.authAttempted(authenticated: true))
        }
    }
}
