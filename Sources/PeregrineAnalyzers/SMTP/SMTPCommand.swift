// SPDX-License-Identifier: Apache-2.0

/// The SMTP commands Zeek's analyzer knows (`src/analyzer/protocol/smtp/SMTP_cmd.def`), plus
/// its pseudo-commands for the greeting, the end of a message and an authentication answer.
public enum SMTPCommand: UInt8, CaseIterable, Sendable {
    case ehlo, helo, mail, rcpt, data, rset, send, soml, saml, vrfy, expn, help, noop, quit, turn
    case startTLS, bdat, etrn, auth, xAnonymousTLS, xExps, xLink2State
    case connectionEstablishment, endOfData, authAnswer

    /// The command word as sent (and as `smtp_reply` names it).
    public var word: StaticString {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .mail: "MAIL"
        case .rcpt: "RCPT"
        case .data: "DATA"
        case .rset: "RSET"
        case .send: "SEND"
        case .soml: "SOML"
        case .saml: "SAML"
        case .vrfy: "VRFY"
        case .expn: "EXPN"
        case .help: "HELP"
        case .noop: "NOOP"
        case .quit: "QUIT"
        case .turn: "TURN"
        case .startTLS: "STARTTLS"
        case .bdat: "BDAT"
        case .etrn: "ETRN"
        case .auth: "AUTH"
        case .xAnonymousTLS: "X-ANONYMOUSTLS"
        case .xExps: "X-EXPS"
        case .xLink2State: "X-LINK2STATE"
        case .connectionEstablishment: ">"
        case .endOfData: "."
        case .authAnswer: "***"
        }
    }

    /// The command a word names (case-insensitive), if it is one the client can send.
    public static func parse(_ word: UnsafeRawBufferPointer) -> SMTPCommand? {
        for c in allCases where c.rawValue < SMTPCommand.connectionEstablishment.rawValue {
            let w = c.word
            guard w.utf8CodeUnitCount == word.count else { continue }
            var equal = true
            for i in 0..<word.count {
                let b = word[i]
                if (b >= 0x61 && b <= 0x7A ? b - 0x20 : b) != w.utf8Start[i] {
                    equal = false
                    break
                }
            }
            if equal { return c }
        }
        return nil
    }
}
