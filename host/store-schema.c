/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The history's schema, as an ordered list of steps.  PRAGMA user_version
 * holds the last step applied.  A released step is never edited: a change
 * is a new step at the end, and store_schema_version() follows it.
 *
 * Conventions: times are Unix milliseconds UTC (*_ms); zones are the wire
 * numbers of PROTOCOL.md §6 (1..10, 0 or NULL for none); forces are in
 * centinewtons (*_cn); roller sequence numbers are u32.
 */
#define G_LOG_DOMAIN "dermaroll-store"

#include <glib.h>

#include "store-private.h"

static const char schema_v1[] =
	"PRAGMA application_id = 1146244434;\n" /* STORE_APPLICATION_ID */

	"CREATE TABLE rollers (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  serial TEXT NOT NULL UNIQUE CHECK (length(serial) > 0),\n"
	"  name TEXT NOT NULL CHECK (length(name) > 0),\n"
	"  firmware TEXT NOT NULL,\n"
	"  first_seen_ms INTEGER NOT NULL,\n"
	"  last_seen_ms INTEGER NOT NULL,\n"
	"  forgotten INTEGER NOT NULL DEFAULT 0 CHECK (forgotten IN (0, 1))\n"
	");\n"

	"CREATE TABLE heads (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  roller_id INTEGER NOT NULL REFERENCES rollers (id),\n"
	"  serial TEXT NOT NULL CHECK (length(serial) > 0),\n"
	"  needle_um INTEGER NOT NULL CHECK (needle_um BETWEEN 1 AND 3000),\n"
	"  fitted_ms INTEGER NOT NULL,\n"
	"  replaced_ms INTEGER,\n"                 /* NULL while fitted */
	"  uses_reported INTEGER NOT NULL DEFAULT 0\n"
	"    CHECK (uses_reported BETWEEN 0 AND 65535),\n"
	"  UNIQUE (roller_id, serial)\n"
	");\n"
	/* One fitted head per roller. */
	"CREATE UNIQUE INDEX heads_fitted ON heads (roller_id)"
	" WHERE replaced_ms IS NULL;\n"

	"CREATE TABLE sessions (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  roller_id INTEGER NOT NULL REFERENCES rollers (id),\n"
	"  head_id INTEGER REFERENCES heads (id),\n"
	"  device_session INTEGER NOT NULL DEFAULT 0\n"
	"    CHECK (device_session BETWEEN 0 AND 65535),\n"
	"  started_ms INTEGER NOT NULL,\n"
	"  utc_offset_s INTEGER NOT NULL\n"
	"    CHECK (utc_offset_s BETWEEN -86400 AND 86400),\n"
	"  ended_ms INTEGER,\n"                    /* NULL while open */
	"  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN\n"
	"    ('open', 'completed', 'aborted', 'interrupted')),\n"
	"  firmware TEXT NOT NULL,\n"             /* the roller's, then */
	"  plan_name TEXT,\n"                      /* NULL: no plan */
	"  plan_date TEXT\n"
	");\n"
	"CREATE INDEX sessions_started ON sessions (started_ms);\n"
	"CREATE INDEX sessions_device ON sessions\n"
	"  (roller_id, device_session);\n"
	"CREATE INDEX sessions_head ON sessions (head_id, started_ms);\n"

	"CREATE TABLE zone_results (\n"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),\n"
	"  zone INTEGER NOT NULL CHECK (zone BETWEEN 1 AND 10),\n"
	"  horizontal_passes INTEGER NOT NULL CHECK (horizontal_passes >= 0),\n"
	"  vertical_passes INTEGER NOT NULL CHECK (vertical_passes >= 0),\n"
	"  diagonal_passes INTEGER NOT NULL CHECK (diagonal_passes >= 0),\n"
	"  mean_force_cn INTEGER NOT NULL,\n"
	"  peak_force_cn INTEGER NOT NULL,\n"
	"  over_warn_ms INTEGER NOT NULL,\n"
	"  started_ms INTEGER NOT NULL,\n"
	"  ended_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY (session_id, zone)\n"
	");\n"
	"CREATE INDEX zone_results_zone ON zone_results (zone, started_ms);\n"

	/* Every pass, live or from the offline log, once: (roller, seq) is
	 * the roller's log sequence (PROTOCOL.md: the host de-duplicates by
	 * roller serial and seq).  session_id NULL: unassigned. */
	"CREATE TABLE passes (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  roller_id INTEGER NOT NULL REFERENCES rollers (id),\n"
	"  seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 4294967295),\n"
	"  session_id INTEGER REFERENCES sessions (id),\n"
	"  device_session INTEGER NOT NULL\n"
	"    CHECK (device_session BETWEEN 0 AND 65535),\n"
	"  zone INTEGER NOT NULL CHECK (zone BETWEEN 0 AND 10),\n"
	"  direction_class TEXT NOT NULL\n"
	"    CHECK (direction_class IN\n"
	"      ('horizontal', 'vertical', 'diagonal')),\n"
	"  device_direction INTEGER NOT NULL\n"
	"    CHECK (device_direction IN (1, 2)),\n"
	"  device_start_ms INTEGER NOT NULL,\n"    /* roller's clock */
	"  started_ms INTEGER NOT NULL,\n"         /* host's UTC for it */
	"  duration_ms INTEGER NOT NULL,\n"
	"  distance_mm INTEGER NOT NULL,\n"
	"  angle_deg INTEGER NOT NULL CHECK (angle_deg BETWEEN 0 AND 179),\n"
	"  mean_force_cn INTEGER NOT NULL,\n"
	"  peak_force_cn INTEGER NOT NULL,\n"
	"  over_warn_ms INTEGER NOT NULL,\n"
	"  flags INTEGER NOT NULL,\n"              /* DP_PASS_* */
	"  source TEXT NOT NULL CHECK (source IN ('live', 'offline')),\n"
	"  stored_ms INTEGER NOT NULL,\n"          /* when the host stored it */
	"  UNIQUE (roller_id, seq)\n"
	");\n"
	"CREATE INDEX passes_session ON passes (session_id, seq);\n"
	"CREATE INDEX passes_zone ON passes (zone, started_ms);\n"
	"CREATE INDEX passes_unassigned ON passes (roller_id, seq)"
	" WHERE session_id IS NULL;\n"

	"CREATE TABLE overrides (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),\n"
	"  zone INTEGER CHECK (zone BETWEEN 1 AND 10),\n" /* NULL: session */
	"  kind TEXT NOT NULL CHECK (kind IN\n"
	"    ('interval', 'passes', 'head_wear', 'checklist')),\n"
	"  reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),\n"
	"  at_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX overrides_session ON overrides (session_id);\n"

	"CREATE TABLE checklist_answers (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  session_id INTEGER NOT NULL REFERENCES sessions (id),\n"
	"  item TEXT NOT NULL CHECK (length(item) > 0),\n"
	"  answer INTEGER NOT NULL CHECK (answer IN (0, 1)),\n" /* 1: yes */
	"  at_ms INTEGER NOT NULL,\n"
	"  UNIQUE (session_id, item)\n"
	");\n"

	"CREATE TABLE journal_entries (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  at_ms INTEGER NOT NULL,\n"
	"  utc_offset_s INTEGER NOT NULL\n"
	"    CHECK (utc_offset_s BETWEEN -86400 AND 86400),\n"
	"  zone INTEGER CHECK (zone BETWEEN 1 AND 10),\n" /* NULL: none */
	"  redness INTEGER NOT NULL CHECK (redness BETWEEN 0 AND 3),\n"
	"  swelling INTEGER NOT NULL CHECK (swelling BETWEEN 0 AND 3),\n"
	"  note TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE INDEX journal_entries_at ON journal_entries (at_ms);\n"

	/* acked_seq: every record up to it is committed here, so the roller
	 * may free them (PROTOCOL.md: commit, then ACK). */
	"CREATE TABLE sync_state (\n"
	"  roller_id INTEGER PRIMARY KEY REFERENCES rollers (id),\n"
	"  acked_seq INTEGER NOT NULL DEFAULT 0\n"
	"    CHECK (acked_seq BETWEEN 0 AND 4294967295),\n"
	"  device_clock_ms INTEGER,\n"             /* NULL: never read */
	"  device_clock_at_ms INTEGER\n"
	");\n"

	/* SAFETY.md: the latest wall-clock time seen, so that a clock moved
	 * back never opens a lock early.  One row. */
	"CREATE TABLE clock_witness (\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  latest_seen_ms INTEGER NOT NULL\n"
	");\n";

