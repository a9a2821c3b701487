/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The link tests' wiretap (tap.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "dp/codec.h"
#include "dp/link-msg.h"
#include "tap.h"

struct relay {
	struct tap *tap;
	int host_fd, roller_fd;
	GThread *up, *down;          /* host -> roller, roller -> host */
};

struct tap {
	GMutex lock;
	GHashTable *passes;          /* seq -> struct dp_pass * */
	guint conflicts, records, connections;
	GPtrArray *relays;           /* struct relay * */

	int listen_fd;
	char *listen_path, *roller_path;
	GThread *acceptor;
	gboolean stopping;
};

struct tap *tap_new(void)
{
	struct tap *tap = g_new0(struct tap, 1);

	g_mutex_init(&tap->lock);
	tap->passes = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	tap->relays = g_ptr_array_new();
	tap->listen_fd = -1;
	return tap;
}

static void relay_cut(struct relay *r)
{
	shutdown(r->host_fd, SHUT_RDWR);
	shutdown(r->roller_fd, SHUT_RDWR);
}

static void relay_free(struct relay *r)
{
	relay_cut(r);
	g_thread_join(r->up);
	g_thread_join(r->down);
	close(r->host_fd);
	close(r->roller_fd);
	g_free(r);
}

void tap_free(struct tap *tap)
{
	if (tap->acceptor) {
		g_mutex_lock(&tap->lock);
		tap->stopping = TRUE;
		g_mutex_unlock(&tap->lock);
		shutdown(tap->listen_fd, SHUT_RDWR);
		g_thread_join(tap->acceptor);
	}
	if (tap->listen_fd >= 0) {
		close(tap->listen_fd);
		g_unlink(tap->listen_path);
	}
	for (guint i = 0; i < tap->relays->len; i++)
		relay_free(tap->relays->pdata[i]);
	g_ptr_array_unref(tap->relays);
	g_hash_table_unref(tap->passes);
	g_mutex_clear(&tap->lock);
	g_free(tap->listen_path);
	g_free(tap->roller_path);
	g_free(tap);
}

bool tap_pass_equal(const struct dp_pass *a, const struct dp_pass *b)
{
	return a->seq == b->seq && a->start_ms == b->start_ms &&
	       a->duration_ms == b->duration_ms && a->distance_mm == b->distance_mm &&
	       a->direction == b->direction && a->angle_deg == b->angle_deg &&
	       a->mean_force_cn == b->mean_force_cn && a->peak_force_cn == b->peak_force_cn &&
	       a->over_warn_ms == b->over_warn_ms && a->session == b->session &&
	       a->zone == b->zone && a->flags == b->flags;
}

static void record_pass(struct tap *tap, const struct dp_pass *p)
{
	struct dp_pass *old;

	g_mutex_lock(&tap->lock);
	tap->records++;
	old = g_hash_table_lookup(tap->passes, GUINT_TO_POINTER(p->seq));
	if (!old)
		g_hash_table_insert(tap->passes, GUINT_TO_POINTER(p->seq),
				    g_memdup2(p, sizeof(*p)));
	else if (!tap_pass_equal(old, p))
		tap->conflicts++;
	g_mutex_unlock(&tap->lock);
}

/* Looks into what the roller sends: PASS records in STREAM and HISTORY
 * notifications.  Anything that does not decode is relayed untouched. */
static void inspect(struct tap *tap, const uint8_t *buf, size_t len)
{
	struct dp_msg m;
	struct dp_record_iter it;
	struct dp_stream_head head;
	struct dp_record rec;
	enum dp_err err;

	if (dp_msg_decode(buf, len, &m) != DP_OK || m.op != DP_MSG_NOTIFY)
		return;
	if (m.chr == DP_CHAR_STREAM)
		err = dp_stream_decode(m.value, m.value_len, &head, &it);
	else if (m.chr == DP_CHAR_HISTORY)
		err = dp_history_decode(m.value, m.value_len, &it);
	else
		return;
	if (err != DP_OK)
		return;
	while (dp_record_next(&it, &rec) > 0)
		if (rec.type == DP_REC_PASS)
			record_pass(tap, &rec.u.pass);
}

