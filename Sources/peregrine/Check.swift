// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import PeregrineConfig

/// `peregrine check [FILE]`: validates a configuration file as a start or a reload would, printing
/// every problem with its file, line and reason.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peregrine check",
        abstract: "Validate a configuration file: every problem with file, line and reason; exit 1 if any.")

    @Argument(help: "The file (default: /etc/peregrine/peregrine.yaml).")
    var file: String = ConfigurationFile.defaultPath

    func run() throws {
        switch ConfigurationFile.load(path: file) {
        case .success:
            print("\(file): OK")
        case .failure(let problems):
            printError("\(problems)")
            throw ExitCode(1)
        }
    }
}