/* The roller's Bluetooth identity address, recorded when it is paired
 * (PROTOCOL.md §9.5): "AA:BB:CC:DD:EE:FF", upper case; NULL for a roller
 * never paired over Bluetooth (a virtual one).  One address, one roller. */
static const char schema_v2[] =
	"ALTER TABLE rollers ADD COLUMN address TEXT\n"
	"  CHECK (address IS NULL OR length(address) = 17);\n"
	"CREATE UNIQUE INDEX rollers_address ON rollers (address)"
	" WHERE address IS NOT NULL;\n";

const struct store_migration store_migrations[] = {
	{ 1, schema_v1 },
	{ 2, schema_v2 },
};
const size_t store_n_migrations = G_N_ELEMENTS(store_migrations);

int store_schema_version(void)
{
	return store_migrations[store_n_migrations - 1].version;
}

static gboolean user_version(struct store *s, int *version, GError **error)
{
	sqlite3_stmt *st;
	int rc;

	/* Not cached: a cached statement would keep a schema snapshot
	 * across the steps. */
	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_ROW)
		return TRUE;
	store_set_error(s, rc, "update the history's format", error);
	return FALSE;
}

static gboolean apply_step(struct store *s, const struct store_migration *m,
				GError **error)
{
	const char *doing = "update the history's format";
	char set_version[48];
	int version, rc;

	if (!store_begin(s, doing, error))
		return FALSE;
	/* Another dermaroll may have applied it since we looked. */
	if (!user_version(s, &version, error))
		goto fail;
	if (version >= m->version)
		return store_commit(s, doing, error);

	/* The version is our own constant, not user data. */
	g_snprintf(set_version, sizeof(set_version),
			"PRAGMA user_version = %d", m->version);
	rc = sqlite3_exec(s->db, m->sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, set_version, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_set_error(s, rc, doing, error);
		goto fail;
	}
	if (!store_commit(s, doing, error))
		return FALSE;
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
			 "MESSAGE", "%s: history format %d applied",
			 s->path, m->version,
			 "DERMAROLL_HISTORY", "%s", s->path);
	return TRUE;

fail:
	store_rollback(s);
	return FALSE;
}

gboolean store_schema_apply(struct store *s,
				const struct store_migration *steps,
				size_t n_steps, GError **error)
{
	int version;
	size_t i;

	for (i = 1; i < n_steps; i++)
		g_return_val_if_fail(steps[i].version > steps[i - 1].version,
					FALSE);
	if (n_steps == 0)
		return TRUE;
	/* Looked at without a lock, so that opening an up-to-date history
	 * never waits for another dermaroll's write. */
	if (!user_version(s, &version, error))
		return FALSE;
	for (i = 0; i < n_steps; i++) {
		if (steps[i].version <= version)
			continue;
		if (!apply_step(s, &steps[i], error))
			return FALSE;
	}
	return TRUE;
}
