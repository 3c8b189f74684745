// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineLogs
import PeregrineSessions

/// The native counterpart of Zeek's `base/protocols/ftp` (`main.zeek`, `utils.zeek`,
/// `utils-commands.zeek`): pairs commands with replies and writes one ftp.log line per
/// command of `FTP::logged_commands` (transfers and data-channel setup).
///
/// Per connection it keeps Zeek's `FTP::Info`: user, password, working directory, the pending
/// commands (at most `FTP::max_pending_commands`), the command the last reply answered, and
/// the data channel a `PORT`/`EPRT` command or `PASV`/`EPSV` reply announced. A command is
/// written when the next command arrives (or when several are pending and one is answered),
/// as in Zeek; whatever is pending when the connection ends is written then.
///
/// Announced data channels are queued in ``expectations`` for the engine's
/// `ExpectedConnections` (Zeek's `Analyzer::schedule_analyzer` for `ANALYZER_FTP_DATA`), and
/// remembered by responder address and port (`ftp_data_expected`). A data connection that
/// arrives is followed into the files framework (`base/protocols/ftp/files.zeek`): its bytes
/// make a file with source `FTP_DATA`, whose fuid and sniffed MIME type go to the session that
/// announced the channel, so the next ftp.log line of that session carries them.
public final class FTPLog {
    /// ftp.log's columns, in Zeek 9's order.
    public static let schema = LogSchema(
        id: 9, path: "ftp",
        columns: [LogColumn("ts", .time), LogColumn("uid", .string)] + LogStreams.idColumns + [
            LogColumn("user", .string), LogColumn("password", .string), LogColumn("command", .string),
            LogColumn("arg", .string), LogColumn("mime_type", .string), LogColumn("file_size", .count),
            LogColumn("reply_code", .count), LogColumn("reply_msg", .string),
            LogColumn("data_channel.passive", .bool), LogColumn("data_channel.orig_h", .addr),
            LogColumn("data_channel.resp_h", .addr), LogColumn("data_channel.resp_p", .port),
            LogColumn("fuid", .string),
        ])

    /// `FTP::max_pending_commands`.
    public static let maxPendingCommands = 20
    /// `FTP::max_user_length`, `FTP::max_password_length`.
    public static let maxUserLength = 128
    public static let maxPasswordLength = 128
    /// `FTP::max_arg_length`, `FTP::max_reply_msg_length`.
    public static let maxArgLength = 4096
    public static let maxReplyMessageLength = 4096

    /// The data connection an exchange announced (Zeek's `FTP::ExpectedDataChannel`).
    public struct DataChannel: Equatable, Sendable {
        public var passive: Bool
        public var originator: IPAddress
        public var responder: IPAddress
        public var responderPort: UInt16
    }

    /// Zeek's `FTP::CmdArg`.
    struct CommandArg {
        var ts: Timestamp
        var command: [UInt8]
        var arg: [UInt8]
        var seq: UInt64
        var cwdConsumed = false
    }

    struct Session {
        var started = false
        var ts = Timestamp.zero
        var user: [UInt8] = Array("<unknown>".utf8)
        var password: [UInt8]? = nil
        var cwd: [UInt8] = [UInt8(ascii: ".")]
        var commandArg: CommandArg? = nil
        var pending: [CommandArg] = []
        var commandSeq: UInt64 = 0
        var replyCode: UInt16? = nil
        var replyMessage: [UInt8]? = nil
        var fileSize: UInt64? = nil
        var dataChannel: DataChannel? = nil
        /// The file a data connection of this session carries, and its MIME type.
        var fuid: ConnectionUID? = nil
        var mimeType: StaticString? = nil
        /// The control connection the session belongs to (a slot outlives its connection).
        var owner = ConnectionUID(word0: 0, word1: 0)
    }

    /// A data connection being followed into the files framework.
    struct Transfer {
        /// The session that announced the channel, by slot and owner, if it still exists.
        var session: Int
        var owner: ConnectionUID
        var connection: FilesLog.ConnectionRef
        var startTime: Timestamp
        /// The file of each direction (originator, responder) and the bytes delivered so far.
        var fuids: (ConnectionUID?, ConnectionUID?) = (nil, nil)
        var offsets: (UInt64, UInt64) = (0, 0)
    }

