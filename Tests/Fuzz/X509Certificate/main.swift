// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for `X509Certificate.parse(der:)` (swift-asn1's DER parser underneath):
// one certificate as a TLS Certificate message carries it. Every string of a parsed certificate
// is read in full.
//
// Input: the DER bytes.
import FuzzSupport
import PeregrineAnalyzers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzX509Certificate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    guard let cert = X509Certificate.parse(der: Array(input.bytes)) else { return 0 }
    var checksum: UInt8 = 0
    for text in [cert.serial, cert.subject, cert.issuer, cert.keyAlgorithm, cert.signatureAlgorithm,
                 cert.keyType ?? "", cert.exponent ?? "", cert.curve ?? ""] {
        for b in text.utf8 { checksum &+= b }
    }
    if let san = cert.san { checksum &+= UInt8(truncatingIfNeeded: String(describing: san).utf8.count) }
    fuzzCheck(cert.version >= 1, "certificate version below 1")
    return 0
}

runFuzzer(fuzzX509Certificate)
