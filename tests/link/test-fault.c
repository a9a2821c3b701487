/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fault test (DESIGN.md "Faults": a killed host loses nothing and
 * duplicates nothing).  One roller-sim process, with a prefilled offline
 * log, runs for the whole test; link-host runs the engine and the store
 * against it through the tap and is killed with SIGKILL at randomised
 * points (seeded; the seed is printed), alternately during its offline sync
 * and during its session, then started again on the same database.  A last
 * run is left to finish.  Then every pass the roller sent is in the store
 * exactly once with its figures, and the roller's own status says its log
 * is empty.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "check.h"
#include "link.h"
#include "tap.h"

#define KILLS 56
#define PREFILL "3000"
#define SPEED "40"
/* Kill delays after the marker, in µs: during the session, up to about
 * one zone's routine; during sync, up to the last sync time measured
 * (syncs shrink as the prefilled log drains). */
#define SESSION_DELAY_MAX_US 400000
#define SYNC_DELAY_FIRST_US 20000
#define LINE_TIMEOUT_MS 30000

struct host_run {
	GPid pid;
	int out;
	GString *buf;                /* output not yet split into lines */
	GPtrArray *lines;
	gboolean eof;
};

static void host_spawn(struct host_run *h, const char *db, const char *sock)
{
	const char *exe = g_getenv("LINK_HOST");
	g_autoptr(GError) error = NULL;
	const char *argv[] = { exe, "--db", db, "--socket", sock, NULL };

	g_assert_nonnull(exe);
	memset(h, 0, sizeof(*h));
	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
					       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
					       &h->pid, NULL, &h->out, NULL, &error));
	g_assert_no_error(error);
	h->buf = g_string_new(NULL);
	h->lines = g_ptr_array_new_with_free_func(g_free);
}

/* Reads what is there (waiting up to @timeout_ms); FALSE at EOF. */
static gboolean host_read(struct host_run *h, int timeout_ms)
{
	struct pollfd pfd = { .fd = h->out, .events = POLLIN };
	char chunk[4096];
	ssize_t n;
	char *nl;

	if (h->eof)
		return FALSE;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return TRUE;
	n = read(h->out, chunk, sizeof(chunk));
	if (n <= 0) {
		h->eof = TRUE;
		return FALSE;
	}
	g_string_append_len(h->buf, chunk, n);
	while ((nl = strchr(h->buf->str, '\n'))) {
		g_ptr_array_add(h->lines, g_strndup(h->buf->str, (gsize)(nl - h->buf->str)));
		g_string_erase(h->buf, 0, nl - h->buf->str + 1);
	}
	return TRUE;
}

static gboolean host_saw(struct host_run *h, const char *marker)
{
	for (guint i = 0; i < h->lines->len; i++)
		if (g_str_has_prefix(h->lines->pdata[i], marker))
			return TRUE;
	return FALSE;
}

static void host_wait_for(struct host_run *h, const char *marker)
{
	gint64 deadline = g_get_monotonic_time() + LINE_TIMEOUT_MS * 1000;

	while (!host_saw(h, marker) && !host_saw(h, "done") &&
	       g_get_monotonic_time() < deadline)
		if (!host_read(h, 50))
			break;
	if (!host_saw(h, marker) && !host_saw(h, "done"))
		g_error("link-host never printed '%s'", marker);
}

/* Reaps the host; returns its wait status. */
static int host_reap(struct host_run *h)
{
	int status;

	while (host_read(h, 1000))
		;
	g_assert_cmpint(waitpid(h->pid, &status, 0), ==, h->pid);
	close(h->out);
	g_spawn_close_pid(h->pid);
	return status;
}

static void host_clear(struct host_run *h)
{
	g_string_free(h->buf, TRUE);
	g_ptr_array_unref(h->lines);
}

enum phase { PHASE_START, PHASE_SYNC, PHASE_SESSION, PHASE_COUNT };

/* Where the host was when it died: its last marker. */
static enum phase host_phase(struct host_run *h)
{
	enum phase p = PHASE_START;

