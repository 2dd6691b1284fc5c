#include <libpq-fe.h>

/* PQsetNoticeProcessor wants a C function: notices (NOTICE: relation
 * already exists, skipping) would otherwise go to runbook's stderr. */
static void rb_pq_ignore_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

static inline void rb_pq_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, rb_pq_ignore_notice, (void *)0);
}
