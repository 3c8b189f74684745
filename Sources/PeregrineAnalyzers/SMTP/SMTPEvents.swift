// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Receives the SMTP analyzer's events: Zeek's `smtp_request`, `smtp_reply`, `smtp_starttls`
/// (`src/analyzer/protocol/smtp/events.bif`) and, for the message in a `DATA` section, the MIME
/// layer's `mime_begin_entity` and `mime_one_header`. Generic `inout` use keeps calls direct.
///
/// Byte arguments are borrowed: valid only during the call.
public protocol SMTPEventSink {
    /// A client command, upper-cased, with its argument.
    mutating func smtpRequest(command: UnsafeRawBufferPointer, arg: UnsafeRawBufferPointer)
    /// A server reply line: its code, the command it answers (`>` for the greeting, `.` for the
    /// end of a message), its text, and whether more lines of the reply follow.
    mutating func smtpReply(code: UInt16, command: StaticString, message: UnsafeRawBufferPointer, continued: Bool)
    /// A message starts in a `DATA` section (the top-level MIME entity).
    mutating func smtpBeginEntity()
    /// A header of the message: the name upper-cased, the value with leading blanks removed.
    mutating func smtpHeader(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    /// The server accepted `STARTTLS`: the rest of the connection is TLS.
    mutating func smtpStartTLS()
    /// A weird for the connection.
    mutating func smtpWeird(_ weird: Weird)
}

/// Zeek's SMTP weirds (`src/analyzer/protocol/smtp/SMTP.cc`, `base/protocols/smtp/main.zeek`).
extension Weird {
    public static let smtpNestedMailTransaction = Weird("smtp_nested_mail_transaction", source: "SMTP")
    public static let smtpUnmatchedEndOfData = Weird("smtp_unmatched_end_of_data", source: "SMTP")
    public static let smtpMailTransactionInvalid = Weird("smtp_mail_transaction_invalid", source: "SMTP")
    public static let smtpExcessiveInvalidMailTransactions = Weird(
        "smtp_excessive_invalid_mail_transactions", source: "SMTP")
    public static let smtpTooManyRcptToAddresses = Weird("smtp_too_many_rcptto_addresses", source: "SMTP")
    public static let smtpTooManyToAddresses = Weird("smtp_too_many_to_addresses", source: "SMTP")
    public static let smtpTooManyCCAddresses = Weird("smtp_too_many_cc_addresses", source: "SMTP")
    public static let smtpMaxPathLengthExceeded = Weird("smtp_max_path_length_exceeded", source: "SMTP")
}
