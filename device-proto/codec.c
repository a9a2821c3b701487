// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Encoders and decoders for every roller frame (PROTOCOL.md §3–§9).
 *
 * All reads and writes go through the cursors below, which check the bytes
 * left before touching memory: a malformed input can make a cursor overrun
 * (and the caller reject the frame) but never read outside the buffer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dp/codec.h"

/* ---- Bounds-checked little-endian cursors ---- */

struct rd {
	const uint8_t *p, *end;
	bool overrun;
};

struct wr {
	uint8_t *p, *end;
	bool overrun;
};

static inline void rd_init(struct rd *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->end = buf ? buf + len : buf;
	r->overrun = false;
}

static inline size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

/* Returns the n bytes to read, or NULL (and marks the overrun). */
static inline const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->overrun || rd_left(r) < n) {
		r->overrun = true;
		return NULL;
	}
	r->p += n;
	return p;
}

static inline uint8_t rd_u8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);

	return p ? p[0] : 0;
}

static inline uint16_t rd_le16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);

	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static inline uint32_t rd_le32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);

	if (!p)
		return 0;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		(uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rd_le64(struct rd *r)
{
	uint64_t lo = rd_le32(r);
	uint64_t hi = rd_le32(r);

	return lo | hi << 32;
}

static inline int16_t rd_le16s(struct rd *r)
{
	int32_t v = rd_le16(r);

	/* Two's complement by arithmetic, not by an implementation-defined cast. */
	return (int16_t)(v >= 0x8000 ? v - 0x10000 : v);
}

static inline void wr_init(struct wr *w, uint8_t *buf, size_t cap)
{
	w->p = buf;
	w->end = buf ? buf + cap : buf;
	w->overrun = false;
}

static inline uint8_t *wr_take(struct wr *w, size_t n)
{
	uint8_t *p = w->p;

	if (w->overrun || (size_t)(w->end - w->p) < n) {
		w->overrun = true;
		return NULL;
	}
	w->p += n;
	return p;
}

static inline void wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_take(w, 1);

	if (p)
		p[0] = v;
}

static inline void wr_le16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_take(w, 2);

	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

static inline void wr_le32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_take(w, 4);

	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
		p[3] = (uint8_t)(v >> 24);
	}
}

static inline void wr_le64(struct wr *w, uint64_t v)
{
	wr_le32(w, (uint32_t)v);
	wr_le32(w, (uint32_t)(v >> 32));
}

static inline void wr_le16s(struct wr *w, int16_t v)
{
	wr_le16(w, (uint16_t)v);
}

static inline void wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_take(w, n);

	if (p && n)
		memcpy(p, src, n);
}

static inline size_t wr_len(const struct wr *w, const uint8_t *buf)
{
	return (size_t)(w->p - buf);
}

/* ---- Error names ---- */

const char *dp_strerror(enum dp_err err)
{
	switch (err) {
	case DP_OK:
		return "success";
	case DP_ERR_TRUNCATED:
		return "truncated frame";
	case DP_ERR_LENGTH:
		return "bad frame length";
	case DP_ERR_VERSION:
		return "unsupported protocol version";
	case DP_ERR_FRAME_TYPE:
		return "unexpected frame type";
	case DP_ERR_RECORD_TRUNCATED:
		return "truncated record";
	case DP_ERR_RECORD_LENGTH:
		return "bad record length";
	case DP_ERR_RECORD_TYPE:
		return "unknown record type";
	case DP_ERR_RECORD_PLACE:
		return "record not allowed in this frame";
	case DP_ERR_FIELD:
		return "field out of range";
	case DP_ERR_STRING:
		return "invalid string";
	case DP_ERR_OPCODE:
		return "unknown opcode";
	case DP_ERR_PARAMS:
		return "bad parameter size";
	case DP_ERR_NO_SPACE:
		return "output buffer too small";
	case DP_ERR_COUNT_:
		break;
	}
	return "unknown error";
}

/* ---- §3 Frame header ---- */

/* A length field is 16 bits: no encoder may build a longer frame. */
#define FRAME_LEN_MAX 0xffffu

static bool frame_type_known(uint8_t type)
{
	return type >= DP_FRAME_INFO && type <= DP_FRAME_RESPONSE;
}

/* §3: the checks run in the order PROTOCOL.md lists them, so each malformed
 * input gets one well-defined code. */
enum dp_err dp_header_decode(const uint8_t *buf, size_t len, struct dp_header *hdr)
{
	struct rd r;
	uint8_t version, type;
	uint16_t length;

	if (len < DP_HEADER_SIZE)
		return DP_ERR_TRUNCATED;
	rd_init(&r, buf, len);
	version = rd_u8(&r);
	length = rd_le16(&r);
	type = rd_u8(&r);
	if (length < DP_HEADER_SIZE)
		return DP_ERR_LENGTH;
	if (length > len)
		return DP_ERR_TRUNCATED;
	if (length < len)
		return DP_ERR_LENGTH;
	if (version >> 4 != DP_PROTO_MAJOR)
		return DP_ERR_VERSION;
	if (!frame_type_known(type))
		return DP_ERR_FRAME_TYPE;
	hdr->major = version >> 4;
	hdr->minor = version & 0x0f;
	hdr->length = length;
	hdr->type = type;
	return DP_OK;
}

