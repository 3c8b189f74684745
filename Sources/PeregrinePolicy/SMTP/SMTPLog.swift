// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/smtp/main.zeek`: one smtp.log line per
/// mail transaction, with the envelope (`HELO`/`EHLO`, `MAIL FROM`, `RCPT TO`), the message's
/// headers, the last reply, the `Received:` path and whether `STARTTLS` happened.
///
/// Per connection it keeps Zeek's `SMTP::State` and the open `SMTP::Info`. A line is written
/// when a message ends (the reply to its final `.`), when a new `MAIL FROM` starts a
/// transaction while the open one has client activity, and when the connection ends. The
/// mail-transaction validation raises `smtp_mail_transaction_invalid` for `RCPT TO` without
/// `MAIL FROM` and `DATA` without `RCPT TO`.
///
/// Message bodies do not reach the files framework yet, so `fuids` is always empty.
public final class SMTPLog {
    /// smtp.log's columns, in Zeek 9's order.
    public static let schema = LogSchema(
        id: 10, path: "smtp",
        columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + LogStreams.idColumns + [
            LogColumn("trans_depth", .count), LogColumn("helo", .string), LogColumn("mailfrom", .string),
            LogColumn("rcptto", .set(.string)), LogColumn("date", .string), LogColumn("from", .string),
            LogColumn("to", .set(.string)), LogColumn("cc", .set(.string)), LogColumn("reply_to", .string),
            LogColumn("msg_id", .string), LogColumn("in_reply_to", .string), LogColumn("subject", .string),
            LogColumn("x_originating_ip", .addr), LogColumn("first_received", .string),
            LogColumn("second_received", .string), LogColumn("last_reply", .string),
            LogColumn("path", .vector(.addr)), LogColumn("user_agent", .string), LogColumn("tls", .bool),
            LogColumn("fuids", .vector(.string)),
        ])

    /// `SMTP::max_invalid_mail_transactions`.
    public static let maxInvalidMailTransactions = 25
    /// `SMTP::max_rcptto_addresses`, `max_to_addresses`, `max_cc_addresses`, `max_path_length`.
    public static let maxAddresses = 1000
    public static let maxPathLength = 1000

    struct Info {
        var ts: Timestamp
        var connection: FilesLog.ConnectionRef
        var transDepth: UInt64
        var helo: [UInt8]? = nil
        var mailFrom: [UInt8]? = nil
        var rcptTo: [[UInt8]]? = nil
        var date: [UInt8]? = nil
        var from: [UInt8]? = nil
        var to: [[UInt8]]? = nil
        var cc: [[UInt8]]? = nil
        var replyTo: [UInt8]? = nil
        var messageID: [UInt8]? = nil
        var inReplyTo: [UInt8]? = nil
        var subject: [UInt8]? = nil
        var xOriginatingIP: IPAddress? = nil
        var firstReceived: [UInt8]? = nil
        var secondReceived: [UInt8]? = nil
        var lastReply: [UInt8]? = nil
        var path: [IPAddress]
        var userAgent: [UInt8]? = nil
        var tls = false
        var hasClientActivity = false
        var processHeaders = true
        var entityCount = 0
    }

    struct State {
        var helo: [UInt8]? = nil
        var messagesTransferred: UInt64 = 0
        var mailFromSeen = false
        var rcptToSeen = false
        var invalidTransactions = 0
        var info: Info? = nil
    }

    var states: [State]
    var finished: [Info] = []
    var record = LogRecordEncoder(schema: SMTPLog.schema)
    var slot = 0
    var connection = FilesLog.ConnectionRef(
        uid: ConnectionUID(word0: 0, word1: 0), originator: .zero, originatorPort: 0, responder: .zero,
        responderPort: 0)
    var now = Timestamp.zero

    /// Weirds raised since the engine last took them, with their `addl` (empty for none).
    public var weirds: [(Weird, StaticString)] = []
    /// Set when too many invalid transactions were seen: the engine stops the analyzer
    /// (Zeek's `disable_analyzer`).
    public var disableAnalyzer = false
    /// Records written.
    public private(set) var records: UInt64 = 0

    /// Allocates per-slot state for `capacity` connections (the SMTP analyzer's pool size).
    public init(capacity: Int) {
        states = Array(repeating: State(), count: capacity + 1)
    }

    /// Points the policy at the connection holding `slot` before its events are delivered.
    public func begin(slot: UInt32, connection c: Connection, now: Timestamp) {
        self.slot = Int(slot)
        connection = FilesLog.ConnectionRef(
            uid: c.uid, originator: c.originator, originatorPort: c.originatorPort, responder: c.responder,
            responderPort: c.responderPort)
        self.now = now
    }