    /// The key of `ftp_data_expected`: the data connection's responder address and port.
    struct ChannelKey: Hashable {
        var responder: IPAddress
        var port: UInt16
    }

    struct Row {
        var ts: Timestamp
        var connection: FilesLog.ConnectionRef
        var user: [UInt8]
        var password: [UInt8]?
        var command: [UInt8]
        var arg: [UInt8]?
        var fileSize: UInt64?
        var replyCode: UInt16?
        var replyMessage: [UInt8]?
        var dataChannel: DataChannel?
        var mimeType: StaticString?
        var fuid: ConnectionUID?
    }

    var sessions: [Session]
    /// `ftp_data_expected`: announced channels and the session (slot, owner) that announced them.
    var channels: [ChannelKey: (session: Int, owner: ConnectionUID, time: Timestamp)] = [:]
    var transfers: [Transfer?]
    var transferSlots: AnalyzerSlots
    /// The worker's files framework (shared with HTTP and SMTP).
    public let files: FilesLog
    var finished: [Row] = []
    var record = LogRecordEncoder(schema: FTPLog.schema)
    var slot = 0
    var connection = FilesLog.ConnectionRef(
        uid: ConnectionUID(word0: 0, word1: 0), originator: .zero, originatorPort: 0, responder: .zero,
        responderPort: 0)
    var now = Timestamp.zero

    /// Data channels announced since the engine last took them.
    public var expectations: [DataChannel] = []
    /// Weirds raised since the engine last took them, with their `addl`.
    public var weirds: [(Weird, [UInt8])] = []
    /// Records written.
    public private(set) var records: UInt64 = 0

    /// Announced channels remembered at once (`ftp_data_expected`); the oldest goes first.
    public static let maxChannels = 1_024
    /// How long an announced channel is remembered (`&read_expire=5mins`).
    static let channelLifetime = Interval.seconds(300)

    /// Allocates per-slot state for `capacity` control connections (the FTP analyzer's pool size)
    /// and as many data connections.
    public init(capacity: Int, files: FilesLog) {
        sessions = Array(repeating: Session(), count: capacity + 1)
        transfers = Array(repeating: nil, count: capacity + 1)
        transferSlots = AnalyzerSlots(capacity: capacity, name: "FTP data")
        self.files = files
    }

    /// Points the policy at the connection holding `slot` before its events are delivered.
    public func begin(slot: UInt32, connection c: Connection, now: Timestamp) {
        self.slot = Int(slot)
        connection = FilesLog.ConnectionRef(
            uid: c.uid, originator: c.originator, originatorPort: c.originatorPort, responder: c.responder,
            responderPort: c.responderPort)
        self.now = now
    }

    /// The connection is removed: every pending command is written (`finalize_ftp`), and the
    /// slot's state is reset.
    public func connectionEnded(slot: UInt32) {
        self.slot = Int(slot)
        if sessions[self.slot].started {
            let pending = sessions[self.slot].pending.sorted { $0.seq < $1.seq }
            for command in pending {
                sessions[self.slot].commandArg = command
                message()
            }
        }
        sessions[self.slot] = Session()
    }

    /// Writes the finished lines.
    public func flush(into logs: inout LogStreams) {
        for row in finished { write(row, logs: &logs) }
        finished.removeAll(keepingCapacity: true)
    }

    // MARK: - Data connections

    /// A new connection the engine matched to an announced channel: starts following it, when
    /// the channel is remembered and a transfer slot is free.
    /// - Returns: the transfer's slot, or nil (the connection keeps service `ftp-data` only).
    public func attachTransfer(connection c: Connection, now: Timestamp) -> UInt32? {
        let key = ChannelKey(responder: c.responder, port: c.responderPort)
        guard let channel = channels[key], now.since(channel.time) <= Self.channelLifetime,
            let slot = transferSlots.take()
        else { return nil }
        channels[key]?.time = now  // read_expire
        transfers[Int(slot)] = Transfer(
            session: channel.session, owner: channel.owner,
            connection: FilesLog.ConnectionRef(
                uid: c.uid, originator: c.originator, originatorPort: c.originatorPort, responder: c.responder,
                responderPort: c.responderPort),
            startTime: c.startTime)
        return slot
    }

