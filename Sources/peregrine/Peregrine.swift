// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import PeregrineEngine

@main
struct Peregrine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A network security monitor that writes Zeek's logs.",
        version: "0.1.0"
    )

    func run() throws {}
}
