/*
 * boxes: the one reader of MP4/QuickTime (ISO BMFF) box headers, used by
 * every box walker in the library (media_boxes.c: capture facts;
 * transcode/location.c: the stored location; transcode/complete.c and
 * transcode/conform.c: the top-level structure).
 *
 * An iterator walks the boxes of one byte range, held in memory or read
 * through a callback (a FILE, an ev_io, ...). Each step reads one header:
 * the 32-bit size and type, the 64-bit "largesize" when the size is 1, and
 * size 0 meaning "to the end of the range". A box claiming more than its
 * range holds is refused (EV_MEDIA__BOX_BEYOND), or, with
 * EV_MEDIA__BOX_CLIP, cut at the range's end as libavformat reads it.
 * Reads never leave the range: a header is read only when the range holds
 * it. Sizes are claims from the file and are checked before any use.
 *
 * Not part of any API. Thread-safety: an iterator is used by one thread.
 */
#ifndef EV_MEDIA_BOXES_H
#define EV_MEDIA_BOXES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read len bytes at offset off into buf; true when all of them were read. */
typedef bool (*ev_media__box_read_fn)(void *ctx, uint64_t off, uint8_t *buf, size_t len);

/* One box header. On EV_MEDIA__BOX_OK every field is set; on an error,
 * start is set, and when hlen != 0 also type/fourcc and (for
 * EV_MEDIA__BOX_SMALL and _BEYOND) size. */
typedef struct ev_media__box {
    uint64_t start;     /* offset of the header */
    uint64_t payload;   /* offset of the body: start + hlen */
    uint64_t end;       /* offset just after the box (cut at the range's end
                           with EV_MEDIA__BOX_CLIP) */
    uint64_t size;      /* size as stored (64-bit largesize resolved; size 0
                           resolved to the rest of the range) */
    uint32_t type;      /* the four-character code, big-endian */
    uint8_t fourcc[4];  /* the same bytes as stored (not NUL-terminated) */
    unsigned hlen;      /* 8, or 16 with a largesize; 0 when not even the
                           8-byte header could be read */
} ev_media__box;

/* Flags of an iterator. */
#define EV_MEDIA__BOX_CLIP 1u /* a box larger than the range is cut at its end */

typedef struct ev_media__box_iter {
    ev_media__box_read_fn read; /* NULL: the range is in memory (buf) */
    void *ctx;
    const uint8_t *buf;         /* memory: offsets are relative to buf */
    uint64_t pos, end;          /* next header, end of the range */
    uint32_t flags;             /* EV_MEDIA__BOX_* */
} ev_media__box_iter;

/* ev_media__box_next results. */
typedef enum ev_media__box_status {
    EV_MEDIA__BOX_OK = 0,
    EV_MEDIA__BOX_END = 1,     /* the range is used up (pos == end) */
    EV_MEDIA__BOX_CUT = -1,    /* the header is cut short or unreadable: fewer
                                  than 8 bytes left, or the 64-bit size cut
                                  short (hlen 0 when the type is unknown) */
    EV_MEDIA__BOX_SMALL = -2,  /* the stored size is smaller than its header */
    EV_MEDIA__BOX_BEYOND = -3  /* the box claims more than the range holds */
} ev_media__box_status;

/* Iterate the boxes of n bytes in memory (p must outlive the iterator). */
void ev_media__box_iter_mem(ev_media__box_iter *it, const uint8_t *p, size_t n);

/* Iterate the boxes of [start, end), read through read(ctx, ...). */
void ev_media__box_iter_io(ev_media__box_iter *it, ev_media__box_read_fn read, void *ctx,
                           uint64_t start, uint64_t end);

/* Iterate the children of box b (its body [b->payload, b->end)), read the
 * way parent reads, with the parent's flags. */
void ev_media__box_iter_children(ev_media__box_iter *child, const ev_media__box_iter *parent,
                                 const ev_media__box *b);

/* Read the next box header into *out. On EV_MEDIA__BOX_OK the iterator
 * moves to out->end; otherwise it stays (it->pos is the offending box). */
ev_media__box_status ev_media__box_next(ev_media__box *out, ev_media__box_iter *it);

/* A read callback over a stdio stream: ctx is a FILE * (fseeko + fread). */
bool ev_media__box_read_stdio(void *ctx, uint64_t off, uint8_t *buf, size_t len);

#endif
