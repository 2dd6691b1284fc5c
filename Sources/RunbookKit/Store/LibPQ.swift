import CLibPQ
import FoundationEssentials
import Glibc

/// The libpq functions `PostgresConnection` calls, bound with `dlopen` and
/// `dlsym` the first time a PostgreSQL store is opened.
///
/// runbook does not link libpq: linking it made every command load it and
/// the ~28 libraries it needs (TLS, Kerberos, LDAP) at start, which doubled
/// `runbook --version`, for the few users of a `postgres://` store. The
/// function types come from libpq's own header (`CLibPQ/shim.h`), so a
/// wrong signature fails to compile rather than to run.
struct LibPQ: @unchecked Sendable {
    // @unchecked: only C function pointers into a library that stays
    // loaded for the life of the process (it is never dlclosed).
    let connectdbParams: rb_PQconnectdbParams
    let status: rb_PQstatus
    let errorMessage: rb_PQerrorMessage
    let finish: rb_PQfinish
    let setNoticeProcessor: rb_PQsetNoticeProcessor
    let exec: rb_PQexec
    let execParams: rb_PQexecParams
    let clear: rb_PQclear
    let resultStatus: rb_PQresultStatus
    let resultErrorMessage: rb_PQresultErrorMessage
    let resultErrorField: rb_PQresultErrorField
    let ntuples: rb_PQntuples
    let nfields: rb_PQnfields
    let ftype: rb_PQftype
    let getisnull: rb_PQgetisnull
    let getvalue: rb_PQgetvalue
    let getlength: rb_PQgetlength

    /// The soname of the libpq every PostgreSQL release since 8.x provides.
    static let libraryName = "libpq.so.5"

    /// The system's libpq, loaded once per process on first use (a lazy,
    /// thread-safe global: a fact about the host, cached), or why it could not be.
    private static let system: Result<LibPQ, LoadFailure> = load(libraryName)

    /// Why libpq could not be loaded: dlerror's text, on one line.
    struct LoadFailure: Error, Sendable {
        var reason: String
    }

    /// libpq from `name`: the cached system library for `libraryName`, any
    /// other name (tests) loaded afresh.
    static func named(_ name: String) -> Result<LibPQ, LoadFailure> {
        name == libraryName ? system : load(name)
    }

    private static func load(_ name: String) -> Result<LibPQ, LoadFailure> {
        guard let library = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(LoadFailure(reason: lastError() ?? "\(name) cannot be loaded"))
        }
        var missing: [String] = []
        func symbol<F>(_ symbolName: String, as type: F.Type) -> F? {
            guard let address = dlsym(library, symbolName) else {
                missing.append(symbolName)
                return nil
            }
            return unsafeBitCast(address, to: F.self)
        }
        let functions = (
            symbol("PQconnectdbParams", as: rb_PQconnectdbParams.self),
            symbol("PQstatus", as: rb_PQstatus.self),
            symbol("PQerrorMessage", as: rb_PQerrorMessage.self),
            symbol("PQfinish", as: rb_PQfinish.self),
            symbol("PQsetNoticeProcessor", as: rb_PQsetNoticeProcessor.self),
            symbol("PQexec", as: rb_PQexec.self),
            symbol("PQexecParams", as: rb_PQexecParams.self),
            symbol("PQclear", as: rb_PQclear.self),
            symbol("PQresultStatus", as: rb_PQresultStatus.self),
            symbol("PQresultErrorMessage", as: rb_PQresultErrorMessage.self),
            symbol("PQresultErrorField", as: rb_PQresultErrorField.self),
            symbol("PQntuples", as: rb_PQntuples.self),
            symbol("PQnfields", as: rb_PQnfields.self),
            symbol("PQftype", as: rb_PQftype.self),
            symbol("PQgetisnull", as: rb_PQgetisnull.self),
            symbol("PQgetvalue", as: rb_PQgetvalue.self),
            symbol("PQgetlength", as: rb_PQgetlength.self)
        )
        guard let connectdbParams = functions.0, let status = functions.1, let errorMessage = functions.2,
              let finish = functions.3, let setNoticeProcessor = functions.4, let exec = functions.5,
              let execParams = functions.6, let clear = functions.7, let resultStatus = functions.8,
              let resultErrorMessage = functions.9, let resultErrorField = functions.10,
              let ntuples = functions.11, let nfields = functions.12, let ftype = functions.13,
              let getisnull = functions.14, let getvalue = functions.15, let getlength = functions.16
        else {
            dlclose(library)
            return .failure(LoadFailure(reason: "\(name) lacks \(missing.joined(separator: ", ")); it is too old"))
        }
        return .success(LibPQ(
            connectdbParams: connectdbParams, status: status, errorMessage: errorMessage, finish: finish,
            setNoticeProcessor: setNoticeProcessor, exec: exec, execParams: execParams, clear: clear,
            resultStatus: resultStatus, resultErrorMessage: resultErrorMessage,
            resultErrorField: resultErrorField, ntuples: ntuples, nfields: nfields, ftype: ftype,
            getisnull: getisnull, getvalue: getvalue, getlength: getlength))
    }

    /// `PQerrorMessage` as a String ("" when libpq gives none).
    func errorText(_ connection: OpaquePointer?) -> String {
        errorMessage(connection).map { String(cString: $0) } ?? ""
    }

    private static func lastError() -> String? {
        guard let message = dlerror() else { return nil }
        return PostgresConnection.oneLine(String(cString: message))
    }
}