static void pump(struct relay *r, int from, int to, gboolean from_roller)
{
	uint8_t buf[DP_MSG_MAX + 1];

	for (;;) {
		ssize_t n = recv(from, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (from_roller)
			inspect(r->tap, buf, (size_t)n);
		if (send(to, buf, (size_t)n, MSG_NOSIGNAL) < 0)
			break;
	}
	relay_cut(r);
}

static gpointer up_thread(gpointer data)
{
	struct relay *r = data;

	pump(r, r->host_fd, r->roller_fd, FALSE);
	return NULL;
}

static gpointer down_thread(gpointer data)
{
	struct relay *r = data;

	pump(r, r->roller_fd, r->host_fd, TRUE);
	return NULL;
}

static void relay_start(struct tap *tap, int host_fd, int roller_fd)
{
	struct relay *r = g_new0(struct relay, 1);

	r->tap = tap;
	r->host_fd = host_fd;
	r->roller_fd = roller_fd;
	r->up = g_thread_new("tap-up", up_thread, r);
	r->down = g_thread_new("tap-down", down_thread, r);
	g_mutex_lock(&tap->lock);
	g_ptr_array_add(tap->relays, r);
	tap->connections++;
	g_mutex_unlock(&tap->lock);
}

void tap_relay(struct tap *tap, int host_fd, int roller_fd)
{
	relay_start(tap, host_fd, roller_fd);
}

static int connect_path(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static gpointer accept_thread(gpointer data)
{
	struct tap *tap = data;

	for (;;) {
		int host = accept4(tap->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		int roller;
		gboolean stop;

		g_mutex_lock(&tap->lock);
		stop = tap->stopping;
		/* One host at a time: a new one means the old one is gone. */
		for (guint i = 0; i < tap->relays->len; i++)
			relay_cut(tap->relays->pdata[i]);
		g_mutex_unlock(&tap->lock);
		if (host < 0) {
			if (stop || (errno != EINTR && errno != ECONNABORTED))
				return NULL;
			continue;
		}
		if (stop) {
			close(host);
			return NULL;
		}
		roller = connect_path(tap->roller_path);
		if (roller < 0) {
			close(host);
			continue;
		}
		relay_start(tap, host, roller);
	}
}

gboolean tap_listen(struct tap *tap, const char *path, const char *roller_path,
		    GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	g_return_val_if_fail(tap->listen_fd < 0, FALSE);
	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
			    "socket path too long: %s", path);
		return FALSE;
	}
	strcpy(addr.sun_path, path);
	tap->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (tap->listen_fd < 0 ||
	    bind(tap->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(tap->listen_fd, 4) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot listen on %s: %s", path, g_strerror(errno));
		return FALSE;
	}
	tap->listen_path = g_strdup(path);
	tap->roller_path = g_strdup(roller_path);
	tap->acceptor = g_thread_new("tap-accept", accept_thread, tap);
	return TRUE;
}

static gint by_seq(gconstpointer a, gconstpointer b)
{
	const struct dp_pass *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

GArray *tap_passes(struct tap *tap)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct dp_pass));
	GHashTableIter it;
	gpointer value;

	g_mutex_lock(&tap->lock);
	g_hash_table_iter_init(&it, tap->passes);
	while (g_hash_table_iter_next(&it, NULL, &value))
		g_array_append_vals(out, value, 1);
	g_mutex_unlock(&tap->lock);
	g_array_sort(out, by_seq);
	return out;
}

guint tap_conflicts(struct tap *tap)
{
	guint n;

	g_mutex_lock(&tap->lock);
	n = tap->conflicts;
	g_mutex_unlock(&tap->lock);
	return n;
}

guint tap_records(struct tap *tap)
{
	guint n;

	g_mutex_lock(&tap->lock);
	n = tap->records;
	g_mutex_unlock(&tap->lock);
	return n;
}

guint tap_connections(struct tap *tap)
{
	guint n;

	g_mutex_lock(&tap->lock);
	n = tap->connections;
	g_mutex_unlock(&tap->lock);
	return n;
}