/* Decodes the header and requires a frame of type @want; leaves the reader
 * just past the header. */
static enum dp_err frame_open(const uint8_t *buf, size_t len, uint8_t want,
			      struct dp_header *hdr, struct rd *r)
{
	enum dp_err err = dp_header_decode(buf, len, hdr);

	if (err)
		return err;
	if (hdr->type != want)
		return DP_ERR_FRAME_TYPE;
	rd_init(r, buf, len);
	rd_take(r, DP_HEADER_SIZE);
	return DP_OK;
}

static void header_put(struct wr *w, uint8_t type)
{
	wr_u8(w, DP_VERSION_BYTE);
	wr_le16(w, 0);               /* patched when the frame is finished */
	wr_u8(w, type);
}

static void header_patch_length(uint8_t *buf, size_t len)
{
	buf[1] = (uint8_t)len;
	buf[2] = (uint8_t)(len >> 8);
}

/* ---- §5 Record validation, shared by encoders and decoders ---- */

static bool force_valid(const struct dp_force *f)
{
	return f->period_ms >= 1 && f->period_ms <= 50 &&
		f->count >= 1 && f->count <= DP_FORCE_MAX;
}

static bool pass_valid(const struct dp_pass *p)
{
	return p->seq >= 1 &&
		(p->direction == DP_DIR_FORWARD || p->direction == DP_DIR_BACKWARD) &&
		p->angle_deg <= 179 &&
		p->peak_force_cn >= p->mean_force_cn &&
		p->over_warn_ms <= p->duration_ms &&
		p->zone <= DP_ZONE_MAX &&
		!(p->flags & ~DP_PASS_FLAGS_ALL);
}

static bool status_valid(const struct dp_status *s)
{
	return s->state <= DP_STATE_OFFLINE_SESSION &&
		s->battery_pct <= 100 &&
		!(s->flags & ~DP_STATUS_FLAGS_ALL) &&
		s->log_next_seq >= 1 &&
		s->log_first_seq <= s->log_next_seq &&
		s->zone <= DP_ZONE_MAX;
}

static bool log_end_valid(const struct dp_log_end *e)
{
	return e->first_seq >= 1 && e->first_seq <= e->next_seq;
}

/* Fixed body size of a known record type; FORCE depends on its count. */
static size_t record_body_size(uint8_t type, uint8_t force_count)
{
	switch (type) {
	case DP_REC_FORCE:
		return 2 + 2 * (size_t)force_count;
	case DP_REC_PASS:
		return DP_PASS_SIZE;
	case DP_REC_STATUS:
		return DP_STATUS_SIZE;
	case DP_REC_LOG_END:
		return DP_LOG_END_SIZE;
	}
	return 0;
}

static bool record_type_known(uint8_t type)
{
	return type >= DP_REC_FORCE && type <= DP_REC_LOG_END;
}

/* §5: STREAM carries FORCE, PASS, STATUS; HISTORY carries PASS, LOG_END. */
static bool record_allowed(uint8_t frame_type, uint8_t rec_type)
{
	if (frame_type == DP_FRAME_STREAM)
		return rec_type == DP_REC_FORCE || rec_type == DP_REC_PASS ||
			rec_type == DP_REC_STATUS;
	if (frame_type == DP_FRAME_HISTORY)
		return rec_type == DP_REC_PASS || rec_type == DP_REC_LOG_END;
	return false;
}

static void pass_read(struct rd *r, struct dp_pass *p)
{
	p->seq = rd_le32(r);
	p->start_ms = rd_le64(r);
	p->duration_ms = rd_le16(r);
	p->distance_mm = rd_le16(r);
	p->direction = rd_u8(r);
	p->angle_deg = rd_u8(r);
	p->mean_force_cn = rd_le16(r);
	p->peak_force_cn = rd_le16(r);
	p->over_warn_ms = rd_le16(r);
	p->session = rd_le16(r);
	p->zone = rd_u8(r);
	p->flags = rd_u8(r);
}

static void pass_write(struct wr *w, const struct dp_pass *p)
{
	wr_le32(w, p->seq);
	wr_le64(w, p->start_ms);
	wr_le16(w, p->duration_ms);
	wr_le16(w, p->distance_mm);
	wr_u8(w, p->direction);
	wr_u8(w, p->angle_deg);
	wr_le16(w, p->mean_force_cn);
	wr_le16(w, p->peak_force_cn);
	wr_le16(w, p->over_warn_ms);
	wr_le16(w, p->session);
	wr_u8(w, p->zone);
	wr_u8(w, p->flags);
}