    /// In-order bytes of one direction of a followed data connection.
    public func transferData(slot: UInt32, data: UnsafeRawBufferPointer, isOriginator: Bool, now: Timestamp) {
        guard var t = transfers[Int(slot)] else { return }
        let fuid: ConnectionUID
        if let known = isOriginator ? t.fuids.0 : t.fuids.1 {
            fuid = known
        } else {
            // `FTP::get_file_handle`: the analyzer, the connection's start time and id, the direction.
            var handle = Array("Analyzer::ANALYZER_FTP_DATA".utf8)
            handle += Array("\(t.startTime.nanoseconds)".utf8)
            handle += Array("\(t.connection.originator):\(t.connection.originatorPort)".utf8)
            handle += Array("\(t.connection.responder):\(t.connection.responderPort)".utf8)
            handle.append(isOriginator ? 0x54 : 0x46)
            fuid = files.fuid(handle: handle)
            if isOriginator { t.fuids.0 = fuid } else { t.fuids.1 = fuid }
            let isNew = files.attach(
                fuid, source: "FTP_DATA", depth: 0, isOrig: isOriginator, filename: nil, connection: t.connection,
                now: now)
            // `file_over_new_connection`: the announcing session gets the fuid.
            if isNew, let s = session(of: t) { sessions[s].fuid = fuid }
        }
        let offset = isOriginator ? t.offsets.0 : t.offsets.1
        if isOriginator { t.offsets.0 &+= UInt64(data.count) } else { t.offsets.1 &+= UInt64(data.count) }
        transfers[Int(slot)] = t
        if let sniffed = files.data(fuid, data, offset: offset, now: now) { sniffedType(sniffed, t) }
    }

    /// `length` bytes of one direction of a followed data connection were never seen.
    public func transferGap(slot: UInt32, length: UInt64, isOriginator: Bool, now: Timestamp) {
        guard var t = transfers[Int(slot)] else { return }
        let offset = isOriginator ? t.offsets.0 : t.offsets.1
        if isOriginator { t.offsets.0 &+= length } else { t.offsets.1 &+= length }
        transfers[Int(slot)] = t
        if let fuid = isOriginator ? t.fuids.0 : t.fuids.1 { files.gap(fuid, length: length, offset: offset, now: now) }
    }

    /// The data connection is removed: its files end (sniffed now if they were short) and the
    /// channel is forgotten (`finalize_ftp_data`).
    public func transferEnded(slot: UInt32) {
        guard let t = transfers[Int(slot)] else { return }
        for fuid in [t.fuids.0, t.fuids.1].compactMap({ $0 }) {
            if let sniffed = files.sniffIfNeeded(fuid) { sniffedType(sniffed, t) }
            files.end(fuid)
        }
        channels[ChannelKey(responder: t.connection.responder, port: t.connection.responderPort)] = nil
        transfers[Int(slot)] = nil
        transferSlots.give(slot)
    }

    /// `file_sniff`: the announcing session gets the MIME type.
    func sniffedType(_ mime: StaticString?, _ t: Transfer) {
        if let mime, let s = session(of: t) { sessions[s].mimeType = mime }
    }

    /// The slot of the session that announced `t`'s channel, if that session still runs there.
    func session(of t: Transfer) -> Int? {
        sessions[t.session].started && sessions[t.session].owner == t.owner ? t.session : nil
    }

    // MARK: - Script logic

    /// Zeek's `set_ftp_session`: the first event of a connection starts its session with the
    /// `<init>` shim command the server's greeting answers.
    func startSession() {
        guard !sessions[slot].started else { return }
        sessions[slot].started = true
        sessions[slot].owner = connection.uid
        sessions[slot].ts = now
        sessions[slot].commandSeq += 1
        sessions[slot].pending.append(
            CommandArg(ts: now, command: Array("<init>".utf8), arg: [], seq: sessions[slot].commandSeq))
    }

