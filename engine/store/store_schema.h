/*
 * store_schema.h: the store's numbered migrations (private to store*.c).
 *
 * store_migrations[i] takes a store from schema version i to i + 1. Each entry
 * is a batch of SQL statements run with sqlite3_exec inside the open-time
 * transaction. Entries are never edited once released: a change to the schema
 * is a new entry at the end and a bump of STORE_SCHEMA_VERSION (store.h).
 */
#ifndef SD_STORE_SCHEMA_H
#define SD_STORE_SCHEMA_H

#include <stddef.h>

extern const char *const store_migrations[];
extern const size_t store_migrations_count;

#endif
