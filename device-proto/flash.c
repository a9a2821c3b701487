/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The roller's flash image (dp/flash.h): the state PROTOCOL.md §11.3 and
 * §11.4 say survives power loss, in and out of a byte buffer.  Loading
 * trusts nothing: every read is bounds-checked, every field range-checked,
 * and the roller is only changed once the whole image has passed.
 */
#include <stdint.h>
#include <string.h>

#include "dp/flash.h"

static const uint8_t magic[4] = { 'D', 'R', 'F', 'L' };

#define OFF_VERSION   4
#define OFF_LENGTH    6
#define OFF_FIRST     10
#define OFF_NEXT      14
#define OFF_DROPPED   18
#define OFF_SESSION   20
#define OFF_NEEDLE    22
#define OFF_USES      24
#define OFF_FITTED    26
#define OFF_TARE      34
#define OFF_SERIAL    36
#define OFF_HEAD      53
#define STR_FIELD     (1 + DP_STR_MAX)

_Static_assert(OFF_HEAD + STR_FIELD == DP_FLASH_HEADER_SIZE, "flash header layout");

const char *dp_flash_strerror(enum dp_flash_err err)
{
	switch (err) {
	case DP_FLASH_OK:
		return "no error";
	case DP_FLASH_TRUNCATED:
		return "truncated";
	case DP_FLASH_MAGIC:
		return "not a roller flash image";
	case DP_FLASH_VERSION_UNKNOWN:
		return "unknown image version";
	case DP_FLASH_LENGTH:
		return "bytes after the end of the image";
	case DP_FLASH_CHECKSUM:
		return "bad checksum";
	case DP_FLASH_FIELD:
		return "a field out of range or inconsistent";
	case DP_FLASH_NO_SPACE:
		return "buffer too small";
	case DP_FLASH_ERR_COUNT_:
		break;
	}
	return "unknown error";
}

/*
 * CRC-32 (IEEE 802.3, polynomial 0xEDB88320 reflected), bit by bit.  Written
 * here because firmware code has no zlib; a 1 KiB table would be faster but
 * a roller writes its flash a few times a minute, and RAM is scarcer than
 * cycles on its microcontroller.
 */
uint32_t dp_flash_crc32(uint32_t crc, const uint8_t *buf, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* ---- Little-endian helpers: callers have checked the bounds ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- Strings: u8 length, then DP_STR_MAX bytes zero padded ---- */

static void put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	if (n > DP_STR_MAX)
		n = DP_STR_MAX;
	memset(p, 0, STR_FIELD);
	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
}

static bool str_valid(const uint8_t *p)
{
	uint8_t n = p[0];

	if (n < 1 || n > DP_STR_MAX)
		return false;
	for (size_t i = 0; i < DP_STR_MAX; i++) {
		uint8_t c = p[1 + i];

		if (i < n ? c < 0x20 || c > 0x7e : c != 0)
			return false;
	}
	return true;
}

static void get_str(char out[DP_STR_MAX + 1], const uint8_t *p)
{
	memcpy(out, p + 1, p[0]);
	out[p[0]] = '\0';
}

/* ---- PASS records, in the §5.2 body order ---- */

static void put_pass(uint8_t *p, const struct dp_pass *r)
{
	put32(p, r->seq);
	put64(p + 4, r->start_ms);
	put16(p + 12, r->duration_ms);
	put16(p + 14, r->distance_mm);
	p[16] = r->direction;
	p[17] = r->angle_deg;
	put16(p + 18, r->mean_force_cn);
	put16(p + 20, r->peak_force_cn);
	put16(p + 22, r->over_warn_ms);
	put16(p + 24, r->session);
	p[26] = r->zone;
	p[27] = r->flags;
}

static void get_pass(const uint8_t *p, struct dp_pass *r)
{
	r->seq = get32(p);
	r->start_ms = get64(p + 4);
	r->duration_ms = get16(p + 12);
	r->distance_mm = get16(p + 14);
	r->direction = p[16];
	r->angle_deg = p[17];
	r->mean_force_cn = get16(p + 18);
	r->peak_force_cn = get16(p + 20);
	r->over_warn_ms = get16(p + 22);
	r->session = get16(p + 24);
	r->zone = p[26];
	r->flags = p[27];
}

/* The ranges of §5.2: a record the roller could not stream or sync is not
 * one it logged. */
static bool pass_valid(const struct dp_pass *r, uint32_t seq)
{
	return r->seq == seq &&
		(r->direction == DP_DIR_FORWARD || r->direction == DP_DIR_BACKWARD) &&
		r->angle_deg <= 179 &&
		r->peak_force_cn >= r->mean_force_cn &&
		r->over_warn_ms <= r->duration_ms &&
		r->zone <= DP_ZONE_MAX &&
		!(r->flags & ~DP_PASS_FLAGS_ALL);
}

/* ---- Save ---- */

size_t dp_fw_flash_size(const struct dp_fw *fw)
{
	return DP_FLASH_MIN_SIZE + dp_log_count(&fw->log) * DP_PASS_SIZE;
}