    func removePending(seq: UInt64) -> Bool {
        guard let i = sessions[slot].pending.firstIndex(where: { $0.seq == seq }) else { return false }
        sessions[slot].pending.remove(at: i)
        return true
    }

    /// Zeek's `ftp_message`: builds the line for the current command and writes it when the
    /// command is one of `FTP::logged_commands`; the transfer fields are cleared either way.
    func message() {
        var s = sessions[slot]
        guard let cmd = s.commandArg else { return }
        var arg = cmd.arg
        if Self.fileCommands.contains(cmd.command) { arg = buildURL(cwd: s.cwd, arg: cmd.arg) }
        if arg.count > Self.maxArgLength {
            weirds.append((.ftpArgTooLong, decimalText(arg.count)))
            arg.removeLast(arg.count - Self.maxArgLength)
        }
        if let m = s.replyMessage, m.count > Self.maxReplyMessageLength {
            weirds.append((.ftpReplyMessageTooLong, decimalText(m.count)))
            s.replyMessage = Array(m.prefix(Self.maxReplyMessageLength))
        }
        let hide = !Self.guestIDs.contains(lowercased(s.user))
        let hidden = Array("<hidden>".utf8)
        if cmd.command == Array("PASS".utf8) && hide { arg = hidden }
        var password = s.password
        if password != nil && hide { password = hidden }
        if Self.loggedCommands.contains(cmd.command) {
            finished.append(
                Row(
                    ts: cmd.ts, connection: connection, user: s.user, password: password, command: cmd.command,
                    arg: arg.isEmpty ? nil : arg, fileSize: s.fileSize, replyCode: s.replyCode,
                    replyMessage: s.replyMessage, dataChannel: s.dataChannel, mimeType: s.mimeType, fuid: s.fuid))
        }
        s.fileSize = nil
        s.dataChannel = nil
        s.mimeType = nil
        s.fuid = nil
        sessions[slot] = s
    }

    func addExpected(_ channel: DataChannel) {
        sessions[slot].dataChannel = channel
        expectations.append(channel)
        let key = ChannelKey(responder: channel.responder, port: channel.responderPort)
        if channels[key] == nil, channels.count >= Self.maxChannels,
            let oldest = channels.min(by: { $0.value.time < $1.value.time })
        {
            channels[oldest.key] = nil
        }
        channels[key] = (slot, connection.uid, now)
    }

    /// Zeek's `get_pending_cmd`: the pending command that best fits a reply, by whether the
    /// code is one the command allows (`FTP::cmd_reply_code`) and whether the reply names the
    /// command or its argument; ties go to the oldest.
    func bestPending(code: UInt16, message: UnsafeRawBufferPointer) -> CommandArg? {
        var best: CommandArg? = nil
        var bestScore = -1
        for cmd in sessions[slot].pending {
            var score = 0
            if code == 500 || FTPReplyCodes.allows(command: cmd.command, code: code) { score += 100 }
            if Self.contains(message, cmd.command) { score += 20 }
            if Self.contains(message, cmd.arg) { score += 10 }
            if score > bestScore || (score == bestScore && (best?.seq ?? 0) > cmd.seq) {
                bestScore = score
                best = cmd
            }
        }
        return best
    }

    /// Zeek's `build_url_ftp`: `ftp://` + the server's address (IPv6 in brackets) + the
    /// compressed path of `arg` under the working directory.
    func buildURL(cwd: [UInt8], arg: [UInt8]) -> [UInt8] {
        var path = FTPPaths.compress(FTPPaths.build(directory: cwd, file: arg))
        if path.first != UInt8(ascii: "/") { path.insert(UInt8(ascii: "/"), at: 0) }
        let host = connection.responder.description
        var url = Array("ftp://".utf8)
        if connection.responder.isIPv4 {
            url += Array(host.utf8)
        } else {
            url.append(UInt8(ascii: "["))
            url += Array(host.utf8)
            url.append(UInt8(ascii: "]"))
        }
        return url + path
    }