	for (guint i = 0; i < h->lines->len; i++) {
		const char *l = h->lines->pdata[i];

		if (g_str_equal(l, "connect"))
			p = PHASE_SYNC;
		else if (g_str_has_prefix(l, "synced") || g_str_has_prefix(l, "state rolling"))
			p = PHASE_SESSION;
	}
	return p;
}

/* The last sync time the host printed, or 0. */
static gint64 host_sync_us(struct host_run *h)
{
	gint64 us = 0;

	for (guint i = 0; i < h->lines->len; i++)
		if (g_str_has_prefix(h->lines->pdata[i], "synced "))
			us = g_ascii_strtoll((char *)h->lines->pdata[i] + 7, NULL, 10);
	return us;
}

/* The roller's own word, read over a link of our own. */
struct status_probe {
	struct dp_status status;
	gboolean have;
};

static void probe_status(struct link *link, const struct dp_status *st, void *data)
{
	struct status_probe *p = data;

	p->status = *st;
	p->have = TRUE;
}

static const struct link_handler probe_handler = {
	.status = probe_status,
};

static void read_roller_status(const char *sock, struct dp_status *out)
{
	struct status_probe p = { 0 };
	g_autoptr(GError) error = NULL;
	struct link *link = NULL;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (!link && g_get_monotonic_time() < deadline) {
		link = link_socket_connect(sock, &error);
		g_clear_error(&error);
		if (!link)
			g_usleep(20000);
	}
	g_assert_nonnull(link);
	link_set_handler(link, &probe_handler, &p);
	while (!p.have && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(p.have);
	*out = p.status;
	link_close(link);
	link_unref(link);
}

static void test_sigkill(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("fault-XXXXXX", &error);
	g_autofree char *db = g_build_filename(dir, "history.db", NULL);
	g_autofree char *sim_sock = g_build_filename(dir, "roller.sock", NULL);
	g_autofree char *tap_sock = g_build_filename(dir, "tap.sock", NULL);
	/* A flash of its own: never the user's ($XDG_STATE_HOME). */
	g_autofree char *state = g_build_filename(dir, "roller.state", NULL);
	const char *sim_exe = g_getenv("ROLLER_SIM");
	guint32 seed = g_test_rand_int();
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	g_autoptr(GSubprocess) sim = NULL;
	g_autoptr(GArray) sent = NULL;
	struct tap *tap = tap_new();
	guint phases[PHASE_COUNT] = { 0 };
	struct check_result res;
	struct dp_status st;
	struct host_run h;
	gint64 t0 = g_get_monotonic_time(), deadline, sync_us = SYNC_DELAY_FIRST_US;
	int status;

	g_assert_no_error(error);
	g_assert_nonnull(sim_exe);
	g_test_message("kill points seeded with %u (from the test's random seed: rerun with "
		       "the same --seed to repeat them)", seed);
	sim = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, sim_exe,
			       "--socket", sim_sock, "--state", state, "--speed", SPEED,
			       "--seed", "23",
			       "--prefill", PREFILL, NULL);
	g_assert_no_error(error);
	deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (!g_file_test(sim_sock, G_FILE_TEST_EXISTS) && g_get_monotonic_time() < deadline)
		g_usleep(10000);
	g_assert_true(tap_listen(tap, tap_sock, sim_sock, &error));
	g_assert_no_error(error);

	for (int k = 0; k < KILLS; k++) {
		gboolean in_sync = k % 2 == 0;
		gulong delay = (gulong)g_rand_int_range(rand, 0, in_sync ? (gint32)sync_us + 1 :
							SESSION_DELAY_MAX_US);
		enum phase ph;

		host_spawn(&h, db, tap_sock);
		host_wait_for(&h, in_sync ? "connect" : "state rolling");
		g_usleep(delay);
		kill(h.pid, SIGKILL);
		status = host_reap(&h);
		/* A run that ended by itself before its kill point would
		 * only weaken the test: it must not happen. */
		g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		ph = host_phase(&h);
		if (host_sync_us(&h))
			sync_us = MIN(host_sync_us(&h), SYNC_DELAY_FIRST_US);
		phases[ph]++;
		g_test_message("kill %2d: %s + %6lu us, died in %s", k + 1,
			       in_sync ? "connect" : "rolling", delay,
			       ph == PHASE_SYNC ? "sync" : ph == PHASE_SESSION ? "session" :
			       "start-up");
		host_clear(&h);
	}

	/* The last run finishes the routine and acks everything. */
	host_spawn(&h, db, tap_sock);
	host_wait_for(&h, "done");
	status = host_reap(&h);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	for (guint i = 0; i < h.lines->len; i++)
		if (g_str_has_prefix(h.lines->pdata[i], "done"))
			g_test_message("last run: %s", (char *)h.lines->pdata[i]);
	host_clear(&h);

	read_roller_status(tap_sock, &st);
	sent = tap_passes(tap);
	g_assert_cmpuint(tap_conflicts(tap), ==, 0);
	check_store(db, sent, &res);
	g_assert_cmpuint(st.log_count, ==, 0);
	g_assert_cmpuint(st.log_dropped, ==, 0);
	g_assert_cmpuint(st.log_next_seq, ==, sent->len + 1);
	g_assert_cmpuint(res.passes, >=, 3000);
	g_assert_cmpuint(res.open_sessions, ==, 0);
	g_assert_cmpuint(phases[PHASE_SYNC] + phases[PHASE_SESSION] + phases[PHASE_START], ==,
			 KILLS);
	g_test_message("fault test: %d SIGKILLs (%u in sync, %u in session, %u at start-up), "
		       "%u host connections; roller made %u passes, sent %u PASS records, "
		       "%u stored "
		       "(%u live, %u from the log, %u unassigned), 0 duplicates, 0 lost; "
		       "roller log empty; %u sessions; %.1f s",
		       KILLS, phases[PHASE_SYNC], phases[PHASE_SESSION], phases[PHASE_START],
		       tap_connections(tap), st.log_next_seq - 1, tap_records(tap),
		       res.passes, res.live,
		       res.offline, res.unassigned, res.sessions,
		       (g_get_monotonic_time() - t0) / 1e6);

	tap_free(tap);
	g_subprocess_send_signal(sim, SIGTERM);
	g_assert_true(g_subprocess_wait(sim, NULL, NULL));
	{
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *path = g_build_filename(dir, name, NULL);

			g_unlink(path);
		}
	}
	g_rmdir(dir);
}

