/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The roller link: one small interface over two backends, the local socket
 * to roller-sim (link-socket.c) and BlueZ.  Backends move characteristic
 * values; this layer decodes them with device-proto, checks the stream's
 * sequence numbers, runs the control point one command at a time, and hands
 * the engine decoded events.  Nothing a backend delivers is trusted before it
 * has been decoded and checked here.
 */
#pragma once

#include <stdbool.h>
#include <gio/gio.h>
#include <glib.h>

#include "dp/codec.h"

#define LINK_ERROR (link_error_quark())
GQuark link_error_quark(void);

enum link_error {
	LINK_ERROR_CONNECT,          /* could not reach the roller */
	LINK_ERROR_LOST,             /* the connection dropped */
	LINK_ERROR_TIMEOUT,          /* the roller did not answer in time */
	LINK_ERROR_REFUSED,          /* the roller refused an operation (ATT error) */
	LINK_ERROR_PROTOCOL,         /* the roller sent something malformed */
	LINK_ERROR_VERSION,          /* the roller speaks a newer protocol */
	LINK_ERROR_CLOSED,           /* the link was closed on this side */
};

/* Problems with the incoming stream that do not end the link.  Each is
 * counted and reported; the offending frame is not used. */
enum link_problem {
	LINK_PROBLEM_MALFORMED,      /* a frame did not decode: dropped */
	LINK_PROBLEM_GAP,            /* stream frames are missing (count in detail) */
	LINK_PROBLEM_REPLAY,         /* a stream frame came again or out of order: dropped */
};

struct link_counters {
	uint64_t stream_frames;      /* accepted STREAM frames */
	uint64_t history_frames;
	uint64_t malformed;
	uint64_t gaps;               /* gap events */
	uint64_t missing_frames;     /* frames lost in those gaps */
	uint64_t replays;
	uint64_t passes_live;
	uint64_t passes_history;
	uint64_t force_samples;
};

struct link;

struct link_handler {
	/* Connected, the roller's info read and checked, notifications on. */
	void (*connected)(struct link *link, const struct dp_info *info, void *user_data);
	/* The link is down; error says why (LINK_ERROR_CLOSED after link_close). */
	void (*disconnected)(struct link *link, const GError *error, void *user_data);
	void (*force)(struct link *link, uint64_t time_ms, const struct dp_force *force,
		      void *user_data);
	/* A pass from the live stream (from_history false) or the offline log. */
	void (*pass)(struct link *link, const struct dp_pass *pass, bool from_history,
		     void *user_data);
	void (*status)(struct link *link, const struct dp_status *status, void *user_data);
	void (*log_end)(struct link *link, const struct dp_log_end *end, void *user_data);
	void (*problem)(struct link *link, enum link_problem problem, const char *detail,
			void *user_data);
};

/* A control-point answer.  error is set when no answer came (link lost,
 * timeout, refused write); otherwise rsp->result says what the roller did. */
typedef void (*link_command_func)(struct link *link, const struct dp_response *rsp,
				  const GError *error, void *user_data);

struct link *link_ref(struct link *link);
void link_unref(struct link *link);

void link_set_handler(struct link *link, const struct link_handler *handler,
		      void *user_data);

/* Queues a command; commands go out one at a time, in order.  Returns an id
 * (> 0), or 0 if the link is down; if the link fails at once, func has already
 * run with the error when this returns.  destroy is called on user_data once the
 * callback has run or the command was dropped. */
guint link_command(struct link *link, const struct dp_command *cmd,
		   link_command_func func, void *user_data, GDestroyNotify destroy);

/* How long a command may wait for its answer (default 5 s). */
void link_set_command_timeout(struct link *link, guint ms);

/* Closes the link; disconnected() follows with LINK_ERROR_CLOSED. */
void link_close(struct link *link);

bool link_is_connected(const struct link *link);
const struct dp_info *link_info(const struct link *link);     /* NULL until connected */
const struct dp_adv *link_adv(const struct link *link);
const char *link_name(const struct link *link);
const struct link_counters *link_counters(const struct link *link);

/* The socket backend (PROTOCOL.md §10).  Takes ownership of fd, a connected
 * SOCK_SEQPACKET socket: one end of a socketpair, or a socket to roller-sim. */
struct link *link_socket_new(int fd, GError **error);
/* Connects to a roller-sim listening on path. */
struct link *link_socket_connect(const char *path, GError **error);

/* The BlueZ backend (host/bluez.h, doc/bluez-backend.md).  Connects the
 * bonded roller with this address ("AA:BB:CC:DD:EE:FF") through adapter
 * ("hci0", or NULL for the first one) on bus, the system bus in real use.
 * Returns NULL with error set only for a malformed address; every other
 * outcome comes later through connected() or disconnected(). */
struct link *link_bluez_connect(GDBusConnection *bus, const char *adapter,
				const char *address, GError **error);
