// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's SMTP analyzer for one connection (`src/analyzer/protocol/smtp/SMTP.cc`): commands
/// and replies paired in order (pipelining always assumed, as Zeek does), the session state
/// that tells command lines from message lines, and the headers of each message.
///
/// The state follows only the (command, reply) pairs, never checks them, exactly as Zeek's
/// `UpdateState`: a `DATA` command enters the message at once (clients pipeline), a failing
/// reply to it leaves again. A `220` reply to `STARTTLS` ends SMTP on the connection; the TLS
/// bytes that follow are not parsed here (``tlsStarted``, where the SSL analyzer takes over).
/// `BDAT` chunks (RFC 3030) are not parsed.
public struct SMTPParser: Sendable {
    /// Commands sent but not yet answered, beyond which the oldest are forgotten: Zeek keeps
    /// them unbounded; 128 is more than any client pipelines.
    public static let maxPendingCommands = 128
    /// Bytes of one header kept (folded lines joined); longer values are cut.
    public static let maxHeaderLength = 16_384

    enum State: UInt8 {
        case connected, initiated, notAvailable, ready, mailOK, rcptOK, inData, afterData, inAuth, inTLS, quit
        case afterGap, gapRecovery
    }

    var state = State.connected
    var requestLines = LineSplitter()
    var replyLines = LineSplitter()
    var firstCommand: SMTPCommand? = .connectionEstablishment
    var pendingCommands: [SMTPCommand] = []
    var lastRepliedCommand: SMTPCommand? = nil
    var pendingReply: UInt16 = 0
    /// A message is open (Zeek's `mail`).
    var inMail = false
    /// The message's header section is still being read.
    var inHeaders = false
    var header: [UInt8] = []
    var upper: [UInt8] = []
    /// A command was seen (Zeek's `ProtocolConfirmation` in `RequestEvent`).
    public internal(set) var confirmed = false
    /// The analyzer stopped: a reply code out of range before confirmation (not SMTP, Zeek's
    /// protocol violation), or the policy disabled it.
    public internal(set) var stopped = false
    /// `STARTTLS` succeeded: the connection's bytes from here on are TLS.
    public var tlsStarted: Bool { state == .inTLS }

    public init() {}