/* ---- A killed roller: its flash file carries it across ---- */

#define ROLLER_KILLS 4
#define ROLLER_DELAY_MAX_US 500000

static GSubprocess *sim_spawn(const char *sock, const char *state, const char *prefill)
{
	const char *exe = g_getenv("ROLLER_SIM");
	g_autoptr(GError) error = NULL;
	GSubprocess *sim;
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	g_assert_nonnull(exe);
	sim = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, exe,
			       "--socket", sock, "--state", state, "--speed", SPEED,
			       "--seed", "29", "--prefill", prefill, NULL);
	g_assert_no_error(error);
	/* Listening once the flash is loaded: a socket it would connect to. */
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		gboolean up;

		g_strlcpy(addr.sun_path, sock, sizeof(addr.sun_path));
		up = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
		if (fd >= 0)
			close(fd);
		if (up)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(10000);
	}
	return sim;
}

static guint host_count(struct host_run *h, const char *marker)
{
	guint n = 0;

	for (guint i = 0; i < h->lines->len; i++)
		if (g_str_has_prefix(h->lines->pdata[i], marker))
			n++;
	return n;
}

/*
 * roller-sim is killed with SIGKILL in the middle of the host's session
 * (and of its first sync, of 200 prefilled passes), and started again on
 * the same flash file, again and again; the host reconnects each time.  In
 * the end every pass the roller sent is stored exactly once, no seq ever
 * came twice with other figures (a restarted roller reusing a seq would),
 * and the roller's seqs ran on without a hole.
 */
