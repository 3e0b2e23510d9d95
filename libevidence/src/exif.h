/*
 * exif: find the EXIF block of a still (JPEG APP1, PNG eXIf, TIFF IFDs,
 * HEIF 'Exif' item) and turn it into capture facts with libexif.
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

/* Largest EXIF block accepted (also the largest TIFF read whole). */
#define EV_EXIF_MAX_BLOCK (32u * 1024 * 1024)

/* Recognise a container from its first bytes (n >= 12 recommended). */
ev_exif_container ev_exif__sniff(const uint8_t *head, size_t n);

/*
 * Find the EXIF block. On EV_OK *out is a malloc'd block that starts with
 * "Exif\0\0" followed by the TIFF structure (free with free()), and *where
 * names its origin ("jpeg-app1", "png-exif", "tiff", "heif-exif-item").
 * EV_ENOTFOUND: no EXIF (reason in why). EV_EIO / EV_ECANCELED / EV_ENOMEM:
 * fatal, from the io or the allocator. The io position is left anywhere.
 */
int ev_exif__extract(uint8_t **out, size_t *out_len, const char **where,
                     const ev_io *io, ev_exif_container c, char *why, size_t whylen);

/*
 * Parse an EXIF block (starting with "Exif\0\0" or directly with the TIFF
 * header "II*\0"/"MM\0*") into capture facts: date/time original with UTC
 * offset, make, model, serial, GPS (decimal degrees plus raw values),
 * orientation. *out is NULL when nothing useful was found. Returns EV_OK or
 * EV_ENOMEM; parser complaints go into capture.warnings.
 */
int ev_exif__capture(json_t **out, const uint8_t *data, size_t len);

/* Text for EXIF orientation 1..8 (exiftool wording), or NULL. */
const char *ev_exif__orientation_text(int o);

#endif