    /// The connection is removed (`finalize_smtp`): the open transaction is written if the
    /// client did something in it; the slot's state is reset.
    public func connectionEnded(slot: UInt32) {
        self.slot = Int(slot)
        if states[self.slot].info != nil { smtpMessage() }
        states[self.slot] = State()
    }

    /// Writes the finished lines.
    public func flush(into logs: inout LogStreams) {
        for info in finished { write(info, logs: &logs) }
        finished.removeAll(keepingCapacity: true)
    }

    // MARK: - Script logic

    func newInfo() -> Info {
        Info(
            ts: now, connection: connection, transDepth: states[slot].messagesTransferred + 1,
            helo: states[slot].helo, path: [connection.responder, connection.originator])
    }

    /// `set_smtp_session`.
    func session() {
        if states[slot].info == nil { states[slot].info = newInfo() }
    }

    /// `smtp_message`: writes the open transaction if the client did something in it, and opens
    /// a new one.
    func smtpMessage() {
        guard let info = states[slot].info, info.hasClientActivity else { return }
        finished.append(info)
        states[slot].info = newInfo()
    }

    func mailTransactionInvalid(_ addl: StaticString) {
        weirds.append((.smtpMailTransactionInvalid, addl))
        states[slot].invalidTransactions += 1
        if states[slot].invalidTransactions > Self.maxInvalidMailTransactions && !disableAnalyzer {
            weirds.append((.smtpExcessiveInvalidMailTransactions, ""))
            disableAnalyzer = true
        }
    }

    func write(_ info: Info, logs: inout LogStreams) {
        var r = record
        r.reset()
        r.time(info.ts)
        r.uid(info.connection.uid)
        r.addr(info.connection.originator)
        r.port(info.connection.originatorPort)
        r.addr(info.connection.responder)
        r.port(info.connection.responderPort)
        r.count(info.transDepth)
        func string(_ v: [UInt8]?) {
            if let v { v.withUnsafeBytes { r.string($0) } } else { r.unset() }
        }
        func set(_ v: [[UInt8]]?) {
            guard let v else { return r.unset() }
            r.beginSet(count: v.count)
            for e in v { e.withUnsafeBytes { r.string($0) } }
        }
        string(info.helo)
        string(info.mailFrom)
        set(info.rcptTo)
        string(info.date)
        string(info.from)
        set(info.to)
        set(info.cc)
        string(info.replyTo)
        string(info.messageID)
        string(info.inReplyTo)
        string(info.subject)
        if let a = info.xOriginatingIP { r.addr(a) } else { r.unset() }
        string(info.firstReceived)
        string(info.secondReceived)
        string(info.lastReply)
        r.beginVector(count: info.path.count)
        for a in info.path { r.addr(a) }
        string(info.userAgent)
        r.bool(info.tls)
        r.beginVector(count: 0)
        logs.write(r)
        record = r
        records &+= 1
    }

    static func startsWithCaseless(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
        for i in 0..<prefix.utf8CodeUnitCount {
            let b = bytes[i]
            if (b >= 0x61 && b <= 0x7A ? b - 0x20 : b) != prefix.utf8Start[i] { return false }
        }
        return true
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        bytes.count == word.utf8CodeUnitCount && startsWithCaseless(bytes, word)
    }
}

extension SMTPLog: SMTPEventSink {
    /// Zeek's `smtp_request` handler.
    public func smtpRequest(command: UnsafeRawBufferPointer, arg: UnsafeRawBufferPointer) {
        session()
        if Self.equals(command, "HELO") || Self.equals(command, "EHLO") {
            states[slot].helo = Array(arg)
            states[slot].info?.helo = Array(arg)
        } else if Self.equals(command, "RCPT") && Self.startsWithCaseless(arg, "TO:") {
            var rcpt = states[slot].info?.rcptTo ?? []
            for var a in EmailAddresses.extract(arg) {
                if rcpt.count >= Self.maxAddresses {
                    weirds.append((.smtpTooManyRcptToAddresses, ""))
                    break
                }
                a = Self.removingORCPT(a)
                if !rcpt.contains(a) { rcpt.append(a) }
            }
            states[slot].info?.rcptTo = rcpt
            states[slot].info?.hasClientActivity = true
            states[slot].rcptToSeen = true
            if !states[slot].mailFromSeen { mailTransactionInvalid("rcpt to missing mail from") }
        } else if Self.equals(command, "MAIL") && Self.startsWithCaseless(arg, "FROM:") {
            smtpMessage()
            if let first = EmailAddresses.extract(arg).first { states[slot].info?.mailFrom = first }
            states[slot].info?.hasClientActivity = true
            states[slot].mailFromSeen = true
            states[slot].rcptToSeen = false
        } else if Self.equals(command, "DATA") || Self.equals(command, "BDAT") {
            if !states[slot].rcptToSeen { mailTransactionInvalid("data missing rcpt to") }
        } else if Self.equals(command, ".") {
            states[slot].mailFromSeen = false
            states[slot].rcptToSeen = false
        }
    }

