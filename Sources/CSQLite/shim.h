#include <sqlite3.h>

/// sqlite3_config is variadic, which Swift cannot call. Turning memory
/// statistics off takes a global mutex out of every SQLite allocation; it
/// works only before SQLite initializes (else SQLITE_MISUSE, harmless).
static inline int spool_sqlite3_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
