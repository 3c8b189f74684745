// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// The FTP control connection parser of one connection (Zeek's `FTP_Analyzer::DeliverStream`):
/// lines of the client become commands, lines of the server replies, multi-line replies
/// (`123-` … `123 `) included.
///
/// Telnet option negotiation on the control connection (Zeek's NVT support analyzer) is not
/// interpreted: such bytes stay in the line.
public struct FTPParser: Sendable {
    /// Zeek's `FTP::max_command_length` (`init-bare.zeek`): longer command words are ignored.
    public static let maxCommandLength = 100

    var requestLines = LineSplitter()
    var replyLines = LineSplitter()
    /// The code of the multi-line reply in progress (Zeek's `pending_reply`), 0 when none.
    var pendingReply: UInt16 = 0
    /// A well-formed command was seen (Zeek's `AnalyzerConfirmation`).
    public internal(set) var confirmed = false
    /// The server's first reply line was not FTP: the analyzer stopped (Zeek's
    /// `AnalyzerViolation`, after which DPD removes it).
    public internal(set) var violated = false
    var upper: [UInt8] = []

    public init() {}

    /// Parses the next stream bytes of one direction.
    /// - Returns: true when this delivery confirmed FTP.
    public mutating func feed<S: FTPEventSink>(
        _ data: UnsafeRawBufferPointer, isOriginator: Bool, sink: inout S
    ) -> Bool {
        guard !violated else { return false }
        let wasConfirmed = confirmed
        if isOriginator {
            // Moved out while it calls back into `self` (no copy of its buffer).
            var lines = LineSplitter()
            swap(&lines, &requestLines)
            lines.feed(data) { request($0, sink: &sink) }
            swap(&lines, &requestLines)
        } else {
            var lines = LineSplitter()
            swap(&lines, &replyLines)
            lines.feed(data) { line in
                if !violated { reply(line, sink: &sink) }
            }
            swap(&lines, &replyLines)
        }
        return confirmed && !wasConfirmed
    }

    /// Bytes of one direction were lost: a partial line cannot be completed.
    public mutating func gap(isOriginator: Bool) {
        if isOriginator { requestLines.reset() } else { replyLines.reset() }
    }

    /// The connection ends. An unfinished client line when the client had closed its side is
    /// Zeek's `partial_ftp_request`.
    public mutating func finish<S: FTPEventSink>(originatorClosed: Bool, sink: inout S) {
        if !violated && originatorClosed && requestLines.hasPartialLine {
            sink.ftpWeird(.ftpPartialRequest, addl: [])
        }
    }

    mutating func request<S: FTPEventSink>(_ line: UnsafeRawBufferPointer, sink: inout S) {
        guard !line.isEmpty else { return }
        var i = Self.skipBlanks(line, from: 0)
        let wordStart = i
        while i < line.count && line[i] != 0x20 && line[i] != 0x09 { i += 1 }
        let word = UnsafeRawBufferPointer(rebasing: line[wordStart..<i])
        let arg = UnsafeRawBufferPointer(rebasing: line[Self.skipBlanks(line, from: i)...])
        guard Self.isCommand(word) else {
            if confirmed { sink.ftpWeird(.ftpInvalidCommand, addl: []) }
            return
        }
        guard word.count <= Self.maxCommandLength else {
            if confirmed {
                sink.ftpWeird(
                    .ftpMaxCommandLengthExceeded,
                    addl: decimalBytes(word.count) + Array(" > ".utf8) + decimalBytes(Self.maxCommandLength))
            }
            return
        }
        upper.removeAll(keepingCapacity: true)
        for b in word { upper.append(b >= 0x61 && b <= 0x7A ? b - 0x20 : b) }
        confirmed = true
        upper.withUnsafeBytes { sink.ftpRequest(command: $0, arg: arg) }
    }

    mutating func reply<S: FTPEventSink>(_ line: UnsafeRawBufferPointer, sink: inout S) {
        guard !line.isEmpty else { return }
        var code = Self.replyCode(line)
        let continued: Bool
        var start: Int
        if pendingReply != 0 {
            if code == pendingReply && line.count > 3 && line[3] == 0x20 {
                start = Self.skipBlanks(line, from: 3)
                pendingReply = 0
                continued = false
            } else {
                start = 0
                code = 0
                continued = true
            }
        } else {
            continued = line.count > 3 && line[3] == 0x2D
            // Non-numeric or too small codes, or a code glued to its text: not FTP.
            if code < 100 || (line.count > 3 && !continued && line[3] != 0x20) {
                violated = true
                return
            }
            if continued {
                pendingReply = code
                start = Self.skipBlanks(line, from: 4)
            } else {
                start = line.count > 3 ? Self.skipBlanks(line, from: 3) : line.count
            }
        }
        sink.ftpReply(code: code, message: UnsafeRawBufferPointer(rebasing: line[start...]), continued: continued)
    }

    /// The three-digit code a reply line starts with, or 0.
    static func replyCode(_ line: UnsafeRawBufferPointer) -> UInt16 {
        guard line.count >= 3 else { return 0 }
        var v: UInt16 = 0
        for i in 0..<3 {
            let d = line[i] &- 0x30
            guard d <= 9 else { return 0 }
            v = v * 10 + UInt16(d)
        }
        return v
    }

    /// Zeek's `is_ftp_cmd`: at least three printable, non-blank characters.
    static func isCommand(_ word: UnsafeRawBufferPointer) -> Bool {
        guard word.count >= 3 else { return false }
        for b in word where b <= 0x20 || b >= 0x7F { return false }
        return true
    }

    static func skipBlanks(_ line: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start
        while i < line.count && (line[i] == 0x20 || line[i] == 0x09) { i += 1 }
        return i
    }
}
