// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/ssl/main.zeek` and `files.zeek`: turns
/// ``TLSEvent``s into one ssl.log record per connection, and hands certificates to ``X509Log``.
///
/// The record is written when the handshake is established (`ssl_established` → `finish`), or
/// when the connection ends or the analyzer fails without that (`finalize_ssl`, the violation
/// handler); whatever happens after it was written is not logged, as in Zeek.
///
/// Use: the worker's glue sets ``begin(slot:now:)``, passes `self` as the analyzer's event sink,
/// then calls ``afterDelivery(connection:logs:)`` to fingerprint and log the certificates the
/// delivery carried and to write the record if the handshake got established.
public struct SSLLog: TLSEventSink {
    /// ssl.log's columns, in Zeek 9's order (`zeek-logs.md` §6).
    public static let schema = LogSchema(
        id: 20, path: "ssl",
        columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + LogStreams.idColumns + [
            LogColumn("version", .string), LogColumn("cipher", .string), LogColumn("curve", .string),
            LogColumn("server_name", .string), LogColumn("resumed", .bool), LogColumn("last_alert", .string),
            LogColumn("next_protocol", .string), LogColumn("established", .bool),
            LogColumn("ssl_history", .string), LogColumn("cert_chain_fps", .vector(.string)),
            LogColumn("client_cert_chain_fps", .vector(.string)), LogColumn("sni_matches_cert", .bool),
        ])

    /// `SSL::max_ssl_history_length`.
    public static let maxHistoryLength = 100

    /// One connection's `SSL::Info` (with the script's bookkeeping fields).
    struct Info {
        var active = false
        var ts = Timestamp.zero
        var version: UInt16? = nil
        var cipher: UInt16? = nil
        var curve: UInt16? = nil
        var serverName: [UInt8]? = nil
        var sessionID: [UInt8]? = nil
        var resumed = false
        var clientTicketEmptySessionSeen = false
        var clientKeyExchangeSeen = false
        var clientPSKSeen = false
        var lastAlert: UInt8? = nil
        var nextProtocol: [UInt8]? = nil
        var established = false
        var logged = false
        var helloRetrySeen = false
        var history: [UInt8] = []
        var certFingerprints: [String] = []
        var clientCertFingerprints: [String] = []
        var sniMatchesCert: Bool? = nil
        /// Certificates of the current delivery, fingerprinted and logged after it.
        var pending: [(der: [UInt8], isClient: Bool, index: Int)] = []
    }

    var infos: [Info]
    var slot = 0
    var now = Timestamp.zero
    var record = LogRecordEncoder(schema: SSLLog.schema)
    /// x509.log's policy (certificates reach it through this log, as Zeek's files reach X509 from SSL).
    public var x509 = X509Log()
    /// Records written.
    public private(set) var records: UInt64 = 0

    /// - Parameter capacity: the SSL analyzer pool's capacity (slots are 1-based).
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

    /// `add_to_history`: client letters upper-case, server letters lower-case.
    mutating func history(_ letter: Unicode.Scalar, isClient: Bool) {
        guard infos[slot].history.count < Self.maxHistoryLength else { return }
        let c = UInt8(ascii: letter)
        infos[slot].history.append(isClient ? c & ~0x20 : c)
    }

    public mutating func tls(_ event: TLSEvent) {
        session()
        switch event {
        case .clientHello(_, let sid):
            if !sid.isEmpty && !(sid.count == 32 && sid.allSatisfy { $0 == 0 }) {
                infos[slot].sessionID = Array(sid)
                infos[slot].clientTicketEmptySessionSeen = false
            }
        case .serverHello(let version, let cipher, let sid, let retry):
            if infos[slot].version == nil { infos[slot].version = version }
            infos[slot].cipher = cipher
            if retry { infos[slot].helloRetrySeen = true }
            let v = infos[slot].version ?? version
            if let mine = infos[slot].sessionID, mine.elementsEqual(sid), v >> 8 != 0x7F, v != 0x0304 {
                infos[slot].resumed = true
            }
        case .helloExtension(let isClient, let type, let data):
            if isClient && type == 35 && !data.isEmpty {
                infos[slot].clientTicketEmptySessionSeen = true
            } else if isClient && type == 41 {
                infos[slot].clientPSKSeen = true
            } else if !isClient && type == 41 && infos[slot].clientPSKSeen {
                infos[slot].resumed = true
            }
        case .serverName(let isClient, let name, _):
            if isClient { infos[slot].serverName = Array(name) }
        case .alpn(let isClient, let first):
            if !isClient { infos[slot].nextProtocol = Array(first) }
        case .serverSupportedVersion(let v):
            infos[slot].version = v
        case .serverKeyShare(let group), .ecdhServerCurve(let group):
            infos[slot].curve = group
        case .handshakeMessage(let isClient, let type, _):
            if isClient && type == 16 { infos[slot].clientKeyExchangeSeen = true }
            handshakeLetter(type, isClient: isClient)
        case .certificate(let isClient, let index, let der):
            infos[slot].pending.append((Array(der), isClient, index))
        case .changeCipherSpec(let isClient):
            history("i", isClient: isClient)
            if isClient && infos[slot].clientTicketEmptySessionSeen && !infos[slot].clientKeyExchangeSeen {
                infos[slot].resumed = true
            }
        case .alert(let isClient, _, let description):
            history("l", isClient: isClient)
            infos[slot].lastAlert = description
        case .heartbeat(let isClient):
            history("b", isClient: isClient)
        case .plaintextData:
            break
        case .established:
            infos[slot].established = true
        }
    }

