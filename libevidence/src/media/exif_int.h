/*
 * Private to exif.c and exif_blocks.c: positioned reads over an ev_io and
 * the EXIF block / XMP packet found in a container.
 */
#ifndef EV_EXIF_INT_H
#define EV_EXIF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "media/exif.h"

/* "Exif\0\0", the header of an EXIF block in a JPEG APP1 segment */
extern const uint8_t ev_exif__hdr[6];

/* Positioned reads over an ev_io */
typedef struct ev_exif__rd {
    const ev_io *io;
    uint64_t pos;    /* where the io is now */
    int fatal;       /* EV_EIO / EV_ECANCELED once the io failed */
} ev_exif__rd;

/* Read up to n bytes at off. Returns bytes read (short at end of file), or
 * -1 when the position cannot be reached (no seek) or the io failed (then
 * r->fatal is set). */
int64_t ev_exif__rd_at(ev_exif__rd *r, uint64_t off, void *buf, size_t n);

/* What a container holds: the EXIF block and the XMP packet */
typedef struct ev_exif__blocks {
    uint8_t *exif; /* "Exif\0\0" + TIFF structure */
    size_t exif_len;
    uint8_t *xmp; /* the XMP packet as stored */
    size_t xmp_len;
    const char *xmp_where;
    char xmp_why[160]; /* an XMP packet seen but not read */
} ev_exif__blocks;

void ev_exif__blocks_free(ev_exif__blocks *b);
/* The blocks of a JPEG, PNG or HEIF file. EV_OK (b->exif and b->xmp may
 * still be NULL), EV_ENOTFOUND (why set), EV_ENOMEM, EV_EIO, EV_ECANCELED. */
int ev_exif__extract_blocks(ev_exif__blocks *b, ev_exif__rd *r, ev_exif_container c, char *why,
                            size_t whylen);
/* The exif_location value for a container family, or NULL. */
const char *ev_exif__where_of(ev_exif_container c);

#endif