static void status_read(struct rd *r, struct dp_status *s)
{
	s->state = rd_u8(r);
	s->battery_pct = rd_u8(r);
	s->flags = rd_u8(r);
	s->log_count = rd_le16(r);
	s->log_first_seq = rd_le32(r);
	s->log_next_seq = rd_le32(r);
	s->log_dropped = rd_le16(r);
	s->session = rd_le16(r);
	s->zone = rd_u8(r);
}

static void status_write(struct wr *w, const struct dp_status *s)
{
	wr_u8(w, s->state);
	wr_u8(w, s->battery_pct);
	wr_u8(w, s->flags);
	wr_le16(w, s->log_count);
	wr_le32(w, s->log_first_seq);
	wr_le32(w, s->log_next_seq);
	wr_le16(w, s->log_dropped);
	wr_le16(w, s->session);
	wr_u8(w, s->zone);
}

static void log_end_read(struct rd *r, struct dp_log_end *e)
{
	e->first_seq = rd_le32(r);
	e->next_seq = rd_le32(r);
	e->sent = rd_le16(r);
}

static void log_end_write(struct wr *w, const struct dp_log_end *e)
{
	wr_le32(w, e->first_seq);
	wr_le32(w, e->next_seq);
	wr_le16(w, e->sent);
}

/* ---- §5 Record frames: decoding ---- */

static void iter_fail(struct dp_record_iter *it, enum dp_err err)
{
	it->pos = it->end = NULL;
	it->err = err;
}

static enum dp_err records_open(const uint8_t *buf, size_t len, uint8_t type,
				struct dp_stream_head *head, struct dp_record_iter *it)
{
	struct dp_header hdr;
	struct rd r;
	enum dp_err err;

	iter_fail(it, DP_OK);
	it->frame_type = type;
	it->minor = 0;
	err = frame_open(buf, len, type, &hdr, &r);
	if (!err && head) {
		head->seq = rd_le32(&r);
		head->time_ms = rd_le64(&r);
		if (r.overrun)
			err = DP_ERR_TRUNCATED;
	}
	if (err) {
		iter_fail(it, err);
		return err;
	}
	it->pos = r.p;
	it->end = r.end;
	it->minor = hdr.minor;
	return DP_OK;
}

enum dp_err dp_stream_decode(const uint8_t *buf, size_t len,
			     struct dp_stream_head *head, struct dp_record_iter *it)
{
	struct dp_stream_head h;
	enum dp_err err = records_open(buf, len, DP_FRAME_STREAM, &h, it);

	if (!err)
		*head = h;
	return err;
}

enum dp_err dp_history_decode(const uint8_t *buf, size_t len,
			      struct dp_record_iter *it)
{
	return records_open(buf, len, DP_FRAME_HISTORY, NULL, it);
}

/* FORCE: the body is exactly 2 + 2 * count at every minor (§5.1). */
static enum dp_err force_decode(struct rd *r, size_t body_len, struct dp_force *f)
{
	if (body_len < 2)
		return DP_ERR_RECORD_LENGTH;
	f->period_ms = rd_u8(r);
	f->count = rd_u8(r);
	if (body_len != record_body_size(DP_REC_FORCE, f->count))
		return DP_ERR_RECORD_LENGTH;
	if (!force_valid(f))
		return DP_ERR_FIELD;
	for (unsigned int i = 0; i < f->count; i++)
		f->cn[i] = rd_le16(r);
	return DP_OK;
}

/* Decodes one known record body: length, then fields (§5 steps 4, 5).
 * PASS, STATUS and LOG_END may grow in a newer minor: their known prefix is
 * decoded and the tail ignored (§3.5). */
static enum dp_err record_body_decode(uint8_t type, const uint8_t *body, size_t body_len,
				      bool newer_minor, struct dp_record *rec)
{
	size_t want = record_body_size(type, 0);
	struct rd r;

	rd_init(&r, body, body_len);
	rec->type = type;
	if (type == DP_REC_FORCE)
		return force_decode(&r, body_len, &rec->u.force);
	if (body_len < want || (body_len > want && !newer_minor))
		return DP_ERR_RECORD_LENGTH;

	switch (type) {
	case DP_REC_PASS:
		pass_read(&r, &rec->u.pass);
		return pass_valid(&rec->u.pass) ? DP_OK : DP_ERR_FIELD;
	case DP_REC_STATUS:
		status_read(&r, &rec->u.status);
		return status_valid(&rec->u.status) ? DP_OK : DP_ERR_FIELD;
	case DP_REC_LOG_END:
		log_end_read(&r, &rec->u.log_end);
		return log_end_valid(&rec->u.log_end) ? DP_OK : DP_ERR_FIELD;
	}
	return DP_ERR_RECORD_TYPE;
}

