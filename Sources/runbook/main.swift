import Foundation
import RunbookKit

exit(RunbookCLI.main(Array(CommandLine.arguments.dropFirst())))