    /// The `ssl_handshake_message` letters of `main.zeek`.
    mutating func handshakeLetter(_ type: UInt8, isClient: Bool) {
        let letter: Unicode.Scalar
        switch type {
        case 0: letter = "h"
        case 1: letter = "c"
        case 2:
            letter = infos[slot].helloRetrySeen ? "j" : "s"
            infos[slot].helloRetrySeen = false
        case 3: letter = "v"
        case 4: letter = "t"
        case 5: letter = "e"
        case 6: letter = "j"
        case 8: letter = "o"
        case 11: letter = "x"
        case 12: letter = "k"
        case 13: letter = "r"
        case 14: letter = "n"
        case 15: letter = "y"
        case 16: letter = "g"
        case 20: letter = "f"
        case 21: letter = "w"
        case 22: letter = "u"
        case 23: letter = "a"
        case 24: letter = "p"
        case 254: letter = "m"
        default: letter = "z"
        }
        history(letter, isClient: isClient)
    }

    /// Logs the delivery's certificates, then writes the record if the handshake got established.
    public mutating func afterDelivery(connection c: Connection, logs: inout LogStreams) {
        guard infos[slot].active else { return }
        if !infos[slot].pending.isEmpty {
            let pending = infos[slot].pending
            infos[slot].pending.removeAll()
            for p in pending {
                let fp = p.der.withUnsafeBytes { X509Log.fingerprint($0) }
                let host = !p.isClient && p.index == 0
                let client = p.isClient && p.index == 0
                if p.isClient {
                    infos[slot].clientCertFingerprints.append(fp)
                } else {
                    infos[slot].certFingerprints.append(fp)
                }
                let cert = X509Certificate.parse(der: p.der)
                if host, let name = infos[slot].serverName, let cert {
                    infos[slot].sniMatchesCert = Self.hostnameMatches(name, cert)
                }
                x509.certificate(
                    cert, fingerprint: fp, hostCert: host, clientCert: client, now: now, logs: &logs)
            }
        }
        if infos[slot].established { finish(connection: c, logs: &logs) }
    }

    /// The analyzer failed or the connection ends: write the record if it was not yet
    /// (`finalize_ssl`, the `analyzer_violation_info` handler), and forget the connection.
    public mutating func connectionEnded(slot: UInt32, connection c: Connection, logs: inout LogStreams) {
        self.slot = Int(slot)
        if infos[self.slot].active { finish(connection: c, logs: &logs) }
        infos[self.slot] = Info()
    }

    /// Zeek's `x509_check_cert_hostname`: the name matches a SAN DNS entry (or the subject's CN
    /// when there is none), case-insensitively, a leading `*.` standing for exactly one label.
    static func hostnameMatches(_ name: [UInt8], _ cert: X509Certificate) -> Bool {
        let host = String(decoding: name, as: UTF8.self).lowercased()
        var candidates = cert.san?.dns ?? []
        if candidates.isEmpty, let cn = cert.subject.split(separator: ",").first(where: { $0.hasPrefix("CN=") }) {
            candidates = [String(cn.dropFirst(3))]
        }
        for pattern in candidates.map({ $0.lowercased() }) {
            if pattern == host { return true }
            if pattern.hasPrefix("*."), let dot = host.firstIndex(of: "."), host[host.startIndex..<dot].count > 0,
                host[dot...] == pattern.dropFirst()
            {
                return true
            }
        }
        return false
    }

    /// `finish` → `log_record`: writes the record once.
    mutating func finish(connection c: Connection, logs: inout LogStreams) {
        let info = infos[slot]
        guard !info.logged else { return }
        infos[slot].logged = true
        var r = record
        r.reset()
        r.time(info.ts)
        r.uid(c.uid)
        r.addr(c.originator)
        r.port(c.originatorPort)
        r.addr(c.responder)
        r.port(c.responderPort)
        if let v = info.version {
            if let name = TLSNames.version(v) {
                r.string(name)
            } else if let draft = TLSNames.draftNumber(v) {
                r.string("TLSv13-draft\(draft)")
            } else {
                r.string("unknown-\(v)")
            }
        } else {
            r.unset()
        }
        if let v = info.cipher { r.string(TLSNames.cipher(v).map { "\($0)" } ?? "unknown-\(v)") } else { r.unset() }
        if let v = info.curve { r.string(TLSNames.curve(v).map { "\($0)" } ?? "unknown-\(v)") } else { r.unset() }
        if let v = info.serverName { v.withUnsafeBytes { r.string($0) } } else { r.unset() }
        r.bool(info.resumed)
        if let v = info.lastAlert { r.string(TLSNames.alert(v).map { "\($0)" } ?? "unknown-\(v)") } else { r.unset() }
        if let v = info.nextProtocol { v.withUnsafeBytes { r.string($0) } } else { r.unset() }
        r.bool(info.established)
        info.history.withUnsafeBytes { r.string($0) }
        r.beginVector(count: info.certFingerprints.count)
        for fp in info.certFingerprints { r.string(fp) }
        r.beginVector(count: info.clientCertFingerprints.count)
        for fp in info.clientCertFingerprints { r.string(fp) }
        if let v = info.sniMatchesCert { r.bool(v) } else { r.unset() }
        logs.write(r)
        record = r
        records &+= 1
    }
}