    func write(_ row: Row, logs: inout LogStreams) {
        var r = record
        r.reset()
        r.time(row.ts)
        r.uid(row.connection.uid)
        r.addr(row.connection.originator)
        r.port(row.connection.originatorPort)
        r.addr(row.connection.responder)
        r.port(row.connection.responderPort)
        row.user.withUnsafeBytes { r.string($0) }
        if let p = row.password { p.withUnsafeBytes { r.string($0) } } else { r.unset() }
        row.command.withUnsafeBytes { r.string($0) }
        if let a = row.arg { a.withUnsafeBytes { r.string($0) } } else { r.unset() }
        if let m = row.mimeType { r.string(m) } else { r.unset() }
        if let size = row.fileSize { r.count(size) } else { r.unset() }
        if let code = row.replyCode { r.count(UInt64(code)) } else { r.unset() }
        if let m = row.replyMessage { m.withUnsafeBytes { r.string($0) } } else { r.unset() }
        if let d = row.dataChannel {
            r.bool(d.passive)
            r.addr(d.originator)
            r.addr(d.responder)
            r.port(d.responderPort)
        } else {
            for _ in 0..<4 { r.unset() }
        }
        if let fuid = row.fuid { r.uid(fuid, prefix: "F") } else { r.unset() }
        logs.write(r)
        record = r
        records &+= 1
    }

    // MARK: - Tables and helpers

    /// `FTP::logged_commands`.
    static let loggedCommands: Set<[UInt8]> = Set(
        ["APPE", "DELE", "RETR", "STOR", "STOU", "ACCT", "PORT", "PASV", "EPRT", "EPSV"].map { Array($0.utf8) })
    /// `FTP::guest_ids`.
    static let guestIDs: Set<[UInt8]> = Set(["anonymous", "ftp", "ftpuser", "guest"].map { Array($0.utf8) })
    /// `file_cmds` of `main.zeek`: commands whose argument names a file or directory.
    static let fileCommands: Set<[UInt8]> = Set(
        ["APPE", "CWD", "DELE", "MKD", "RETR", "RMD", "RNFR", "RNTO", "STOR", "STOU", "REST", "SIZE", "MDTM"].map {
            Array($0.utf8)
        })

    /// Zeek's `strstr(haystack, needle) > 0`; an empty needle is found.
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) {
            var match = true
            for j in 0..<needle.count where haystack[start + j] != needle[j] {
                match = false
                break
            }
            if match { return true }
        }
        return false
    }

    func lowercased(_ s: [UInt8]) -> [UInt8] {
        s.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }

    func decimalText(_ value: Int) -> [UInt8] { Array(String(value).utf8) }
}

extension FTPLog: FTPEventSink {
    /// Zeek's `ftp_request` handler.
    public func ftpRequest(command: UnsafeRawBufferPointer, arg argBytes: UnsafeRawBufferPointer) {
        if sessions[slot].started, let cmd = sessions[slot].commandArg, sessions[slot].replyCode != nil {
            if removePending(seq: cmd.seq) { message() }
        }
        startSession()
        let commandBytes = Array(command)
        var arg = Array(argBytes)
        if sessions[slot].pending.count < Self.maxPendingCommands {
            sessions[slot].commandSeq += 1
            sessions[slot].pending.append(
                CommandArg(ts: now, command: commandBytes, arg: arg, seq: sessions[slot].commandSeq))
        } else {
            weirds.append((.ftpTooManyPendingCommands, decimalText(sessions[slot].pending.count)))
        }
        switch command.count == 4 ? String(decoding: command, as: UTF8.self) : "" {
        case "USER":
            if arg.count > Self.maxUserLength {
                weirds.append((.ftpUserTooLong, decimalText(arg.count)))
                arg.removeLast(arg.count - Self.maxUserLength)
            }
            sessions[slot].user = arg
        case "PASS":
            if arg.count > Self.maxPasswordLength {
                weirds.append((.ftpPasswordTooLong, decimalText(arg.count)))
                arg.removeLast(arg.count - Self.maxPasswordLength)
            }
            sessions[slot].password = arg
        case "PORT", "EPRT":
            let endpoint =
                commandBytes[1] == UInt8(ascii: "O")
                ? FTPEndpoint.parsePort(argBytes) : FTPEndpoint.parseExtended(argBytes)
            if let e = endpoint, let address = e.address {
                addExpected(
                    DataChannel(
                        passive: false, originator: connection.responder, responder: address,
                        responderPort: e.port))
            }
        default:
            break
        }
    }

