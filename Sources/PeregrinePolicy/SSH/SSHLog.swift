// SPDX-License-Identifier: Apache-2.0
import Crypto
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/ssh/main.zeek`: turns ``SSHEvent``s into one
/// ssh.log record per connection.
///
/// The record is written when the heuristic sees a successful authentication (the `-5`
/// `ssh_auth_attempted` handler), else when the connection goes (`finalize_ssh`).
///
/// Use: the worker's glue sets ``begin(slot:now:)``, passes `self` as the analyzer's event sink,
/// then calls ``afterDelivery(connection:logs:)``, which writes the record when an
/// authentication succeeded during the delivery and says whether to disable the analyzer.
public struct SSHLog: SSHEventSink {
    /// ssh.log's columns, in Zeek 9's order (`zeek-logs.md` §9).
    public static let schema = LogSchema(
        id: 22, path: "ssh",
        columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + LogStreams.idColumns + [
            LogColumn("version", .count), LogColumn("auth_success", .bool), LogColumn("auth_attempts", .count),
            LogColumn("direction", .enum), LogColumn("client", .string), LogColumn("server", .string),
            LogColumn("cipher_alg", .string), LogColumn("mac_alg", .string), LogColumn("compression_alg", .string),
            LogColumn("kex_alg", .string), LogColumn("host_key_alg", .string),
            LogColumn("host_key_fingerprint", .string),
        ])

    /// `SSH::compression_algorithms`: with these the size heuristic cannot tell, so attempts are
    /// not counted.
    static let compressionAlgorithms: [[UInt8]] = [Array("zlib".utf8), Array("zlib@openssh.com".utf8)]

    /// One side's KEXINIT name-lists, kept until the other side's arrives (`capabilities`).
    struct Capabilities {
        var isServer: Bool
        var lists: [[UInt8]]
    }

    /// One connection's `SSH::Info` (with the script's bookkeeping fields).
    struct Info {
        var active = false
        var ts = Timestamp.zero
        var version: UInt64? = nil
        var authSuccess: Bool? = nil
        var authAttempts: UInt64 = 0
        var client: [UInt8]? = nil
        var server: [UInt8]? = nil
        var cipher: [UInt8]? = nil
        var mac: [UInt8]? = nil
        var compression: [UInt8]? = nil
        var kex: [UInt8]? = nil
        var hostKeyAlgorithm: [UInt8]? = nil
        var hostKeyFingerprint: String? = nil
        var logged = false
        var capabilities: Capabilities? = nil
        /// An authentication succeeded in the current delivery: write the record now.
        var writeNow = false
        /// ... and it counted (not compressed): disable the analyzer.
        var disableNow = false
    }

    var infos: [Info]
    var slot = 0
    var now = Timestamp.zero
    var record = LogRecordEncoder(schema: SSHLog.schema)
    /// Records written.
    public private(set) var records: UInt64 = 0
    /// Negotiated key exchanges this analyzer cannot follow, not yet reported: the glue turns
    /// each into an `ssh_unknown_kex_algorithm` weird and resets the count.
    public var pendingUnknownKex = 0

    /// - Parameter capacity: the SSH analyzer pool's capacity (slots are 1-based).
    public init(capacity: Int) {
        infos = Array(repeating: Info(), count: capacity + 1)
    }

    /// Sets the connection and time the next events belong to.
    public mutating func begin(slot: UInt32, now: Timestamp) {
        self.slot = Int(slot)
        self.now = now
    }

    /// `set_session`: the first event of a connection creates its record.
    mutating func session() {
        if !infos[slot].active {
            infos[slot] = Info()
            infos[slot].active = true
            infos[slot].ts = now
        }
    }

    public mutating func ssh(_ event: SSHEvent) {
        switch event {
        case .clientVersion(let line):
            session()
            infos[slot].client = Array(line)
            setVersion()
        case .serverVersion(let line):
            session()
            infos[slot].server = Array(line)
            setVersion()
        case .capabilities(let k):
            capabilities(k)
        case .serverHostKey(let key):
            guard infos[slot].active else { return }
            infos[slot].hostKeyFingerprint = Self.fingerprint(key)
        case .authAttempted(let authenticated):
            authAttempted(authenticated)
        case .unknownKexAlgorithm:
            pendingUnknownKex += 1
        }
    }

    /// `set_version` (Zeek 9): the major version both banners agree on, or unset.
    mutating func setVersion() {
        infos[slot].version = nil
        guard let c = infos[slot].client, let s = infos[slot].server, !c.isEmpty, !s.isEmpty,
            c.count > 4, s.count > 4
        else { return }
        let one = UInt8(ascii: "1"), two = UInt8(ascii: "2"), nine = UInt8(ascii: "9")
        func is199(_ b: [UInt8]) -> Bool { b.count > 7 && b[6] == nine && b[7] == nine }
        switch (c[4], s[4]) {
        case (one, two): if is199(c) { infos[slot].version = 2 }
        case (two, one): if is199(s) { infos[slot].version = 2 }
        case (one, one): infos[slot].version = is199(s) && is199(c) ? 2 : 1
        case (two, two): infos[slot].version = 2
        default: break
        }
    }

    /// `ssh_capabilities`: the first side's lists are kept; the other side's settle the
    /// algorithms (`find_alg`, `find_bidirectional_alg`).
    mutating func capabilities(_ k: SSHKexInit) {
        guard infos[slot].active else { return }
        let mine = [
            k.kexAlgorithms, k.serverHostKeyAlgorithms, k.encryptionClientToServer, k.encryptionServerToClient,
            k.macClientToServer, k.macServerToClient, k.compressionClientToServer, k.compressionServerToClient,
        ]
        guard let first = infos[slot].capabilities else {
            infos[slot].capabilities = Capabilities(isServer: k.isServer, lists: mine.map { Array($0) })
            return
        }
        guard first.isServer != k.isServer else { return }
        let other = mine.map { Array($0) }
        let client = k.isServer ? first.lists : other
        let server = k.isServer ? other : first.lists
        infos[slot].cipher = Self.bidirectional(client, server, 2)
        infos[slot].mac = Self.bidirectional(client, server, 4)
        infos[slot].compression = Self.bidirectional(client, server, 6)
        infos[slot].kex = Self.find(client[0], server[0])
        infos[slot].hostKeyAlgorithm = Self.find(client[1], server[1])
    }

    static func find(_ client: [UInt8], _ server: [UInt8]) -> [UInt8] {
        let chosen = client.withUnsafeBytes { c in
            server.withUnsafeBytes { s in SSHNames.negotiate(client: c, server: s).map { Array($0) } }
        }
        return chosen ?? Array("Algorithm negotiation failed".utf8)
    }

    /// `find_bidirectional_alg` over the client-to-server list at `index` and the
    /// server-to-client one after it.
    static func bidirectional(_ client: [[UInt8]], _ server: [[UInt8]], _ index: Int) -> [UInt8] {
        let toServer = find(client[index], server[index])
        let toClient = find(client[index + 1], server[index + 1])
        if toServer == toClient { return toServer }
        return Array("To server: ".utf8) + toServer + Array(", to client: ".utf8) + toClient
    }

    /// `ssh_auth_attempted`, both handlers.
    mutating func authAttempted(_ authenticated: Bool) {
        guard infos[slot].active else { return }
        let alreadySucceeded = infos[slot].authSuccess == true
        let compressed = infos[slot].compression.map { c in Self.compressionAlgorithms.contains(c) } ?? false
        if !alreadySucceeded && !compressed {
            infos[slot].authSuccess = authenticated
            infos[slot].authAttempts += 1
            if authenticated { infos[slot].disableNow = true }
        }
        if authenticated && !infos[slot].logged { infos[slot].writeNow = true }
    }

    /// Zeek 9's `host_key_fingerprint`: `SHA256:` and the first 32 characters of the unpadded
    /// base64 of the key blob's SHA-256 (the first 24 digest bytes; checked against the
    /// ssh-curve25519 and gre-sample baselines).
    static func fingerprint(_ key: UnsafeRawBufferPointer) -> String {
        let digest = Array(SHA256.hash(data: key))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = Array("SHA256:".utf8)
        var i = 0
        while i + 3 <= 24 {
            let v = UInt32(digest[i]) << 16 | UInt32(digest[i + 1]) << 8 | UInt32(digest[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int((v >> UInt32(shift)) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `slot`'s connection has an authentication outcome (`auth_success` set, from the
    /// sizes of the encrypted packets after the key exchange): the point from which a shunt loses
    /// nothing of ssh.log but a later attempt's outcome.
    public func authenticationDecided(slot: UInt32) -> Bool { infos[Int(slot)].authSuccess != nil }

    /// After a delivery: writes the record when an authentication succeeded in it.
    /// - Returns: whether the analyzer should be disabled (`disable_analyzer_after_detection`).
    public mutating func afterDelivery(connection c: Connection, logs: inout LogStreams) -> Bool {
        guard infos[slot].active else { return false }
        let disable = infos[slot].disableNow
        if infos[slot].writeNow && !infos[slot].logged { write(connection: c, logs: &logs) }
        infos[slot].writeNow = false
        infos[slot].disableNow = false
        return disable
    }

    /// The connection ends (`finalize_ssh`): writes the record if it was not yet, and forgets
    /// the connection.
    public mutating func connectionEnded(slot: UInt32, connection c: Connection, logs: inout LogStreams) {
        self.slot = Int(slot)
        if infos[self.slot].active && !infos[self.slot].logged { write(connection: c, logs: &logs) }
        infos[self.slot] = Info()
    }

    mutating func write(connection c: Connection, logs: inout LogStreams) {
        let info = infos[slot]
        infos[slot].logged = true
        var r = record
        r.reset()
        r.time(info.ts)
        r.uid(c.uid)
        r.addr(c.originator)
        r.port(c.originatorPort)
        r.addr(c.responder)
        r.port(c.responderPort)
        if let v = info.version { r.count(v) } else { r.unset() }
        if let v = info.authSuccess { r.bool(v) } else { r.unset() }
        r.count(info.authAttempts)
        // `set_session`: a direction only when exactly one endpoint is local.
        let localOrig = logs.local.contains(c.originator), localResp = logs.local.contains(c.responder)
        if localOrig != localResp { r.enumValue(localOrig ? "OUTBOUND" : "INBOUND") } else { r.unset() }
        for field in [info.client, info.server, info.cipher, info.mac, info.compression, info.kex,
                      info.hostKeyAlgorithm] {
            if let v = field { v.withUnsafeBytes { r.string($0) } } else { r.unset() }
        }
        if let v = info.hostKeyFingerprint { r.string(v) } else { r.unset() }
        logs.write(r)
        record = r
        records &+= 1
    }
}
