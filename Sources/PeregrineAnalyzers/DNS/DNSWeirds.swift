// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// The weirds Zeek's DNS analyzer raises (`src/analyzer/protocol/dns/DNS.cc`), spelled as there.
extension Weird {
    static let dnsTruncatedHeader = Weird("DNS_truncated_len_lt_hdr_len", source: "DNS")
    static let dnsTooManyQuestions = Weird("DNS_Conn_count_too_large", source: "DNS")
    static let dnsTruncatedQuestion = Weird("DNS_truncated_quest_too_short", source: "DNS")
    static let dnsTruncatedAnswer = Weird("DNS_truncated_ans_too_short", source: "DNS")
    static let dnsRDLengthPastEnd = Weird("DNS_truncated_RR_rdlength_lt_len", source: "DNS")
    static let dnsForwardCompression = Weird("DNS_label_forward_compress_offset", source: "DNS")
    static let dnsLabelPastEnd = Weird("DNS_label_len_gt_pkt", source: "DNS")
    static let dnsLabelTooLong = Weird("DNS_label_too_long", source: "DNS")
    static let dnsLabelPastNameBuffer = Weird("DNS_label_len_gt_name_len", source: "DNS")
    static let dnsNameTooLong = Weird("DNS_NAME_too_long", source: "DNS")
    static let dnsRRLengthMismatch = Weird("DNS_RR_length_mismatch", source: "DNS")
    static let dnsRRBadLength = Weird("DNS_RR_bad_length", source: "DNS")
    static let dnsRRUnknownType = Weird("DNS_RR_unknown_type", source: "DNS")
    static let dnsTXTPastRDLength = Weird("DNS_TXT_char_str_past_rdlen", source: "DNS")
}