    /// Zeek's `ftp_reply` handler.
    public func ftpReply(code: UInt16, message msg: UnsafeRawBufferPointer, continued: Bool) {
        startSession()
        // An intermediate line of a multi-line reply is skipped unless it looks like a reply of
        // its own (`^[1-9][0-9]{2} [[:print:]]{10}`), a quirk main.zeek keeps for servers that
        // end a multi-line reply with another code.
        if continued && code == 0 && sessions[slot].replyCode != nil && !Self.looksLikeReply(msg) { return }
        let best = bestPending(code: code, message: msg)
        if let best { sessions[slot].commandArg = best }
        sessions[slot].replyCode = code
        sessions[slot].replyMessage = Array(msg)
        guard !continued else { return }
        let command = sessions[slot].commandArg?.command ?? []
        let name = String(decoding: command, as: UTF8.self)
        if (code == 150 && name == "RETR") || (code == 213 && name == "SIZE") {
            sessions[slot].fileSize = Self.lastNumber(msg)
        } else if (code == 227 || code == 229) && (name == "PASV" || name == "EPSV") {
            let endpoint = code == 227 ? FTPEndpoint.parsePassive(msg) : FTPEndpoint.parseExtendedPassive(msg)
            if let e = endpoint {
                addExpected(
                    DataChannel(
                        passive: true, originator: connection.originator,
                        responder: e.address ?? connection.responder, responderPort: e.port))
            }
        }
        if var cmd = sessions[slot].commandArg, !cmd.cwdConsumed, Self.changesDirectory(name, code) {
            cmd.cwdConsumed = true
            switch name {
            case "CWD": sessions[slot].cwd = FTPPaths.compress(FTPPaths.build(directory: sessions[slot].cwd, file: cmd.arg))
            case "CDUP": sessions[slot].cwd = FTPPaths.compress(FTPPaths.build(directory: sessions[slot].cwd, file: Array("/..".utf8)))
            default: sessions[slot].cwd = FTPPaths.extractPath(msg)
            }
            sessions[slot].commandArg = cmd
            if let i = sessions[slot].pending.firstIndex(where: { $0.seq == cmd.seq }) {
                sessions[slot].pending[i].cwdConsumed = true
            }
        }
        if sessions[slot].pending.count > 1, let cmd = sessions[slot].commandArg {
            _ = removePending(seq: cmd.seq)
            message()
        }
    }

    public func ftpWeird(_ weird: Weird, addl: [UInt8]) {
        weirds.append((weird, addl))
    }

    /// `directory_cmds` of `main.zeek`.
    static func changesDirectory(_ command: String, _ code: UInt16) -> Bool {
        switch (command, code) {
        case ("CWD", 250), ("CDUP", 200), ("CDUP", 250), ("PWD", 257), ("XPWD", 257): true
        default: false
        }
    }

    /// `^[1-9][0-9]{2} [[:print:]]{10}`.
    static func looksLikeReply(_ m: UnsafeRawBufferPointer) -> Bool {
        guard m.count >= 14, m[0] >= 0x31, m[0] <= 0x39, m[3] == 0x20 else { return false }
        for i in 1...2 where !(m[i] >= 0x30 && m[i] <= 0x39) { return false }
        for i in 4..<14 where !(m[i] >= 0x20 && m[i] < 0x7F) { return false }
        return true
    }

    /// Zeek's `extract_count(msg, F)`: the last run of digits, or 0.
    static func lastNumber(_ m: UnsafeRawBufferPointer) -> UInt64 {
        var last: UInt64 = 0
        var current: UInt64 = 0
        var inNumber = false
        for b in m {
            if b >= 0x30 && b <= 0x39 {
                current = inNumber ? current &* 10 &+ UInt64(b - 0x30) : UInt64(b - 0x30)
                inNumber = true
            } else if inNumber {
                last = current
                inNumber = false
            }
        }
        return inNumber ? current : last
    }
}