    /// Parses the next stream bytes of one direction.
    /// - Returns: true when this delivery confirmed SMTP.
    public mutating func feed<S: SMTPEventSink>(
        _ data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Bool {
        guard !stopped, state != .inTLS else { return false }
        let wasConfirmed = confirmed
        var lines = LineSplitter()
        if isOriginator {
            swap(&lines, &requestLines)
            lines.feed(data) { line in
                if state != .inTLS && !stopped { request(line, sink: &sink) }
            }
            swap(&lines, &requestLines)
        } else {
            swap(&lines, &replyLines)
            lines.feed(data) { line in
                if state != .inTLS && !stopped { reply(line, sink: &sink) }
            }
            swap(&lines, &replyLines)
        }
        return confirmed && !wasConfirmed
    }

    /// Bytes were lost (Zeek's `Undelivered`): an open message ends, pending commands are
    /// forgotten, and the state is unknown until the next reply.
    public mutating func gap<S: SMTPEventSink>(isOriginator: Bool, sink: inout S) {
        guard !stopped, state != .inTLS else { return }
        if isOriginator { requestLines.reset() } else { replyLines.reset() }
        if state == .inData { endData(sink: &sink) }
        pendingCommands.removeAll(keepingCapacity: true)
        firstCommand = nil
        lastRepliedCommand = nil
        state = .afterGap
    }

    /// The connection ends: an open message is finished (Zeek's `Done`).
    public mutating func finish<S: SMTPEventSink>(sink: inout S) {
        if inMail { endData(sink: &sink) }
    }

    mutating func request<S: SMTPEventSink>(_ raw: UnsafeRawBufferPointer, sink: inout S) {
        var line = raw
        // Zeek tolerates `\r\r\n`: all CRs before the LF go.
        while let last = line.last, last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        switch state {
        case .afterGap:
            return
        case .inData where line.count == 1 && line[0] == 0x2E:
            newCommand(.endOfData)
            updateState(.endOfData, reply: 0, sink: &sink)
            confirmed = true
            sink.smtpRequest(command: UnsafeRawBufferPointer(start: SMTPCommand.endOfData.word.utf8Start, count: 1),
                             arg: UnsafeRawBufferPointer(start: nil, count: 0))
        case .inData:
            if !inMail { beginData(sink: &sink) }
            var body = line
            if body.first == 0x2E { body = UnsafeRawBufferPointer(rebasing: body.dropFirst()) }
            messageLine(body, sink: &sink)
        case .inAuth:
            newCommand(.authAnswer)
            confirmed = true
            sink.smtpRequest(command: UnsafeRawBufferPointer(start: SMTPCommand.authAnswer.word.utf8Start, count: 2),
                             arg: line)
            updateState(.authAnswer, reply: 0, sink: &sink)
        default:
            var i = 0
            while i < line.count && line[i] != 0x20 && line[i] != 0x09 { i += 1 }
            let word = UnsafeRawBufferPointer(rebasing: line[..<i])
            while i < line.count && (line[i] == 0x20 || line[i] == 0x09) { i += 1 }
            let arg = UnsafeRawBufferPointer(rebasing: line[i...])
            guard let command = SMTPCommand.parse(word) else { return }  // Zeek: "unknown command"
            newCommand(command)
            upper.removeAll(keepingCapacity: true)
            for b in word { upper.append(b >= 0x61 && b <= 0x7A ? b - 0x20 : b) }
            confirmed = true
            upper.withUnsafeBytes { sink.smtpRequest(command: $0, arg: arg) }
            updateState(command, reply: 0, sink: &sink)
        }
    }

    mutating func reply<S: SMTPEventSink>(_ raw: UnsafeRawBufferPointer, sink: inout S) {
        var line = raw
        while let last = line.last, last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        var code: UInt16 = 0
        if line.count >= 3 {
            for i in 0..<3 {
                let d = line[i] &- 0x30
                guard d <= 9 else {
                    code = 0
                    break
                }
                code = code * 10 + UInt16(d)
            }
        }
        guard code >= 100 && code <= 599 else {
            // Zeek: "reply code out of range" and a protocol violation.
            if !confirmed { stopped = true }
            return
        }
        if pendingReply != 0 && code != pendingReply { pendingReply = 0 }
        if pendingReply == 0 { newReply(code, sink: &sink) }
        var start: Int
        if line.count > 3 && line[3] == 0x2D {
            pendingReply = code
            start = 4
        } else {
            pendingReply = 0
            start = 3
        }
        while start < line.count && (line[start] == 0x20 || line[start] == 0x09) { start += 1 }
        let name = lastRepliedCommand?.word ?? "(UNKNOWN)"
        sink.smtpReply(
            code: code, command: name, message: UnsafeRawBufferPointer(rebasing: line[min(start, line.count)...]),
            continued: pendingReply != 0)
        if pendingReply == 0 && lastRepliedCommand == .startTLS && code == 220 { sink.smtpStartTLS() }
    }

    mutating func newCommand(_ command: SMTPCommand) {
        if firstCommand == nil {
            firstCommand = command
        } else {
            if pendingCommands.count >= Self.maxPendingCommands { pendingCommands.removeFirst() }
            pendingCommands.append(command)
        }
    }

    mutating func newReply<S: SMTPEventSink>(_ code: UInt16, sink: inout S) {
        if state == .afterGap { state = .gapRecovery }
        let command = firstCommand
        lastRepliedCommand = firstCommand
        firstCommand = pendingCommands.isEmpty ? nil : pendingCommands.removeFirst()
        if let command { updateState(command, reply: code, sink: &sink) }
    }

    /// Zeek's `UpdateState`: `reply` 0 is the command itself (the state moves as if it will
    /// succeed), otherwise the server's answer.
    mutating func updateState<S: SMTPEventSink>(_ command: SMTPCommand, reply: UInt16, sink: inout S) {
        switch command {
        case .connectionEstablishment:
            if reply == 0 { state = .initiated } else if reply == 421 || reply == 554 { state = .notAvailable }
        case .ehlo, .helo:
            if reply == 0 {
                state = .ready
            } else if [421, 500, 501, 504, 550].contains(reply) {
                state = .initiated
            }
        case .mail, .send, .soml, .saml:
            if reply == 0 {
                state = .mailOK
            } else if [421, 451, 452, 500, 501, 503, 550, 552, 553].contains(reply) && state != .inData {
                state = .ready
            }
        case .rcpt:
            if reply == 0 { state = .rcptOK }
        case .data:
            switch reply {
            case 0: beginData(sink: &sink)
            case 354: break
            case 421:
                if state == .inData { endData(sink: &sink) }
                state = .quit
            default:
                if state == .inData { endData(sink: &sink) }
                state = .ready
            }
        case .endOfData:
            if reply == 0 {
                endData(sink: &sink)
                state = .afterData
            } else {
                state = .ready
            }
        case .rset:
            if reply == 0 { state = .ready }
        case .quit:
            if reply == 0 { state = .quit }
        case .auth, .authAnswer:
            if reply == 334 { state = .inAuth } else if reply != 0 { state = .initiated }
        case .startTLS:
            if reply == 220 { state = .inTLS }
        case .turn, .vrfy, .expn, .help, .noop, .bdat, .etrn, .xAnonymousTLS, .xExps, .xLink2State:
            if state == .gapRecovery && reply == 354 { beginData(sink: &sink) }
        }
    }

    mutating func beginData<S: SMTPEventSink>(sink: inout S) {
        state = .inData
        if inMail {
            sink.smtpWeird(.smtpNestedMailTransaction)
            endData(sink: &sink)
        }
        inMail = true
        inHeaders = true
        header.removeAll(keepingCapacity: true)
        sink.smtpBeginEntity()
    }

    mutating func endData<S: SMTPEventSink>(sink: inout S) {
        guard inMail else {
            sink.smtpWeird(.smtpUnmatchedEndOfData)
            return
        }
        if inHeaders { flushHeader(sink: &sink) }
        inHeaders = false
        inMail = false
    }

    /// One line of the message: headers until the first empty line (RFC 5322 §2.2.3 folding:
    /// a line starting with a blank continues the previous header); the body is not parsed.
    mutating func messageLine<S: SMTPEventSink>(_ line: UnsafeRawBufferPointer, sink: inout S) {
        guard inHeaders else { return }
        if line.isEmpty {
            flushHeader(sink: &sink)
            inHeaders = false
            return
        }
        if line[0] == 0x20 || line[0] == 0x09 {
            if !header.isEmpty { appendHeader(line) }
            return
        }
        flushHeader(sink: &sink)
        appendHeader(line)
    }

    mutating func appendHeader(_ bytes: UnsafeRawBufferPointer) {
        let room = Self.maxHeaderLength - header.count
        guard room > 0 else { return }
        header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes.prefix(room)))
    }

    mutating func flushHeader<S: SMTPEventSink>(sink: inout S) {
        defer { header.removeAll(keepingCapacity: true) }
        guard let colon = header.firstIndex(of: 0x3A) else { return }
        var nameEnd = colon
        while nameEnd > 0 && (header[nameEnd - 1] == 0x20 || header[nameEnd - 1] == 0x09) { nameEnd -= 1 }
        var valueStart = colon + 1
        while valueStart < header.count && (header[valueStart] == 0x20 || header[valueStart] == 0x09) {
            valueStart += 1
        }
        for i in 0..<nameEnd where header[i] >= 0x61 && header[i] <= 0x7A { header[i] -= 0x20 }
        header.withUnsafeBytes { h in
            sink.smtpHeader(
                name: UnsafeRawBufferPointer(rebasing: h[..<nameEnd]),
                value: UnsafeRawBufferPointer(rebasing: h[valueStart...]))
        }
    }
}
