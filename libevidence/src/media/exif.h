/*
 * exif: find the EXIF block and the XMP packet of a still (JPEG APP1, PNG
 * eXIf / iTXt, TIFF and TIFF-based raws read in place by IFD offsets, HEIF
 * 'Exif' and XMP 'mime' items) and turn them into capture facts.
 * Private to the media module.
 */
#ifndef EV_EXIF_H
#define EV_EXIF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/common.h"

/* Container families recognised by their first bytes. */
typedef enum ev_exif_container {
    EV_EXIF_NONE = 0,
    EV_EXIF_JPEG,
    EV_EXIF_PNG,
    EV_EXIF_TIFF,
    EV_EXIF_HEIF
} ev_exif_container;

/* Largest EXIF block accepted (PNG eXIf, HEIF Exif item). TIFF files are
 * not read whole: their IFDs are read where the offsets point. */
#define EV_EXIF_MAX_BLOCK (32u * 1024 * 1024)

/* Recognise a container from its first bytes (n >= 12 recommended). TIFF,
 * BigTIFF, ORF ("IIRO", "IIRS", "MMOR") and RW2 ("IIU\0") are EV_EXIF_TIFF. */
ev_exif_container ev_exif__sniff(const uint8_t *head, size_t n);

/*
 * Find the EXIF block. On EV_OK *out is a malloc'd block that starts with
 * "Exif\0\0" followed by the TIFF structure (free with free()), and *where
 * names its origin ("jpeg-app1", "png-exif", "heif-exif-item"). A TIFF
 * file has no block (EV_ENOTFOUND; ev_exif__still reads it in place).
 * EV_ENOTFOUND: no EXIF (reason in why). EV_EIO / EV_ECANCELED / EV_ENOMEM:
 * fatal, from the io or the allocator. The io position is left anywhere.
 */
int ev_exif__extract(uint8_t **out, size_t *out_len, const char **where,
                     const ev_io *io, ev_exif_container c, char *why, size_t whylen);

/*
 * Parse an EXIF block (starting with "Exif\0\0" or directly with a TIFF
 * header) into capture facts: dates with their zone basis, make, model,
 * serial, GPS (exact rationals, decimal degrees, precision), orientation,
 * each with capture.sources. *out is NULL when nothing useful was found.
 * Returns EV_OK or EV_ENOMEM; parser complaints go into capture.warnings.
 */
int ev_exif__capture(json_t **out, const uint8_t *data, size_t len);

/*
 * Everything a still says about its capture: EXIF, and XMP where EXIF is
 * silent. capture: the facts (NULL when none), with exif_location when
 * EXIF was read. exif_blk, exif_len: the EXIF block to keep (JPEG, PNG,
 * HEIF; NULL for TIFF, whose file is the structure). why: why no EXIF was
 * read (empty when it was). Returns EV_OK, or EV_EIO / EV_ECANCELED /
 * EV_ENOMEM from the io or the allocator.
 */
int ev_exif__still(json_t **capture, uint8_t **exif_blk, size_t *exif_len, const ev_io *io,
                   ev_exif_container c, char *why, size_t whylen);

/* Text for EXIF orientation 1..8 (exiftool wording), or NULL. */
const char *ev_exif__orientation_text(int o);

#endif
