import Glibc
import RunbookKit

exit(RunbookCLI.main(Array(CommandLine.arguments.dropFirst())))
