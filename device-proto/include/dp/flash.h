/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a roller keeps in flash across power cycles (PROTOCOL.md §11.3,
 * §11.4): the unacked offline log, first and next seq, the dropped count,
 * the session counter, the fitted head and the force tare, as one
 * versioned, checksummed byte image.  Bytes in and out through the caller's
 * buffers; no allocation, no I/O: the caller decides where the image lives
 * (a flash page, a file).
 *
 * Image, version 1, every field little-endian, packed:
 *
 *   off  size
 *     0     4  magic "DRFL"
 *     4     2  u16 version (1)
 *     6     4  u32 image length, the CRC included
 *    10     4  u32 log first_seq (>= 1)
 *    14     4  u32 log next_seq (first <= next, next - first <= 4096)
 *    18     2  u16 log dropped
 *    20     2  u16 session counter (last session number handed out, 0: none)
 *    22     2  u16 needle_um (1..3000)
 *    24     2  u16 head_uses
 *    26     8  u64 head_fitted_ms (0: unknown)
 *    34     2  i16 force_offset_cn
 *    36    17  serial: u8 length (1..16), 16 bytes, printable ASCII, zero padded
 *    53    17  head serial, the same way
 *    70  28*n  the n = next - first unacked PASS records, in seq order, each
 *              in the PASS body order of §5.2, with seq first + i
 *  70+28n   4  u32 CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) of
 *              every byte before it
 *
 * So an image is 74 bytes with an empty log and 114762 with a full one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/firmware.h"

#define DP_FLASH_VERSION     1
#define DP_FLASH_HEADER_SIZE 70
#define DP_FLASH_MIN_SIZE    (DP_FLASH_HEADER_SIZE + 4)
#define DP_FLASH_MAX_SIZE    (DP_FLASH_MIN_SIZE + DP_LOG_CAPACITY * DP_PASS_SIZE)

enum dp_flash_err {
	DP_FLASH_OK = 0,
	DP_FLASH_TRUNCATED,          /* shorter than its header or its length field */
	DP_FLASH_MAGIC,              /* not a roller flash image at all */
	DP_FLASH_VERSION_UNKNOWN,    /* an image version this code does not read */
	DP_FLASH_LENGTH,             /* bytes after the image's end */
	DP_FLASH_CHECKSUM,           /* CRC-32 mismatch: the bytes were damaged */
	DP_FLASH_FIELD,              /* checksum fine but a field out of range or
				      * inconsistent with another */
	DP_FLASH_NO_SPACE,           /* save: the buffer is too small */
	DP_FLASH_ERR_COUNT_,         /* number of codes; not an error */
};

/* A short English phrase for the code, e.g. "bad checksum". */
const char *dp_flash_strerror(enum dp_flash_err err);

/* CRC-32 of buf, continued from crc (0 to start). */
uint32_t dp_flash_crc32(uint32_t crc, const uint8_t *buf, size_t len);

/* Bytes dp_fw_flash_save() writes for fw as it is now. */
size_t dp_fw_flash_size(const struct dp_fw *fw);

/* Writes fw's persistent state into buf.  NO_SPACE (nothing promised
 * about buf) when cap < dp_fw_flash_size(fw). */
enum dp_flash_err dp_fw_flash_save(const struct dp_fw *fw, uint8_t *buf, size_t cap,
				   size_t *out_len);

/* Checks an image without touching any roller. */
enum dp_flash_err dp_flash_check(const uint8_t *buf, size_t len);

/*
 * Restores the persistent state of an image into fw, which must come
 * straight from dp_fw_init() (no sample, no link yet): the log, its seqs
 * and dropped count, the session counter, the serial, the head and the
 * tare.  What flash does not keep (state, session, clock, battery) stays as
 * dp_fw_init() set it: power loss ends any session (§11.3).  The bytes are
 * never trusted: on any error fw is left exactly as it was.
 */
enum dp_flash_err dp_fw_flash_load(struct dp_fw *fw, const uint8_t *buf, size_t len);