int dp_record_next(struct dp_record_iter *it, struct dp_record *rec)
{
	bool newer_minor = it->minor > DP_PROTO_MINOR;

	if (it->err)
		return -1;

	while (it->pos != it->end) {
		struct rd r;
		const uint8_t *body;
		uint8_t type, body_len;
		enum dp_err err;

		rd_init(&r, it->pos, (size_t)(it->end - it->pos));
		type = rd_u8(&r);
		body_len = rd_u8(&r);
		body = rd_take(&r, body_len);
		if (r.overrun) {
			iter_fail(it, DP_ERR_RECORD_TRUNCATED);
			return -1;
		}
		it->pos = r.p;

		if (!record_type_known(type)) {
			/* §3: a newer minor may add record types; skip them. */
			if (newer_minor)
				continue;
			iter_fail(it, DP_ERR_RECORD_TYPE);
			return -1;
		}
		if (!record_allowed(it->frame_type, type)) {
			iter_fail(it, DP_ERR_RECORD_PLACE);
			return -1;
		}
		memset(rec, 0, sizeof(*rec));
		err = record_body_decode(type, body, body_len, newer_minor, rec);
		if (err) {
			iter_fail(it, err);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* ---- §5 Record frames: encoding ---- */

static void writer_begin(struct dp_writer *w, uint8_t *buf, size_t cap,
			 uint8_t type, const struct dp_stream_head *head)
{
	struct wr o;

	w->buf = buf;
	w->cap = cap > FRAME_LEN_MAX ? FRAME_LEN_MAX : cap;
	w->len = 0;
	w->err = DP_OK;

	wr_init(&o, buf, w->cap);
	if (w->cap < (head ? DP_STREAM_HEAD_SIZE : DP_HEADER_SIZE)) {
		w->err = DP_ERR_NO_SPACE;
		return;
	}
	header_put(&o, type);
	if (head) {
		wr_le32(&o, head->seq);
		wr_le64(&o, head->time_ms);
	}
	w->len = wr_len(&o, buf);
	header_patch_length(buf, w->len);
}

void dp_stream_begin(struct dp_writer *w, uint8_t *buf, size_t cap,
		     const struct dp_stream_head *head)
{
	writer_begin(w, buf, cap, DP_FRAME_STREAM, head);
}

void dp_history_begin(struct dp_writer *w, uint8_t *buf, size_t cap)
{
	writer_begin(w, buf, cap, DP_FRAME_HISTORY, NULL);
}

size_t dp_record_size(enum dp_record_type type, const struct dp_force *force)
{
	if (!record_type_known((uint8_t)type) || (type == DP_REC_FORCE && !force))
		return 0;
	return 2 + record_body_size((uint8_t)type, type == DP_REC_FORCE ? force->count : 0);
}

/* Common part of every put: validation errors are sticky (a firmware bug
 * must not leave a half-right frame behind); running out of space is not,
 * so the caller can finish this frame and carry the record to the next. */
static enum dp_err record_put(struct dp_writer *w, uint8_t type, bool valid,
			      size_t body_len, struct wr *o)
{
	if (w->err)
		return w->err;
	if (!record_allowed(w->buf[3], type))
		return w->err = DP_ERR_RECORD_PLACE;
	if (!valid)
		return w->err = DP_ERR_FIELD;
	if (w->cap - w->len < 2 + body_len)
		return DP_ERR_NO_SPACE;
	wr_init(o, w->buf + w->len, 2 + body_len);
	wr_u8(o, type);
	wr_u8(o, (uint8_t)body_len);
	return DP_OK;
}

static enum dp_err record_done(struct dp_writer *w, const struct wr *o)
{
	w->len = wr_len(o, w->buf);
	header_patch_length(w->buf, w->len);
	return DP_OK;
}

enum dp_err dp_put_force(struct dp_writer *w, const struct dp_force *force)
{
	struct wr o;
	bool valid = force_valid(force);
	enum dp_err err = record_put(w, DP_REC_FORCE, valid,
				     record_body_size(DP_REC_FORCE, valid ? force->count : 0), &o);

	if (err)
		return err;
	wr_u8(&o, force->period_ms);
	wr_u8(&o, force->count);
	for (unsigned int i = 0; i < force->count; i++)
		wr_le16(&o, force->cn[i]);
	return record_done(w, &o);
}

enum dp_err dp_put_pass(struct dp_writer *w, const struct dp_pass *pass)
{
	struct wr o;
	enum dp_err err = record_put(w, DP_REC_PASS, pass_valid(pass), DP_PASS_SIZE, &o);

	if (err)
		return err;
	pass_write(&o, pass);
	return record_done(w, &o);
}

enum dp_err dp_put_status(struct dp_writer *w, const struct dp_status *status)
{
	struct wr o;
	enum dp_err err = record_put(w, DP_REC_STATUS, status_valid(status),
				     DP_STATUS_SIZE, &o);

	if (err)
		return err;
	status_write(&o, status);
	return record_done(w, &o);
}

enum dp_err dp_put_log_end(struct dp_writer *w, const struct dp_log_end *end)
{
	struct wr o;
	enum dp_err err = record_put(w, DP_REC_LOG_END, log_end_valid(end),
				     DP_LOG_END_SIZE, &o);

	if (err)
		return err;
	log_end_write(&o, end);
	return record_done(w, &o);
}

size_t dp_frame_finish(struct dp_writer *w)
{
	if (w->err)
		return 0;
	header_patch_length(w->buf, w->len);
	return w->len;
}

/* ---- §7 INFO ---- */

static bool str_char_ok(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* §7 str: u8 length 1..16, printable ASCII, no NUL on the wire. */
static enum dp_err str_read(struct rd *r, char out[DP_STR_MAX + 1])
{
	uint8_t n = rd_u8(r);
	const uint8_t *s;

	if (r->overrun)
		return DP_ERR_TRUNCATED;
	if (n < 1 || n > DP_STR_MAX)
		return DP_ERR_STRING;
	s = rd_take(r, n);
	if (!s)
		return DP_ERR_TRUNCATED;
	for (size_t i = 0; i < n; i++)
		if (!str_char_ok(s[i]))
			return DP_ERR_STRING;
	memcpy(out, s, n);
	out[n] = '\0';
	return DP_OK;
}

/* Length of a C string held in a DP_STR_MAX + 1 array, or 0 if it is not a
 * valid wire string (empty, unterminated, too long or not printable). */
static size_t str_check(const char s[DP_STR_MAX + 1])
{
	const char *nul = memchr(s, '\0', DP_STR_MAX + 1);
	size_t n;

	if (!nul)
		return 0;
	n = (size_t)(nul - s);
	for (size_t i = 0; i < n; i++)
		if (!str_char_ok((uint8_t)s[i]))
			return 0;
	return n;
}

static bool info_valid(const struct dp_info *info)
{
	return info->needle_um >= 1 && info->needle_um <= 3000 &&
		info->force_scale_pm > 0 &&
		info->ticks_per_10mm > 0 &&
		info->warn_force_cn > 0 &&
		(info->clock_flags == 0 || info->clock_flags == DP_STATUS_CLOCK_SET);
}

enum dp_err dp_info_encode(const struct dp_info *info, uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t n_fw = str_check(info->firmware);
	size_t n_serial = str_check(info->serial);
	size_t n_head = str_check(info->head_serial);
	struct wr w;

	if (!n_fw || !n_serial || !n_head)
		return DP_ERR_STRING;
	if (!info_valid(info))
		return DP_ERR_FIELD;

	wr_init(&w, buf, cap);
	header_put(&w, DP_FRAME_INFO);
	wr_u8(&w, (uint8_t)n_fw);
	wr_bytes(&w, info->firmware, n_fw);
	wr_u8(&w, (uint8_t)n_serial);
	wr_bytes(&w, info->serial, n_serial);
	wr_le16(&w, info->needle_um);
	wr_u8(&w, (uint8_t)n_head);
	wr_bytes(&w, info->head_serial, n_head);
	wr_le16(&w, info->head_uses);
	wr_le64(&w, info->head_fitted_ms);
	wr_le16s(&w, info->force_offset_cn);
	wr_le16(&w, info->force_scale_pm);
	wr_le16(&w, info->ticks_per_10mm);
	wr_le16(&w, info->warn_force_cn);
	wr_le64(&w, info->clock_ms);
	wr_u8(&w, info->clock_flags);
	if (w.overrun)
		return DP_ERR_NO_SPACE;
	*out_len = wr_len(&w, buf);
	header_patch_length(buf, *out_len);
	return DP_OK;
}

enum dp_err dp_info_decode(const uint8_t *buf, size_t len, struct dp_info *info)
{
	struct dp_header hdr;
	struct dp_info out;
	struct rd r;
	enum dp_err err;

	memset(&out, 0, sizeof(out));
	err = frame_open(buf, len, DP_FRAME_INFO, &hdr, &r);
	if (err)
		return err;
	err = str_read(&r, out.firmware);
	if (err)
		return err;
	err = str_read(&r, out.serial);
	if (err)
		return err;
	out.needle_um = rd_le16(&r);
	err = str_read(&r, out.head_serial);
	if (err)
		return err;
	out.head_uses = rd_le16(&r);
	out.head_fitted_ms = rd_le64(&r);
	out.force_offset_cn = rd_le16s(&r);
	out.force_scale_pm = rd_le16(&r);
	out.ticks_per_10mm = rd_le16(&r);
	out.warn_force_cn = rd_le16(&r);
	out.clock_ms = rd_le64(&r);
	out.clock_flags = rd_u8(&r);
	if (r.overrun)
		return DP_ERR_TRUNCATED;
	/* §7: a newer minor may append fields. */
	if (rd_left(&r) && hdr.minor <= DP_PROTO_MINOR)
		return DP_ERR_LENGTH;
	if (!info_valid(&out))
		return DP_ERR_FIELD;
	*info = out;
	return DP_OK;
}

/* ---- §8 Control point ---- */

/* Size of a command's parameters, or -1 for an unknown opcode. */
static int command_params_size(uint8_t opcode)
{
	switch (opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_IDENTIFY:
	case DP_OP_SET_ZONE:
		return 1;
	case DP_OP_STOP_SESSION:
	case DP_OP_ZERO_FORCE:
		return 0;
	case DP_OP_SET_TIME:
		return 8;
	case DP_OP_SYNC_HISTORY:
	case DP_OP_ACK:
		return 4;
	}
	return -1;
}

/* Size of an OK response's parameters, or -1 for an unknown opcode. */
static int response_params_size(uint8_t opcode)
{
	switch (opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_ACK:
	case DP_OP_ZERO_FORCE:
		return 2;
	case DP_OP_STOP_SESSION:
		return 4;
	case DP_OP_SET_TIME:
	case DP_OP_SYNC_HISTORY:
		return 8;
	case DP_OP_IDENTIFY:
	case DP_OP_SET_ZONE:
		return 0;
	}
	return -1;
}

static bool command_valid(const struct dp_command *cmd)
{
	switch (cmd->opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_SET_ZONE:
		return cmd->u.zone >= 1 && cmd->u.zone <= DP_ZONE_MAX;
	case DP_OP_IDENTIFY:
		return cmd->u.seconds >= 1 && cmd->u.seconds <= 30;
	}
	return true;
}

enum dp_err dp_command_encode(const struct dp_command *cmd, uint8_t *buf, size_t cap, size_t *out_len)
{
	struct wr w;

	if (command_params_size(cmd->opcode) < 0)
		return DP_ERR_OPCODE;
	if (!command_valid(cmd))
		return DP_ERR_FIELD;

	wr_init(&w, buf, cap);
	header_put(&w, DP_FRAME_COMMAND);
	wr_u8(&w, cmd->opcode);
	switch (cmd->opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_SET_ZONE:
		wr_u8(&w, cmd->u.zone);
		break;
	case DP_OP_IDENTIFY:
		wr_u8(&w, cmd->u.seconds);
		break;
	case DP_OP_SET_TIME:
		wr_le64(&w, cmd->u.time_ms);
		break;
	case DP_OP_SYNC_HISTORY:
	case DP_OP_ACK:
		wr_le32(&w, cmd->u.seq);
		break;
	}
	if (w.overrun)
		return DP_ERR_NO_SPACE;
	*out_len = wr_len(&w, buf);
	header_patch_length(buf, *out_len);
	return DP_OK;
}

enum dp_err dp_command_decode(const uint8_t *buf, size_t len, struct dp_command *cmd)
{
	struct dp_header hdr;
	struct dp_command out;
	struct rd r;
	enum dp_err err;
	int want;

	memset(&out, 0, sizeof(out));
	err = frame_open(buf, len, DP_FRAME_COMMAND, &hdr, &r);
	if (err)
		return err;
	out.opcode = rd_u8(&r);
	if (r.overrun)
		return DP_ERR_TRUNCATED;
	want = command_params_size(out.opcode);
	if (want < 0)
		return DP_ERR_OPCODE;
	if (rd_left(&r) != (size_t)want)
		return DP_ERR_PARAMS;
	switch (out.opcode) {
	case DP_OP_START_SESSION:
	case DP_OP_SET_ZONE:
		out.u.zone = rd_u8(&r);
		break;
	case DP_OP_IDENTIFY:
		out.u.seconds = rd_u8(&r);
		break;
	case DP_OP_SET_TIME:
		out.u.time_ms = rd_le64(&r);
		break;
	case DP_OP_SYNC_HISTORY:
	case DP_OP_ACK:
		out.u.seq = rd_le32(&r);
		break;
	}
	if (!command_valid(&out))
		return DP_ERR_FIELD;
	*cmd = out;
	return DP_OK;
}

enum dp_err dp_response_encode(const struct dp_response *rsp, uint8_t *buf, size_t cap, size_t *out_len)
{
	struct wr w;

	if (rsp->result > DP_RES_LOG_FULL)
		return DP_ERR_FIELD;
	/* §8: only a non-OK response may echo an opcode we do not know. */
	if (rsp->result == DP_RES_OK && response_params_size(rsp->opcode) < 0)
		return DP_ERR_OPCODE;

	wr_init(&w, buf, cap);
	header_put(&w, DP_FRAME_RESPONSE);
	wr_u8(&w, rsp->opcode);
	wr_u8(&w, rsp->result);
	if (rsp->result == DP_RES_OK) {
		switch (rsp->opcode) {
		case DP_OP_START_SESSION:
			wr_le16(&w, rsp->u.start.session);
			break;
		case DP_OP_STOP_SESSION:
			wr_le16(&w, rsp->u.stop.session);
			wr_le16(&w, rsp->u.stop.passes);
			break;
		case DP_OP_SET_TIME:
			wr_le64(&w, rsp->u.previous_ms);
			break;
		case DP_OP_SYNC_HISTORY:
			wr_le32(&w, rsp->u.sync.first_seq);
			wr_le32(&w, rsp->u.sync.next_seq);
			break;
		case DP_OP_ACK:
			wr_le16(&w, rsp->u.log_count);
			break;
		case DP_OP_ZERO_FORCE:
			wr_le16s(&w, rsp->u.force_offset_cn);
			break;
		}
	}
	if (w.overrun)
		return DP_ERR_NO_SPACE;
	*out_len = wr_len(&w, buf);
	header_patch_length(buf, *out_len);
	return DP_OK;
}

enum dp_err dp_response_decode(const uint8_t *buf, size_t len, struct dp_response *rsp)
{
	struct dp_header hdr;
	struct dp_response out;
	struct rd r;
	enum dp_err err;
	int want;

	memset(&out, 0, sizeof(out));
	err = frame_open(buf, len, DP_FRAME_RESPONSE, &hdr, &r);
	if (err)
		return err;
	out.opcode = rd_u8(&r);
	out.result = rd_u8(&r);
	if (r.overrun)
		return DP_ERR_TRUNCATED;
	if (out.result > DP_RES_LOG_FULL)
		return DP_ERR_FIELD;
	if (out.result != DP_RES_OK) {
		if (rd_left(&r))
			return DP_ERR_PARAMS;
		*rsp = out;
		return DP_OK;
	}
	want = response_params_size(out.opcode);
	if (want < 0)
		return DP_ERR_OPCODE;
	if (rd_left(&r) != (size_t)want)
		return DP_ERR_PARAMS;
	switch (out.opcode) {
	case DP_OP_START_SESSION:
		out.u.start.session = rd_le16(&r);
		break;
	case DP_OP_STOP_SESSION:
		out.u.stop.session = rd_le16(&r);
		out.u.stop.passes = rd_le16(&r);
		break;
	case DP_OP_SET_TIME:
		out.u.previous_ms = rd_le64(&r);
		break;
	case DP_OP_SYNC_HISTORY:
		out.u.sync.first_seq = rd_le32(&r);
		out.u.sync.next_seq = rd_le32(&r);
		break;
	case DP_OP_ACK:
		out.u.log_count = rd_le16(&r);
		break;
	case DP_OP_ZERO_FORCE:
		out.u.force_offset_cn = rd_le16s(&r);
		break;
	}
	*rsp = out;
	return DP_OK;
}

/* ---- §9.2 Advertising payload (manufacturer data) ---- */

enum dp_err dp_adv_encode(const struct dp_adv *adv, uint8_t *buf, size_t cap, size_t *out_len)
{
	struct wr w;

	if (adv->proto_major < 1)
		return DP_ERR_FIELD;
	wr_init(&w, buf, cap);
	wr_u8(&w, adv->flags);
	wr_u8(&w, adv->proto_major);
	if (w.overrun)
		return DP_ERR_NO_SPACE;
	*out_len = DP_ADV_SIZE;
	return DP_OK;
}

/* §9: later versions may append bytes and flags; both are ignored here. */
enum dp_err dp_adv_decode(const uint8_t *buf, size_t len, struct dp_adv *adv)
{
	struct rd r;
	struct dp_adv out;

	rd_init(&r, buf, len);
	out.flags = rd_u8(&r);
	out.proto_major = rd_u8(&r);
	if (r.overrun)
		return DP_ERR_TRUNCATED;
	if (out.proto_major < 1)
		return DP_ERR_FIELD;
	*adv = out;
	return DP_OK;
}

/* ---- §2.2 Current Time (0x2A2B) ---- */

static bool current_time_valid(const struct dp_current_time *ct)
{
	return (ct->year == 0 || (ct->year >= 1582 && ct->year <= 9999)) &&
		ct->month <= 12 && ct->day <= 31 &&
		ct->hours <= 23 && ct->minutes <= 59 && ct->seconds <= 59 &&
		ct->day_of_week <= 7;
}

enum dp_err dp_current_time_encode(const struct dp_current_time *ct, uint8_t *buf, size_t cap, size_t *out_len)
{
	struct wr w;

	if (!current_time_valid(ct))
		return DP_ERR_FIELD;
	wr_init(&w, buf, cap);
	wr_le16(&w, ct->year);
	wr_u8(&w, ct->month);
	wr_u8(&w, ct->day);
	wr_u8(&w, ct->hours);
	wr_u8(&w, ct->minutes);
	wr_u8(&w, ct->seconds);
	wr_u8(&w, ct->day_of_week);
	wr_u8(&w, ct->fractions256);
	wr_u8(&w, ct->adjust_reason);
	if (w.overrun)
		return DP_ERR_NO_SPACE;
	*out_len = DP_CURRENT_TIME_SIZE;
	return DP_OK;
}

enum dp_err dp_current_time_decode(const uint8_t *buf, size_t len, struct dp_current_time *ct)
{
	struct dp_current_time out;
	struct rd r;

	if (len < DP_CURRENT_TIME_SIZE)
		return DP_ERR_TRUNCATED;
	if (len > DP_CURRENT_TIME_SIZE)
		return DP_ERR_LENGTH;
	rd_init(&r, buf, len);
	out.year = rd_le16(&r);
	out.month = rd_u8(&r);
	out.day = rd_u8(&r);
	out.hours = rd_u8(&r);
	out.minutes = rd_u8(&r);
	out.seconds = rd_u8(&r);
	out.day_of_week = rd_u8(&r);
	out.fractions256 = rd_u8(&r);
	out.adjust_reason = rd_u8(&r);
	if (!current_time_valid(&out))
		return DP_ERR_FIELD;
	*ct = out;
	return DP_OK;
}

/*
 * Civil dates by hand: firmware code may not call libc's time functions (no
 * time zone database, often no libc time at all), and timegm() is not C11.
 * Proleptic Gregorian calendar, UTC, no leap seconds.
 */

#define MS_PER_DAY 86400000ULL
#define YEAR_MIN 2020             /* the device epoch */
#define YEAR_MAX 9999             /* the Current Time characteristic's limit */

static bool is_leap(unsigned int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned int days_in_month(unsigned int y, unsigned int m)
{
	static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return mdays[m - 1] + (unsigned int)(m == 2 && is_leap(y));
}

/* Days from 0001-01-01 to January 1st of year y (y >= 1): 365 per year plus
 * one per leap year before it. */
static uint64_t days_before_year(unsigned int y)
{
	uint64_t p = y - 1;

	return 365 * p + p / 4 - p / 100 + p / 400;
}

/* Days before the first of month m (1..12) in year y. */
static unsigned int days_before_month(unsigned int y, unsigned int m)
{
	static const uint16_t cum[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };

	return cum[m - 1] + (unsigned int)(m > 2 && is_leap(y));
}

/* Days from the device epoch to a date in YEAR_MIN..YEAR_MAX. */
static uint64_t epoch_days(unsigned int y, unsigned int m, unsigned int d)
{
	return days_before_year(y) - days_before_year(YEAR_MIN) +
		days_before_month(y, m) + d - 1;
}

void dp_current_time_from_ms(uint64_t device_ms, struct dp_current_time *ct)
{
	uint64_t days = device_ms / MS_PER_DAY;
	uint64_t ms_of_day = device_ms % MS_PER_DAY;
	uint64_t first_of_year;
	unsigned int y, m;

	memset(ct, 0, sizeof(*ct));
	/* Past 9999-12-31 the characteristic cannot say it: "unknown" (all 0). */
	if (days >= epoch_days(YEAR_MAX + 1, 1, 1))
		return;

	/* Estimate the year from the mean Gregorian year (146097 days per 400
	 * years, never overshooting), then step forward to the right one. */
	y = YEAR_MIN + (unsigned int)(days * 400 / 146097);
	if (y > YEAR_MIN)
		y--;
	while (y < YEAR_MAX && epoch_days(y + 1, 1, 1) <= days)
		y++;
	first_of_year = epoch_days(y, 1, 1);
	days -= first_of_year;
	for (m = 1; m < 12 && days >= days_in_month(y, m); m++)
		days -= days_in_month(y, m);

	ct->year = (uint16_t)y;
	ct->month = (uint8_t)m;
	ct->day = (uint8_t)(days + 1);
	ct->hours = (uint8_t)(ms_of_day / 3600000);
	ct->minutes = (uint8_t)(ms_of_day / 60000 % 60);
	ct->seconds = (uint8_t)(ms_of_day / 1000 % 60);
	ct->fractions256 = (uint8_t)(ms_of_day % 1000 * 256 / 1000);
	/* 2020-01-01 was a Wednesday (3); 1 = Monday. */
	ct->day_of_week = (uint8_t)((device_ms / MS_PER_DAY + 2) % 7 + 1);
	ct->adjust_reason = 0;
}

/* §2.2.3: day_of_week and adjust_reason are ignored (the date alone fixes
 * the time); fractions256 adds floor(fractions256 * 1000 / 256) ms. */
enum dp_err dp_current_time_to_ms(const struct dp_current_time *ct, uint64_t *device_ms)
{
	uint64_t days, ms;

	if (!current_time_valid(ct) || ct->year < YEAR_MIN ||
	    ct->month < 1 || ct->day < 1 ||
	    ct->day > days_in_month(ct->year, ct->month))
		return DP_ERR_FIELD;
	days = epoch_days(ct->year, ct->month, ct->day);
	ms = ((days * 24 + ct->hours) * 60 + ct->minutes) * 60 + ct->seconds;
	*device_ms = ms * 1000 + (uint64_t)ct->fractions256 * 1000 / 256;
	return DP_OK;
}
