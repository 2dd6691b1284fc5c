/* libpq's declarations only: runbook does not link libpq. Only users of a
 * postgres:// store need it, so Store/LibPQ.swift dlopens libpq.so.5 the
 * first time one is opened, and every other command starts without libpq
 * and the ~28 libraries it pulls in (TLS, Kerberos, LDAP). Hence no
 * `link "pq"` in the module map and no pkgConfig in Package.swift, whose
 * libs would put libpq back in the binary's DT_NEEDED. */
#if __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h> /* Debian, Ubuntu */
#else
#include <libpq-fe.h>
#endif

/* The types of the functions Store/LibPQ.swift looks up with dlsym, taken
 * from libpq's own prototypes so they cannot drift. Naming a function in
 * __typeof__ does not reference its symbol. */
typedef __typeof__(PQconnectdbParams) *rb_PQconnectdbParams;
typedef __typeof__(PQstatus) *rb_PQstatus;
typedef __typeof__(PQerrorMessage) *rb_PQerrorMessage;
typedef __typeof__(PQfinish) *rb_PQfinish;
typedef __typeof__(PQsetNoticeProcessor) *rb_PQsetNoticeProcessor;
typedef __typeof__(PQexec) *rb_PQexec;
typedef __typeof__(PQexecParams) *rb_PQexecParams;
typedef __typeof__(PQclear) *rb_PQclear;
typedef __typeof__(PQresultStatus) *rb_PQresultStatus;
typedef __typeof__(PQresultErrorMessage) *rb_PQresultErrorMessage;
typedef __typeof__(PQresultErrorField) *rb_PQresultErrorField;
typedef __typeof__(PQntuples) *rb_PQntuples;
typedef __typeof__(PQnfields) *rb_PQnfields;
typedef __typeof__(PQftype) *rb_PQftype;
typedef __typeof__(PQgetisnull) *rb_PQgetisnull;
typedef __typeof__(PQgetvalue) *rb_PQgetvalue;
typedef __typeof__(PQgetlength) *rb_PQgetlength;