static void test_roller_sigkill(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("fault-roller-XXXXXX", &error);
	g_autofree char *db = g_build_filename(dir, "history.db", NULL);
	g_autofree char *state = g_build_filename(dir, "roller.state", NULL);
	g_autofree char *sim_sock = g_build_filename(dir, "roller.sock", NULL);
	g_autofree char *tap_sock = g_build_filename(dir, "tap.sock", NULL);
	guint32 seed = g_test_rand_int();
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	g_autoptr(GArray) sent = NULL;
	GSubprocess *sim;
	struct tap *tap = tap_new();
	struct check_result res;
	struct dp_status st;
	struct host_run h;
	gint64 t0 = g_get_monotonic_time();
	int status;

	g_assert_no_error(error);
	g_test_message("kill points seeded with %u", seed);
	sim = sim_spawn(sim_sock, state, "200");
	g_assert_true(tap_listen(tap, tap_sock, sim_sock, &error));
	g_assert_no_error(error);
	host_spawn(&h, db, tap_sock);

	for (guint k = 0; k < ROLLER_KILLS; k++) {
		gulong delay = (gulong)g_rand_int_range(rand, 0, ROLLER_DELAY_MAX_US);
		gint64 deadline = g_get_monotonic_time() + LINE_TIMEOUT_MS * 1000;

		/* Connected and synced to the roller started last. */
		while (host_count(&h, "synced") <= k && !host_saw(&h, "done")) {
			g_assert_cmpint(g_get_monotonic_time(), <, deadline);
			g_assert_true(host_read(&h, 50));
		}
		g_assert_false(host_saw(&h, "done"));
		g_usleep(delay);
		g_subprocess_send_signal(sim, SIGKILL);
		g_assert_true(g_subprocess_wait(sim, NULL, &error));
		g_assert_no_error(error);
		g_assert_true(g_subprocess_get_if_signaled(sim));
		g_assert_cmpint(g_subprocess_get_term_sig(sim), ==, SIGKILL);
		g_object_unref(sim);
		g_test_message("roller kill %u: %lu us after the host synced", k + 1, delay);
		sim = sim_spawn(sim_sock, state, "0");
	}

	host_wait_for(&h, "done");
	status = host_reap(&h);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_cmpuint(host_count(&h, "synced"), >=, ROLLER_KILLS + 1);
	for (guint i = 0; i < h.lines->len; i++)
		if (g_str_has_prefix(h.lines->pdata[i], "done"))
			g_test_message("host: %s", (char *)h.lines->pdata[i]);
	host_clear(&h);

	read_roller_status(tap_sock, &st);
	sent = tap_passes(tap);
	g_assert_cmpuint(tap_conflicts(tap), ==, 0);
	check_store(db, sent, &res);
	g_assert_cmpuint(st.log_count, ==, 0);
	g_assert_cmpuint(st.log_dropped, ==, 0);
	g_assert_cmpuint(st.log_next_seq, ==, sent->len + 1);
	g_assert_cmpuint(res.passes, ==, sent->len);
	g_assert_cmpuint(res.passes, >=, 200 + 7 * 12);
	g_assert_cmpuint(res.open_sessions, ==, 0);
	g_test_message("roller fault test: %d SIGKILLs of roller-sim, %u host connections; "
		       "%u passes sent as %u PASS records, %u stored (%u live, %u from the log), "
		       "0 duplicates, 0 lost; %.1f s", ROLLER_KILLS, tap_connections(tap),
		       sent->len, tap_records(tap), res.passes, res.live, res.offline,
		       (g_get_monotonic_time() - t0) / 1e6);

	tap_free(tap);
	g_subprocess_send_signal(sim, SIGTERM);
	g_assert_true(g_subprocess_wait(sim, NULL, NULL));
	g_object_unref(sim);
	{
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *path = g_build_filename(dir, name, NULL);

			g_unlink(path);
		}
	}
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/link/fault/sigkill-session-and-sync", test_sigkill);
	g_test_add_func("/link/fault/sigkill-roller", test_roller_sigkill);
	return g_test_run();
}