    /// Zeek's two `smtp_reply` handlers.
    public func smtpReply(code: UInt16, command: StaticString, message: UnsafeRawBufferPointer, continued: Bool) {
        session()
        var reply = Array(String(code).utf8)
        reply.append(0x20)
        reply.append(contentsOf: message)
        states[slot].info?.lastReply = reply
        let name = UnsafeRawBufferPointer(start: command.utf8Start, count: command.utf8CodeUnitCount)
        if Self.equals(name, ".") {
            states[slot].messagesTransferred += 1
            smtpMessage()
            states[slot].info = newInfo()
        }
    }

    public func smtpBeginEntity() {
        session()
        states[slot].info?.entityCount += 1
        if (states[slot].info?.entityCount ?? 0) > 1 { states[slot].info?.processHeaders = false }
    }

    /// Zeek's two `mime_one_header` handlers.
    public func smtpHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard var info = states[slot].info, info.processHeaders else { return }
        let v = Array(value)
        if Self.equals(name, "MESSAGE-ID") {
            info.messageID = v
        } else if Self.equals(name, "RECEIVED") {
            if info.firstReceived != nil { info.secondReceived = info.firstReceived }
            info.firstReceived = v
        } else if Self.equals(name, "IN-REPLY-TO") {
            info.inReplyTo = v
        } else if Self.equals(name, "SUBJECT") {
            info.subject = v
        } else if Self.equals(name, "FROM") {
            info.from = v
        } else if Self.equals(name, "REPLY-TO") {
            info.replyTo = v
        } else if Self.equals(name, "DATE") {
            info.date = v
        } else if Self.equals(name, "TO") || Self.equals(name, "CC") {
            let isTo = Self.equals(name, "TO")
            var list = (isTo ? info.to : info.cc) ?? []
            for a in EmailAddresses.splitMIME(value) {
                if list.count >= Self.maxAddresses {
                    weirds.append((isTo ? .smtpTooManyToAddresses : .smtpTooManyCCAddresses, ""))
                    break
                }
                if !list.contains(a) { list.append(a) }
            }
            if isTo { info.to = list } else { info.cc = list }
        } else if Self.equals(name, "X-ORIGINATING-IP") {
            if let a = EmailAddresses.ipv4Addresses(value).first { info.xOriginatingIP = a }
        } else if Self.equals(name, "X-MAILER") || Self.equals(name, "USER-AGENT") || Self.equals(name, "X-USER-AGENT") {
            info.userAgent = v
        }
        // The "Received: from" path (priority 3 handler): the second address of the header
        // if it has several, else the first. With `SMTP::mail_path_capture = ALL_HOSTS` (the
        // default) every host is kept.
        if Self.equals(name, "RECEIVED") {
            let ips = EmailAddresses.ipv4Addresses(value)
            if let ip = ips.count > 1 ? ips[1] : ips.first {
                if info.path.last != ip {
                    if info.path.count >= Self.maxPathLength {
                        weirds.append((.smtpMaxPathLengthExceeded, ""))
                    } else {
                        info.path.append(ip)
                    }
                }
            }
        }
        states[slot].info = info
    }

    /// Zeek's `smtp_starttls` handler.
    public func smtpStartTLS() {
        session()
        states[slot].info?.tls = true
        states[slot].info?.hasClientActivity = true
    }

    public func smtpWeird(_ weird: Weird) {
        weirds.append((weird, ""))
    }

    /// `gsub(addr, /ORCPT=rfc822;?/, "")`.
    static func removingORCPT(_ a: [UInt8]) -> [UInt8] {
        let pattern = Array("ORCPT=rfc822".utf8)
        guard a.count >= pattern.count else { return a }
        var out: [UInt8] = []
        var i = 0
        while i < a.count {
            if i + pattern.count <= a.count && Array(a[i..<(i + pattern.count)]) == pattern {
                i += pattern.count
                if i < a.count && a[i] == 0x3B { i += 1 }
                continue
            }
            out.append(a[i])
            i += 1
        }
        return out
    }
}