enum dp_flash_err dp_fw_flash_save(const struct dp_fw *fw, uint8_t *buf, size_t cap,
				   size_t *out_len)
{
	size_t len = dp_fw_flash_size(fw);
	size_t at = DP_FLASH_HEADER_SIZE;

	*out_len = 0;
	if (cap < len)
		return DP_FLASH_NO_SPACE;
	memcpy(buf, magic, sizeof(magic));
	put16(buf + OFF_VERSION, DP_FLASH_VERSION);
	put32(buf + OFF_LENGTH, (uint32_t)len);
	put32(buf + OFF_FIRST, fw->log.first_seq);
	put32(buf + OFF_NEXT, fw->log.next_seq);
	put16(buf + OFF_DROPPED, fw->log.dropped);
	put16(buf + OFF_SESSION, fw->session_counter);
	put16(buf + OFF_NEEDLE, fw->cfg.needle_um);
	put16(buf + OFF_USES, fw->cfg.head_uses);
	put64(buf + OFF_FITTED, fw->cfg.head_fitted_ms);
	put16(buf + OFF_TARE, (uint16_t)fw->force_offset_cn);
	put_str(buf + OFF_SERIAL, fw->serial);
	put_str(buf + OFF_HEAD, fw->head_serial);
	for (uint32_t seq = fw->log.first_seq; seq != fw->log.next_seq; seq++) {
		put_pass(buf + at, dp_log_get(&fw->log, seq));
		at += DP_PASS_SIZE;
	}
	put32(buf + at, dp_flash_crc32(0, buf, at));
	*out_len = len;
	return DP_FLASH_OK;
}

/* ---- Load ---- */

enum dp_flash_err dp_flash_check(const uint8_t *buf, size_t len)
{
	uint32_t image_len, first, next;
	size_t count, body;

	/* Magic and version first, so a foreign file says what it is even
	 * when it is short. */
	if (len < sizeof(magic))
		return DP_FLASH_TRUNCATED;
	if (memcmp(buf, magic, sizeof(magic)) != 0)
		return DP_FLASH_MAGIC;
	if (len < OFF_VERSION + 2)
		return DP_FLASH_TRUNCATED;
	if (get16(buf + OFF_VERSION) != DP_FLASH_VERSION)
		return DP_FLASH_VERSION_UNKNOWN;
	if (len < OFF_LENGTH + 4)
		return DP_FLASH_TRUNCATED;
	image_len = get32(buf + OFF_LENGTH);
	if (image_len > len)
		return DP_FLASH_TRUNCATED;
	if (image_len < len)
		return DP_FLASH_LENGTH;
	if (len < DP_FLASH_MIN_SIZE)
		return DP_FLASH_FIELD;
	body = len - 4;
	if (dp_flash_crc32(0, buf, body) != get32(buf + body))
		return DP_FLASH_CHECKSUM;

	/* The checksum only says the bytes are those written; what was
	 * written is checked all the same. */
	first = get32(buf + OFF_FIRST);
	next = get32(buf + OFF_NEXT);
	if (first < 1 || next < first || next - first > DP_LOG_CAPACITY)
		return DP_FLASH_FIELD;
	count = next - first;
	if (body != DP_FLASH_HEADER_SIZE + count * DP_PASS_SIZE)
		return DP_FLASH_FIELD;
	if (get16(buf + OFF_NEEDLE) < 1 || get16(buf + OFF_NEEDLE) > 3000)
		return DP_FLASH_FIELD;
	if (!str_valid(buf + OFF_SERIAL) || !str_valid(buf + OFF_HEAD))
		return DP_FLASH_FIELD;
	for (size_t i = 0; i < count; i++) {
		struct dp_pass r;

		get_pass(buf + DP_FLASH_HEADER_SIZE + i * DP_PASS_SIZE, &r);
		if (!pass_valid(&r, first + (uint32_t)i))
			return DP_FLASH_FIELD;
	}
	return DP_FLASH_OK;
}

enum dp_flash_err dp_fw_flash_load(struct dp_fw *fw, const uint8_t *buf, size_t len)
{
	enum dp_flash_err err = dp_flash_check(buf, len);
	uint32_t first, next;
	uint16_t raw_tare;
	int16_t tare;

	if (err != DP_FLASH_OK)
		return err;
	raw_tare = get16(buf + OFF_TARE);
	tare = raw_tare > INT16_MAX ? (int16_t)((int32_t)raw_tare - 65536) : (int16_t)raw_tare;
	first = get32(buf + OFF_FIRST);
	next = get32(buf + OFF_NEXT);
	for (uint32_t seq = first; seq != next; seq++)
		get_pass(buf + DP_FLASH_HEADER_SIZE + (size_t)(seq - first) * DP_PASS_SIZE,
			 &fw->log.rec[seq % DP_LOG_CAPACITY]);
	fw->log.first_seq = first;
	fw->log.next_seq = next;
	fw->log.dropped = get16(buf + OFF_DROPPED);
	fw->session_counter = get16(buf + OFF_SESSION);
	fw->cfg.needle_um = get16(buf + OFF_NEEDLE);
	fw->cfg.head_uses = get16(buf + OFF_USES);
	fw->cfg.head_fitted_ms = get64(buf + OFF_FITTED);
	fw->force_offset_cn = tare;
	get_str(fw->serial, buf + OFF_SERIAL);
	get_str(fw->head_serial, buf + OFF_HEAD);
	/* The live stream starts from what is logged now (§11.5). */
	fw->stream_pass_seq = next;
	return DP_FLASH_OK;
}
