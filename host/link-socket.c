/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The socket backend: the link messages of PROTOCOL.md §10 over a
 * SOCK_SEQPACKET socket, to roller-sim or to a virtual roller in the same
 * process.  The local link counts as encrypted: only this user can reach it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "dp/link-msg.h"
#include "link-backend.h"

/* Messages read per wake-up, so one busy roller cannot starve the UI. */
#define READ_BURST 64

struct socket_backend {
	struct link *link;           /* not a reference: the link owns us */
	int fd;
	guint in_watch, out_watch;
	GQueue out;                  /* GBytes waiting for room in the socket */
};

static void lost(struct socket_backend *sb, int code, const char *message)
{
	link_backend_lost(sb->link, g_error_new_literal(LINK_ERROR, code, message));
}

static gboolean on_writable(int fd, GIOCondition cond, gpointer data);

static gboolean flush_out(struct socket_backend *sb)
{
	GBytes *msg;

	while ((msg = g_queue_peek_head(&sb->out))) {
		gsize len;
		const void *buf = g_bytes_get_data(msg, &len);

		if (send(sb->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return FALSE;
		}
		g_bytes_unref(g_queue_pop_head(&sb->out));
	}
	if (!g_queue_is_empty(&sb->out) && !sb->out_watch)
		sb->out_watch = g_unix_fd_add(sb->fd, G_IO_OUT, on_writable, sb);
	return TRUE;
}

static gboolean on_writable(int fd, GIOCondition cond, gpointer data)
{
	struct socket_backend *sb = data;

	sb->out_watch = 0;
	if (!flush_out(sb))
		lost(sb, LINK_ERROR_LOST, "The connection to the roller dropped.");
	return G_SOURCE_REMOVE;
}

static gboolean send_msg(struct socket_backend *sb, const struct dp_msg *msg, GError **error)
{
	uint8_t buf[DP_MSG_MAX];
	size_t len;

	if (sb->fd < 0) {
		g_set_error_literal(error, LINK_ERROR, LINK_ERROR_LOST,
				    "The connection to the roller dropped.");
		return FALSE;
	}
	if (dp_msg_encode(msg, buf, sizeof(buf), &len) != DP_OK) {
		g_set_error_literal(error, LINK_ERROR, LINK_ERROR_PROTOCOL,
				    "Internal error: a message to the roller could not be encoded.");
		return FALSE;
	}
	g_queue_push_tail(&sb->out, g_bytes_new(buf, len));
	if (!flush_out(sb)) {
		g_set_error(error, LINK_ERROR, LINK_ERROR_LOST,
			    "The connection to the roller dropped (%s).", g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static void handle_msg(struct socket_backend *sb, const uint8_t *buf, size_t len)
{
	struct dp_msg msg;
	struct dp_msg confirm = { .op = DP_MSG_CONFIRM };
	enum dp_err err = dp_msg_decode(buf, len, &msg);

	if (err != DP_OK) {
		g_autofree char *m = g_strdup_printf(
			"The roller sent a message dermaroll cannot read (%s).", dp_strerror(err));
		lost(sb, LINK_ERROR_PROTOCOL, m);
		return;
	}
	switch (msg.op) {
	case DP_MSG_HELLO:
		link_backend_ready(sb->link, msg.att_mtu, &msg.adv, msg.name);
		break;
	case DP_MSG_READ_RESULT:
		link_backend_read_result(sb->link, msg.chr, msg.status, msg.value, msg.value_len);
		break;
	case DP_MSG_WRITE_RESULT:
		link_backend_write_result(sb->link, msg.chr, msg.status);
		break;
	case DP_MSG_NOTIFY:
		link_backend_value(sb->link, msg.chr, msg.value, msg.value_len);
		break;
	case DP_MSG_INDICATE:
		/* ATT confirms an indication on receipt, before the layer above has
		 * looked at it; so does this link. */
		confirm.chr = msg.chr;
		if (send_msg(sb, &confirm, NULL))
			link_backend_value(sb->link, msg.chr, msg.value, msg.value_len);
		break;
	default:
		/* Host-to-roller messages coming the other way: ignore. */
		break;
	}
}

static gboolean on_readable(int fd, GIOCondition cond, gpointer data)
{
	struct socket_backend *sb = data;
	struct link *link = link_ref(sb->link);
	uint8_t buf[DP_MSG_MAX + 1];
	gboolean keep = G_SOURCE_CONTINUE;

	for (int i = 0; i < READ_BURST && sb->fd >= 0; i++) {
		ssize_t n = recv(sb->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n <= 0) {
			sb->in_watch = 0;
			keep = G_SOURCE_REMOVE;
			lost(sb, LINK_ERROR_LOST, "The roller disconnected.");
			break;
		}
		if ((size_t)n > sizeof(buf)) {
			sb->in_watch = 0;
			keep = G_SOURCE_REMOVE;
			lost(sb, LINK_ERROR_PROTOCOL,
			     "The roller sent a message larger than the protocol allows.");
			break;
		}
		handle_msg(sb, buf, (size_t)n);
	}
	/* close() may have run inside a handler and removed this source. */
	if (sb->fd < 0)
		keep = G_SOURCE_REMOVE;
	link_unref(link);
	return keep;
}

static gboolean sb_read(void *backend, enum dp_char chr, GError **error)
{
	struct dp_msg msg = { .op = DP_MSG_READ, .chr = chr };

	return send_msg(backend, &msg, error);
}

static gboolean sb_write(void *backend, enum dp_char chr, const uint8_t *buf, size_t len,
			 GError **error)
{
	struct dp_msg msg = { .op = DP_MSG_WRITE, .chr = chr, .value = buf, .value_len = len };

	return send_msg(backend, &msg, error);
}

static gboolean sb_subscribe(void *backend, enum dp_char chr, uint8_t mode, GError **error)
{
	struct dp_msg msg = { .op = DP_MSG_SUBSCRIBE, .chr = chr, .status = mode };

	return send_msg(backend, &msg, error);
}

static void sb_close(void *backend)
{
	struct socket_backend *sb = backend;

	/* Removing in_watch from inside its own dispatch is allowed by GLib;
	 * on_readable then sees fd < 0 and stops. */
	g_clear_handle_id(&sb->in_watch, g_source_remove);
	g_clear_handle_id(&sb->out_watch, g_source_remove);
	if (sb->fd >= 0)
		close(sb->fd);
	sb->fd = -1;
	g_queue_clear_full(&sb->out, (GDestroyNotify)g_bytes_unref);
}

static void sb_free(void *backend)
{
	g_free(backend);
}

static const struct link_backend_ops socket_ops = {
	.name = "socket",
	.read = sb_read,
	.write = sb_write,
	.subscribe = sb_subscribe,
	.close = sb_close,
	.free = sb_free,
};

struct link *link_socket_new(int fd, GError **error)
{
	struct socket_backend *sb;
	int type = 0;
	socklen_t type_len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0 ||
	    type != SOCK_SEQPACKET) {
		g_set_error_literal(error, LINK_ERROR, LINK_ERROR_CONNECT,
				    "Internal error: the roller link needs a SOCK_SEQPACKET socket.");
		close(fd);
		return NULL;
	}
	sb = g_new0(struct socket_backend, 1);
	sb->fd = fd;
	g_queue_init(&sb->out);
	sb->link = link_new(&socket_ops, sb);
	sb->in_watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, sb);
	return sb->link;
}

struct link *link_socket_connect(const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, LINK_ERROR, LINK_ERROR_CONNECT,
			    "The roller socket path is too long: %s", path);
		return NULL;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, LINK_ERROR, LINK_ERROR_CONNECT,
			    "Could not reach the virtual roller at %s (%s). "
			    "Start it with 'roller-sim', or use 'dermaroll --simulate'.",
			    path, g_strerror(e));
		return NULL;
	}
	return link_socket_new(fd, error);
}
