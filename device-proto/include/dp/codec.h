/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Encoders and decoders for every roller frame (PROTOCOL.md §3–§9).
 *
 * Decoders never read outside [buf, buf + len) and reject every malformed
 * input with a specific enum dp_err.  Encoders never write past cap and
 * report DP_ERR_NO_SPACE instead.  No allocation, no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dp/proto.h"

enum dp_err {
	DP_OK = 0,
	DP_ERR_TRUNCATED,        /* shorter than the header, or than its length field */
	DP_ERR_LENGTH,           /* length field disagrees with the buffer, or < header */
	DP_ERR_VERSION,          /* protocol major this code does not speak */
	DP_ERR_FRAME_TYPE,       /* frame type unknown, or not the one expected */
	DP_ERR_RECORD_TRUNCATED, /* a record runs past the end of its frame */
	DP_ERR_RECORD_LENGTH,    /* a record's body length is wrong for its type */
	DP_ERR_RECORD_TYPE,      /* unknown record type at a minor we fully know */
	DP_ERR_RECORD_PLACE,     /* record type not allowed in this frame (LOG_END in STREAM) */
	DP_ERR_FIELD,            /* a field out of its range (zone, direction, angle, ...) */
	DP_ERR_STRING,           /* string empty, too long or not printable ASCII */
	DP_ERR_OPCODE,           /* unknown control-point opcode */
	DP_ERR_PARAMS,           /* command/response parameters of the wrong size */
	DP_ERR_NO_SPACE,         /* encoder: output buffer too small */
	DP_ERR_COUNT_,           /* number of codes; not an error */
};

/* A short English name for logs and test output ("truncated frame").  The
 * host translates codes into user sentences itself; this is not one. */
const char *dp_strerror(enum dp_err err);

struct dp_header {
	uint8_t major, minor;
	uint16_t length;
	uint8_t type;                /* enum dp_frame_type */
};

/* Checks version, length and type; on success *hdr is filled.  Order:
 * len < 4 TRUNCATED, length < 4 LENGTH, length > len TRUNCATED, length < len
 * LENGTH, major VERSION, unknown type FRAME_TYPE.  The frame decoders below
 * then give FRAME_TYPE for another known type, and TRUNCATED when the frame
 * ends inside its fixed fields. */
enum dp_err dp_header_decode(const uint8_t *buf, size_t len, struct dp_header *hdr);

/* ---- Record frames (STREAM and HISTORY), iterator style ---- */

struct dp_record {
	uint8_t type;                /* enum dp_record_type */
	union {
		struct dp_force force;
		struct dp_pass pass;
		struct dp_status status;
		struct dp_log_end log_end;
	} u;
};

struct dp_record_iter {
	const uint8_t *pos, *end;
	uint8_t frame_type;
	uint8_t minor;               /* frame's minor: unknown records skipped if > ours */
	enum dp_err err;             /* DP_OK while iterating, or why it stopped */
};

struct dp_stream_head {
	uint32_t seq;                /* frame sequence, +1 per STREAM frame since power-up */
	uint64_t time_ms;            /* device time of the first force sample */
};
#define DP_STREAM_HEAD_SIZE (DP_HEADER_SIZE + 12)

/* Validate the frame header and set up the iterator over its records. */
enum dp_err dp_stream_decode(const uint8_t *buf, size_t len,
			     struct dp_stream_head *head, struct dp_record_iter *it);
enum dp_err dp_history_decode(const uint8_t *buf, size_t len,
			      struct dp_record_iter *it);

/* Next record.  Returns 1 with *rec filled, 0 at the clean end of the frame,
 * or -1 on a malformed record with it->err set; after -1 it keeps returning -1. */
int dp_record_next(struct dp_record_iter *it, struct dp_record *rec);

/* ---- Building record frames ---- */

struct dp_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	enum dp_err err;             /* sticky: the first error wins */
};

void dp_stream_begin(struct dp_writer *w, uint8_t *buf, size_t cap,
		     const struct dp_stream_head *head);
void dp_history_begin(struct dp_writer *w, uint8_t *buf, size_t cap);
/* Each put either appends the whole record or leaves the frame unchanged and
 * returns DP_ERR_NO_SPACE (so a caller can finish this frame and start the
 * next one); out-of-range fields give DP_ERR_FIELD, and a record type the
 * frame may not carry DP_ERR_RECORD_PLACE.  NO_SPACE from a put leaves
 * w->err alone; every other error (and NO_SPACE from *_begin, when cap
 * cannot hold the frame head) is stored in w->err, and later puts return it
 * without writing.  A writer never builds a frame longer than 65535 bytes. */
enum dp_err dp_put_force(struct dp_writer *w, const struct dp_force *force);
enum dp_err dp_put_pass(struct dp_writer *w, const struct dp_pass *pass);
enum dp_err dp_put_status(struct dp_writer *w, const struct dp_status *status);
enum dp_err dp_put_log_end(struct dp_writer *w, const struct dp_log_end *end);
/* Space a record of this type takes in a frame (header included). */
size_t dp_record_size(enum dp_record_type type, const struct dp_force *force);
/* Patches the length field.  Returns the frame length, or 0 if w->err is set. */
size_t dp_frame_finish(struct dp_writer *w);

/* ---- Fixed frames ---- */

enum dp_err dp_info_encode(const struct dp_info *info, uint8_t *buf, size_t cap, size_t *out_len);
enum dp_err dp_info_decode(const uint8_t *buf, size_t len, struct dp_info *info);

enum dp_err dp_command_encode(const struct dp_command *cmd, uint8_t *buf, size_t cap, size_t *out_len);
enum dp_err dp_command_decode(const uint8_t *buf, size_t len, struct dp_command *cmd);

enum dp_err dp_response_encode(const struct dp_response *rsp, uint8_t *buf, size_t cap, size_t *out_len);
enum dp_err dp_response_decode(const uint8_t *buf, size_t len, struct dp_response *rsp);

/* The advertising payload (§9.2, sent as manufacturer data) and the standard
 * characteristics carry no frame header: they are fixed by the Bluetooth SIG
 * or by §9. */
enum dp_err dp_adv_encode(const struct dp_adv *adv, uint8_t *buf, size_t cap, size_t *out_len);
enum dp_err dp_adv_decode(const uint8_t *buf, size_t len, struct dp_adv *adv);
enum dp_err dp_current_time_encode(const struct dp_current_time *ct, uint8_t *buf, size_t cap, size_t *out_len);
enum dp_err dp_current_time_decode(const uint8_t *buf, size_t len, struct dp_current_time *ct);

/* Device time <-> Current Time (UTC, no leap seconds).  from_ms fills
 * day_of_week, fractions256 and adjust_reason 0; past 9999-12-31 it fills all
 * zeros ("unknown").  to_ms needs a real date in 2020..9999 (DP_ERR_FIELD
 * otherwise), ignores day_of_week and adjust_reason, and adds
 * floor(fractions256 * 1000 / 256) ms (PROTOCOL.md §2.2.3). */
void dp_current_time_from_ms(uint64_t device_ms, struct dp_current_time *ct);
enum dp_err dp_current_time_to_ms(const struct dp_current_time *ct, uint64_t *device_ms);
