// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Receives the FTP analyzer's events: Zeek's `ftp_request` and `ftp_reply`
/// (`src/analyzer/protocol/ftp/events.bif`). Generic `inout` use keeps the calls direct.
///
/// Byte arguments are borrowed: valid only during the call.
public protocol FTPEventSink {
    /// A client command: the command word upper-cased and its argument (leading blanks removed).
    mutating func ftpRequest(command: UnsafeRawBufferPointer, arg: UnsafeRawBufferPointer)
    /// A server reply line. `code` is 0 for an intermediate line of a multi-line reply;
    /// `continued` is true for every line but the last of a multi-line reply.
    mutating func ftpReply(code: UInt16, message: UnsafeRawBufferPointer, continued: Bool)
    /// A weird for the connection, with weird.log's `addl` (empty for none).
    mutating func ftpWeird(_ weird: Weird, addl: [UInt8])
}

/// Zeek's FTP weirds (`src/analyzer/protocol/ftp/FTP.cc`, `base/protocols/ftp/main.zeek`).
extension Weird {
    public static let ftpInvalidCommand = Weird("FTP_invalid_command", source: "FTP")
    public static let ftpMaxCommandLengthExceeded = Weird("FTP_max_command_length_exceeded", source: "FTP")
    public static let ftpPartialRequest = Weird("partial_ftp_request", source: "FTP")
    public static let ftpTooManyPendingCommands = Weird("FTP_too_many_pending_commands", source: "FTP")
    public static let ftpUserTooLong = Weird("FTP_user_too_long", source: "FTP")
    public static let ftpPasswordTooLong = Weird("FTP_password_too_long", source: "FTP")
    public static let ftpArgTooLong = Weird("FTP_arg_too_long", source: "FTP")
    public static let ftpReplyMessageTooLong = Weird("FTP_reply_msg_too_long", source: "FTP")
}

/// Decimal digits of `value`, for weird.log `addl` texts such as Zeek's `cat(|arg|)`.
@usableFromInline
func decimalBytes(_ value: Int) -> [UInt8] {
    Array(String(value).utf8)
}
